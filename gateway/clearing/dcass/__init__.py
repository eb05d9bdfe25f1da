"""DCASS: the listed-derivatives clearing module of the core (HKCC futures and options, SEOCH
stock options). Pure and deterministic; see docs/guides/dcass.md.

``DcassModule`` plugs into :class:`gateway.clearing.core.ClearingCore`::

    core = ClearingCore(start, calendar, [DcassFactory(reference)])   # gateway.clearing.modules

The gateway loads the calendar and the reference data (``gateway.refdata``) and hands them in.
"""
from . import errors
from .commands import (Allocation, AnnulExercise, CloseOut, ConfirmGiveUp, DenyExercise, GiveUpTrade, InjectDeal,
                       InjectDeals, OpenAccount, OpenCloseAdjustment, RectifyTrade, RejectGiveUp, RequestExercise,
                       SetSettlementPrice, SetUnderlyingPrice, TransferFromTransitory, TransferPosition)
from .events import (AccountOpened, AssignmentEvent, DeliveryObligationEvent, ExerciseEvent, GiveUpEvent,
                     MarginChanged, MoneyObligationEvent, PositionChanged, SettlementPriceSet, TradeChanged,
                     TradeEvent, UnderlyingPriceSet)
from .model import (AccountType, CallPut, DealKind, DeliveryDirection, ExerciseState, GiveUpState, InstrumentKind,
                    OpenClose, Side, TradeState)
from .module import DcassModule
from .queries import (AccountInfo, AccountsQuery, Booked, ClearingHouseInfo, ClearingHousesQuery, DeliveryInfo,
                      DeliveryObligationsQuery, ExerciseInfo, ExercisesQuery, GiveUpInfo, GiveUpsQuery,
                      InstrumentClassesQuery, InstrumentClassInfo, MarginQuery, MissingTradesQuery,
                      MoneyObligationInfo, MoneyObligationsQuery, ParticipantInfo, ParticipantsQuery, PositionInfo,
                      PositionsQuery, SeriesInfo, SeriesQuery, SettlementPriceInfo, SettlementPricesQuery,
                      ShortCallPosition, TradeHistoryQuery, TradeInfo, TradesQuery, UnderlyingInfo, UnderlyingsQuery)
from .refdata import pack_series_key, unpack_series_key

__all__ = [n for n in dir() if not n.startswith("_")]
