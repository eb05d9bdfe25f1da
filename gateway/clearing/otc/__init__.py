"""OTC Clear settlement: the pure core module and its messages.

Use ``ClearingCore(start, calendar, [OtcFactory(params)])`` (``gateway.clearing.modules``; the
gateway loads the calendar and the parameters: ``gateway.refdata``). The guide is
docs/guides/otc-clear.md; the business codes are in :mod:`.errors` (band -900xxx).
"""
from . import errors
from .commands import (ChargeFee, ConfirmPayment, DepositNonCash, IssueParticipatingMarginCall, MarkPaymentSettled,
                       RegisterCcs, RegisterIrs, RegisterNdf, RequestCashDeposit, RequestCashWithdrawal,
                       RunIntradayVmCall, SetFxRate, SetGuaranteeFundRequirement, SetMarginRequirement, SetMtm,
                       SetPaiRate, SetRateFixing, SubmitPvpInstruction, WithdrawNonCash)
from .events import (FxRateSet, GuaranteeFundRequirementSet, MarginRequirementSet, MtmSet, NonCashCollateralMoved,
                     OtcTradeRegistered, PaiRateSet, PaymentInstructionIssued, PaymentLate, PaymentSettled,
                     PvpStatusChanged, RateFixingSet, SettlementItemCreated)
from .model import (CollateralAccount, Direction, Fixing, PaymentInstruction, PaymentState, Pvp, PvpState,
                    SettlementItem, SettlementType, Trade)
from .funding import AddTradePayment, MemberBank, MemberBanksQuery, PvpFundingSet, SetPvpFunding
from .module import OtcClearModule
from .queries import (CollateralAnswer, CollateralHolding, CollateralQuery, GuaranteeFundAnswer, GuaranteeFundQuery, OtcMembersQuery,
                      OtcRatesQuery, OtcTradesQuery, PaymentInstructionsQuery, PvpQuery, RatesAnswer, RoutingRow,
                      SettlementAccountsQuery, SettlementItemsQuery, TradeAnswer)

__all__ = [
    "OtcClearModule", "errors",
    # commands
    "RegisterNdf", "RegisterIrs", "RegisterCcs", "SetRateFixing", "SetMtm", "SetPaiRate", "SetFxRate",
    "RunIntradayVmCall", "SetMarginRequirement", "SetGuaranteeFundRequirement", "ChargeFee",
    "IssueParticipatingMarginCall", "MarkPaymentSettled", "ConfirmPayment", "SubmitPvpInstruction",
    "RequestCashDeposit", "RequestCashWithdrawal", "DepositNonCash", "WithdrawNonCash", "SetPvpFunding",
    "AddTradePayment", "MemberBanksQuery", "MemberBank", "PvpFundingSet",
    # queries and answers
    "OtcMembersQuery", "OtcTradesQuery", "SettlementItemsQuery", "PaymentInstructionsQuery", "PvpQuery",
    "CollateralQuery", "GuaranteeFundQuery", "SettlementAccountsQuery", "OtcRatesQuery", "TradeAnswer",
    "CollateralAnswer", "CollateralHolding", "GuaranteeFundAnswer", "RoutingRow", "RatesAnswer",
    # events
    "OtcTradeRegistered", "RateFixingSet", "MtmSet", "SettlementItemCreated", "PaymentInstructionIssued",
    "PaymentSettled", "PaymentLate", "PvpStatusChanged", "MarginRequirementSet", "NonCashCollateralMoved",
    "GuaranteeFundRequirementSet", "PaiRateSet", "FxRateSet",
    # records
    "SettlementType", "Direction", "PaymentState", "PvpState", "Trade", "Fixing", "SettlementItem",
    "PaymentInstruction", "Pvp", "CollateralAccount",
]
