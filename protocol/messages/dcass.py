"""DCASS messages: listed-derivatives clearing (HKCC futures/options, SEOCH stock options).

Families: CC/CD transactions, CQ/CA queries and answers, DQ/DA reference data, BD dedicated
broadcasts, BI public broadcasts, EC1xx operator transactions. Public OMnet numbers are kept where
known (CD35 give-up, CC38 confirm, CC40 reject, CC13 exercise, CC15 annul, CC14 deny, CD5 transfer
from transitory, CD28 rectify, CD34 transfer position, CD54 close-out, CQ3 positions, CQ10 missing
trades, CQ11 trades, CQ21 exercises, CQ38 accounts, CQ61 give-ups, BD6 trade, BD29 give-up, BD39
trade change, BD40 position); the others are ours (100-199). Money: int64 cents (2 decimals, every
currency). Prices and strikes: int32 in the instrument class's decimals (DQ101). Quantities:
int64 contracts. Dates YYYYMMDD, times HHMMSS. See docs/guides/dcass.md.
"""
from __future__ import annotations

import enum

from ..codec import I32, I64, U8, U16, U32, Bool, Code, Date, Filler, Items, Nested, Struct, Text, Time, record
from ..kinds import Kind
from ..registry import message
from ..series_names import parse_series_key

SECTION = "dcass"


# ====================================================================== enumerations (wire values)
class Side(enum.IntEnum):
    BUY = 1
    SELL = 2


class OpenClose(enum.IntEnum):
    OPEN = 1
    CLOSE = 2


class AccountType(enum.IntEnum):
    HOUSE = 1
    MARKET_MAKER = 2
    OMNIBUS_CLIENT = 3
    INDIVIDUAL_CLIENT = 4
    DAILY = 5
    SINK = 6


class DealSource(enum.IntEnum):
    EXCHANGE = 1
    GIVE_UP = 2
    RECTIFY = 3
    TRANSITORY = 4
    POSITION_TRANSFER = 5
    OPEN_CLOSE = 6
    CLOSE_OUT = 7
    SINK = 8


class TradeState(enum.IntEnum):
    ACTIVE = 1
    PARTLY_ADJUSTED = 2
    ADJUSTED = 3
    REVERSAL = 4


class GiveUpState(enum.IntEnum):
    PENDING = 1
    CONFIRMED = 2
    REJECTED = 3
    EXPIRED = 4


class ExerciseState(enum.IntEnum):
    PENDING = 1
    ANNULLED = 2
    PROCESSED = 3
    REJECTED = 4


class InstrumentKind(enum.IntEnum):
    FUTURE = 1
    OPTION = 2


class CallPut(enum.IntEnum):
    NONE = 0
    CALL = 1
    PUT = 2


class DeliveryDirection(enum.IntEnum):
    RECEIVE = 1
    DELIVER = 2


# ====================================================================== records
SeriesKey = record("series_key", Struct(
    "country" / U8 * "Country code (1 = Hong Kong)",
    "market" / U8 * "Market (1 = HKCC, 2 = SEOCH)",
    "instrument_group" / U8 * "Instrument group (1 call, 2 put, 3 future)",
    "modifier" / U8 * "Modifier (0 = standard contract)",
    "commodity" / U16 * "Underlying code: stock code for stocks (700 = 0700), 10000+ otherwise",
    "expiration_date" / U16 * "Expiry: days since 1990-01-01 (our packing)",
    "strike_price" / I32 * "Strike price in the class's strike decimals (0 for futures)",
), "12-byte OMnet-style series key (layout owned by DCASS, docs/guides/dcass.md). All zero: any series.")
# SeriesKey.parse("HSI DEC26", items): the key of a series named as people name it, matched against the
# server's series list (DA102 items); see protocol/series_names.py for why a name needs that list.
SeriesKey.parse = classmethod(parse_series_key)

AllocationItem = record("allocation_item", Struct(
    "account_id" / Text(16) * "Destination account of the participant",
    "quantity" / I64 * "Contracts (> 0)",
    "open_close" / Code(OpenClose) * "Open or close in the destination account",
    Filler(3),
), "One allocation of a take-up (CC38) or a rectification (CD28).")

TradeNumberItem = record("trade_number_item", Struct(
    "deal_number" / U32 * "Deal the trade belongs to",
    "trade_number" / U32 * "New trade number",
), "A trade created by a transaction.")

TradeItem = record("trade_item", Struct(
    "trade_number" / U32 * "Trade number",
    "deal_number" / U32 * "Deal number",
    "sequence_number" / U32 * "The owner's trade sequence number of the business date (from 1)",
    "orig_trade_number" / U32 * "Trade this one adjusts (0: none)",
    "series" / Nested(SeriesKey) * "Series",
    "series_symbol" / Text(20) * "Series name, e.g. TCH DEC26 480.00 C",
    "account_id" / Text(16) * "Account",
    "deal_price" / I32 * "Price in the class's price decimals",
    "quantity" / I64 * "Contracts",
    "side" / Code(Side) * "Bought or sold",
    "open_close" / Code(OpenClose) * "Open or close",
    "deal_source" / Code(DealSource) * "Exchange match or the adjustment that created it",
    "state" / Code(TradeState) * "Adjustment state",
    "available_quantity" / I64 * "Quantity still adjustable (not moved, not in a pending give-up)",
    "business_date" / Date * "Business (clearing) date",
    "created_date" / Date * "Creation date",
    "created_time" / Time * "Creation time",
    Filler(2),
), "A trade (one side of a deal).")

GiveUpItem = record("give_up_item", Struct(
    "give_up_number" / U32 * "Give-up number",
    "trade_number" / U32 * "Trade given up",
    "sequence_number" / U32 * "Owner's give-up broadcast sequence number of the date (BD29; 0 in CA61)",
    "state" / Code(GiveUpState) * "State",
    "side" / Code(Side) * "Side of the trade given up",
    Filler(2),
    "series" / Nested(SeriesKey) * "Series",
    "series_symbol" / Text(20) * "Series name",
    "giver" / Text(8) * "Giving participant",
    "receiver" / Text(8) * "Receiving participant",
    "deal_price" / I32 * "Price of the trade",
    "quantity" / I64 * "Contracts given up",
    "text" / Text(32, truncate=True) * "Giver's text",
    "reason" / Text(32, truncate=True) * "Rejection or expiry reason",
    "business_date" / Date * "Business date",
    "created_time" / Time * "Time entered",
    "answered_time" / Time * "Time confirmed/rejected/expired (blank: pending)",
), "A give-up.")

PositionItem = record("position_item", Struct(
    "account_id" / Text(16) * "Account",
    "account_type" / Code(AccountType) * "Account type",
    Filler(3),
    "clearing_house" / Text(8) * "HKCC or SEOCH",
    "series" / Nested(SeriesKey) * "Series",
    "series_symbol" / Text(20) * "Series name",
    "long" / I64 * "Long (held) contracts",
    "short" / I64 * "Short (written) contracts",
    "exercise_pending" / I64 * "Contracts in pending exercise requests",
    "exercised" / I64 * "Contracts exercised (processed)",
    "assigned" / I64 * "Contracts assigned",
    "covered" / I64 * "Short calls covered by specific stock (set by CCMS)",
    "deny_exercise" / I64 * "Contracts automatic exercise must leave alone",
), "One account's position in one series.")

MarginItem = record("margin_item", Struct(
    "account_id" / Text(16) * "Account",
    "account_type" / Code(AccountType) * "Account type",
    Filler(3),
    "clearing_house" / Text(8) * "HKCC or SEOCH",
    "currency" / Text(4) * "Settlement currency (HKD, RMB, USD)",
    "requirement" / I64 * "Margin requirement, cents",
), "An account's margin requirement in one currency.")

ExerciseItem = record("exercise_item", Struct(
    "exercise_number" / U32 * "Exercise request number",
    "state" / Code(ExerciseState) * "State",
    "automatic" / Bool * "1: automatic exercise at expiry",
    Filler(2),
    "account_id" / Text(16) * "Account",
    "series" / Nested(SeriesKey) * "Series",
    "series_symbol" / Text(20) * "Series name",
    "quantity" / I64 * "Contracts requested",
    "processed_quantity" / I64 * "Contracts exercised at processing",
    "business_date" / Date * "Date entered",
), "An exercise request.")

DeliveryItem = record("delivery_item", Struct(
    "obligation_number" / U32 * "Delivery obligation number",
    "direction" / Code(DeliveryDirection) * "RECEIVE the stock and pay, or DELIVER it and be paid",
    Filler(3),
    "account_id" / Text(16) * "Account",
    "series" / Nested(SeriesKey) * "Option series",
    "series_symbol" / Text(20) * "Series name",
    "stock_code" / Text(8) * "Stock to deliver",
    "shares" / I64 * "Shares (lots x contract size)",
    "amount" / I64 * "Strike x shares, cents",
    "currency" / Text(4) * "Currency of the amount",
    "origin" / Text(12) * "EXERCISE or ASSIGNMENT",
    "lots" / I64 * "Contracts",
    "covered_lots" / I64 * "Assigned contracts that were covered calls",
    "exercise_date" / Date * "Exercise date",
    "settlement_date" / Date * "CCASS settlement date (T+2)",
), "A stock delivery obligation from exercise or assignment.")

MoneyItem = record("money_item", Struct(
    "account_id" / Text(16) * "Account (blank: the participant's total)",
    "clearing_house" / Text(8) * "HKCC or SEOCH",
    "currency" / Text(4) * "Currency",
    "business_date" / Date * "Business date",
    "variation" / I64 * "Variation adjustment, cents (+ receives, - pays)",
    "premium" / I64 * "Option premium, cents",
    "fees" / I64 * "Fees, cents",
    "cash_settlement" / I64 * "Cash settlement of expiring index options, cents",
    "net" / I64 * "Sum, cents",
), "Money obligations of one business date.")

AccountItem = record("account_item", Struct(
    "account_id" / Text(16) * "Account id",
    "account_type" / Code(AccountType) * "Account type",
    "gross" / Bool * "1: positions kept gross",
    Filler(2),
    "clearing_house" / Text(8) * "HKCC or SEOCH",
), "A clearing account.")

ClassItem = record("class_item", Struct(
    "class_id" / Text(8) * "Instrument class id (e.g. HSI-F, TCH-O)",
    "symbol" / Text(8) * "HKEX product code",
    "name" / Text(64, truncate=True) * "Name",
    "kind" / Code(InstrumentKind) * "Future or option",
    "market" / U8 * "Series key market byte",
    "commodity" / U16 * "Series key commodity",
    "exercise_style" / Text(8) * "AMERICAN, EUROPEAN or blank",
    "settlement" / Text(8) * "CASH or PHYSICAL",
    "clearing_house" / Text(8) * "HKCC or SEOCH",
    "currency" / Text(4) * "Settlement currency",
    "underlying" / Text(8) * "Underlying id (HSI, 0700, USDCNH...)",
    "stock_code" / Text(8) * "Stock code for stock options",
    "asset" / Text(16, truncate=True) * "INDEX, STOCK, CURRENCY, INTEREST_RATE or COMMODITY",
    "multiplier" / I64 * "Currency units per 1.00 of price; contract size (shares) for stock options",
    "price_decimals" / U8 * "Decimals of prices and premiums",
    "strike_decimals" / U8 * "Decimals of strikes",
    "underlying_price_decimals" / U8 * "Decimals of the underlying price",
    "money_decimals" / U8 * "Decimals of money (always 2: cents)",
), "An instrument class with its decimals.")

SeriesItem = record("series_item", Struct(
    "series" / Nested(SeriesKey) * "Series key",
    "series_symbol" / Text(20) * "Series name",
    "class_id" / Text(8) * "Instrument class",
    "expiry_date" / Date * "Expiry date",
    "strike_price" / I32 * "Strike (strike decimals), 0 for futures",
    "call_put" / Code(CallPut) * "Call, put or none",
    "price_decimals" / U8 * "Price decimals",
    "strike_decimals" / U8 * "Strike decimals",
    "expired" / Bool * "1: expired",
), "A series.")

UnderlyingItem = record("underlying_item", Struct(
    "underlying" / Text(8) * "Underlying id",
    "name" / Text(48, truncate=True) * "Name",
    "kind" / Text(16) * "Kind",
    "stock_code" / Text(8) * "Stock code (stocks)",
    "commodity" / U16 * "Series key commodity",
    "price_decimals" / U8 * "Price decimals",
    Filler(1),
    "price" / I64 * "Current price (operator-set, else the shipped reference price)",
), "An underlying.")

ParticipantItem = record("participant_item", Struct(
    "participant" / Text(8) * "Participant id",
    "name" / Text(40, truncate=True) * "Name",
    "hkcc" / Bool * "1: member of HKCC",
    "seoch" / Bool * "1: member of SEOCH",
    Filler(2),
), "A clearing participant.")

SettlementPriceItem = record("settlement_price_item", Struct(
    "series" / Nested(SeriesKey) * "Series",
    "series_symbol" / Text(20) * "Series name",
    "price" / I32 * "Today's settlement price (if has_price)",
    "previous" / I32 * "Previous settlement price (if has_previous)",
    "last_trade" / I32 * "Last exchange trade price today (if has_last_trade)",
    "has_price" / Bool * "Today's price set",
    "has_previous" / Bool * "Previous price known",
    "has_last_trade" / Bool * "Traded today",
    Filler(1),
), "Prices of a series.")

# ====================================================================== participant transactions
DealBookedReply = message("CA100", "deal_booked", Kind.REPLY, Struct(
    "trades" / Items(U16, TradeNumberItem) * "New deals and trades, in booking order",
), "Answer to a transaction that books deals: the new deal and trade numbers.", section=SECTION)

OpenAccountRequest = message("CC101", "open_account", Kind.TRANSACTION, Struct(
    "account_id" / Text(16) * "New account id (1-16 characters, no spaces, unique for the participant)",
    "account_type" / Code(AccountType) * "HOUSE, MARKET_MAKER, OMNIBUS_CLIENT or INDIVIDUAL_CLIENT",
    Filler(3),
    "clearing_house" / Text(8) * "HKCC or SEOCH",
), "Open an account (up to the 18:45 input cut-off).", answer="UR1", section=SECTION)

GiveUpRequest = message("CD35", "give_up_request", Kind.TRANSACTION, Struct(
    "trade_number" / U32 * "Own trade of today to give up",
    Filler(4),
    "quantity" / I64 * "Contracts (all or part of the available quantity)",
    "to_participant" / Text(8) * "Participant taking up",
    "text" / Text(32) * "Free text for the receiver",
), "Give up a trade or part of it (until the 18:15 give-up cut-off). Ack reference: give-up number. "
   "BD29 to both participants.", answer="UR1", section=SECTION)

ConfirmGiveUpRequest = message("CC38", "confirm_give_up", Kind.TRANSACTION, Struct(
    "give_up_number" / U32 * "Give-up addressed to the caller",
    "items" / Items(U16, AllocationItem) * "1-50 allocations adding up to the give-up quantity",
), "Take up a give-up into own accounts (until 18:15). One new deal per item.", answer="CA100",
    section=SECTION)

RejectGiveUpRequest = message("CC40", "reject_give_up", Kind.TRANSACTION, Struct(
    "give_up_number" / U32 * "Give-up addressed to the caller",
    "reason" / Text(32) * "Reason",
), "Reject a give-up (until 18:15): the quantity returns to the giver's trade.", answer="UR1",
    section=SECTION)

RectifyTradeRequest = message("CD28", "rectify_trade", Kind.TRANSACTION, Struct(
    "trade_number" / U32 * "Own trade of today",
    "items" / Items(U16, AllocationItem) * "1-100 items; an item naming the trade's own account and flag stays",
), "Split a trade over own accounts (until 18:45).", answer="CA100", section=SECTION)

TransferFromTransitoryRequest = message("CD5", "transfer_from_transitory", Kind.TRANSACTION, Struct(
    "trade_number" / U32 * "Trade in the daily/transitory account",
    "open_close" / Code(OpenClose) * "Open or close in the destination account",
    Filler(3),
    "account_id" / Text(16) * "Destination account",
    "quantity" / I64 * "Contracts",
), "Move (part of) a trade out of the daily/transitory account (until 18:45).", answer="CA100",
    section=SECTION)

TransferPositionRequest = message("CD34", "transfer_position", Kind.TRANSACTION, Struct(
    "series" / Nested(SeriesKey) * "Series",
    "from_account" / Text(16) * "Source account",
    "to_account" / Text(16) * "Destination account",
    "long_quantity" / I64 * "Long contracts to move",
    "short_quantity" / I64 * "Short contracts to move",
    "price" / I32 * "Transfer price (if use_price)",
    "use_price" / Bool * "0: the price of the day",
    Filler(3),
), "Move position between own accounts of one clearing house (until 18:45).", answer="CA100",
    section=SECTION)

OpenCloseAdjustmentRequest = message("CD101", "open_close_adjustment", Kind.TRANSACTION, Struct(
    "trade_number" / U32 * "Own trade of today",
    "open_close" / Code(OpenClose) * "New flag",
    Filler(3),
    "quantity" / I64 * "Contracts",
), "Re-book (part of) a trade with the other open/close flag (until 18:45).", answer="CA100",
    section=SECTION)

CloseOutRequest = message("CD54", "close_out", Kind.TRANSACTION, Struct(
    "series" / Nested(SeriesKey) * "Series",
    "account_id" / Text(16) * "Gross account (omnibus, daily, sink)",
    "quantity" / I64 * "Contracts to close on both sides",
), "Close out long against short in a gross account (until 18:45).", answer="CA100", section=SECTION)

ExerciseRequest = message("CC13", "exercise_request", Kind.TRANSACTION, Struct(
    "series" / Nested(SeriesKey) * "Stock option series",
    "account_id" / Text(16) * "Account with the long position",
    "quantity" / I64 * "Contracts",
), "Exercise request (until 18:45), processed at end of day. Ack reference: exercise number.",
    answer="UR1", section=SECTION)

AnnulExerciseRequest = message("CC15", "annul_exercise", Kind.TRANSACTION, Struct(
    "exercise_number" / U32 * "Pending exercise request",
), "Annul a pending exercise request (until 18:45).", answer="UR1", section=SECTION)

DenyExerciseRequest = message("CC14", "deny_exercise", Kind.TRANSACTION, Struct(
    "series" / Nested(SeriesKey) * "Stock option series",
    "account_id" / Text(16) * "Account with the long position",
    "quantity" / I64 * "Contracts automatic exercise must leave alone (0 clears)",
), "Set the deny-exercise quantity of a position (until 18:45).", answer="UR1", section=SECTION)

# ====================================================================== operator transactions
# one exchange match: the fields of EC101 and of each EC104 item (declared once)
_DEAL_FIELDS = (
    "series" / Nested(SeriesKey) * "Series",
    "price" / I32 * "Deal price (class price decimals, > 0)",
    "quantity" / I64 * "Contracts (> 0)",
    "buyer" / Text(8) * "Buying participant",
    "seller" / Text(8) * "Selling participant",
    "buyer_account" / Text(16) * "Buyer's account (blank: its daily/transitory account)",
    "seller_account" / Text(16) * "Seller's account (blank: its daily/transitory account)",
    "buyer_open_close" / Code(OpenClose) * "Buyer's flag",
    "seller_open_close" / Code(OpenClose) * "Seller's flag",
    Filler(2),
)

InjectDealRequest = message("EC101", "inject_deal", Kind.TRANSACTION, Struct(*_DEAL_FIELDS),
                            "Operator: an exchange match (one deal, a buy and a sell trade; BD6 to each owner).",
                            answer="CA100", operator=True, section=SECTION)

DealItem = record("deal_item", Struct(*_DEAL_FIELDS), "One exchange match of an EC104 deal injection.")

InjectDealsRequest = message("EC104", "inject_deals", Kind.TRANSACTION, Struct(
    "deals" / Items(U16, DealItem) * "1 to max_deals_per_injection (a DCASS parameter) exchange matches, booked in order",
), "Operator: many exchange matches at once (a trade feed). All or nothing: a bad item is rejected with its "
   "field (deals[i].price ...) and nothing is booked. BD6 for every trade; then BD40 once per account and "
   "series and BD101 once per account and currency, with their final state.", answer="CA100", operator=True,
    section=SECTION)

SetSettlementPriceRequest = message("EC102", "set_settlement_price", Kind.TRANSACTION, Struct(
    "series" / Nested(SeriesKey) * "Series",
    "price" / I32 * "Settlement price (class price decimals)",
), "Operator: today's settlement price of a series (BI101); margin is recomputed.", answer="UR1",
    operator=True, section=SECTION)

SetUnderlyingPriceRequest = message("EC103", "set_underlying_price", Kind.TRANSACTION, Struct(
    "underlying" / Text(8) * "Underlying id (HSI, 0700...)",
    "price" / I32 * "Price (underlying price decimals, > 0)",
), "Operator: closing price of an underlying (BI102): option margin, automatic exercise, index option "
   "cash settlement.", answer="UR1", operator=True, section=SECTION)

# ====================================================================== queries
_PARTICIPANT = "participant" / Text(8) * "Blank: the caller (the operator must name one)"

PositionsQuery = message("CQ3", "positions_query", Kind.QUERY, Struct(
    _PARTICIPANT,
    "account_id" / Text(16) * "Blank: every account",
    "series" / Nested(SeriesKey) * "All zero: every series",
), "Positions.", answer="CA3", section=SECTION)

PositionsAnswer = message("CA3", "positions_answer", Kind.REPLY, Struct(
    "items" / Items(U16, PositionItem) * "Positions",
), "Answer to CQ3.", section=SECTION)

MissingTradesQuery = message("CQ10", "missing_trades_query", Kind.QUERY, Struct(
    _PARTICIPANT,
    "business_date" / Date * "Blank: the current business date",
    "first_sequence" / U32 * "First trade sequence number (>= 1)",
    "last_sequence" / U32 * "Last trade sequence number (>= first)",
), "Trades by the owner's trade sequence number (BD6 recovery).", answer="CA10", section=SECTION)

MissingTradesAnswer = message("CA10", "missing_trades_answer", Kind.REPLY, Struct(
    "items" / Items(U16, TradeItem) * "Trades in sequence order",
), "Answer to CQ10.", section=SECTION)

TradesQuery = message("CQ11", "trades_query", Kind.QUERY, Struct(
    _PARTICIPANT,
    "account_id" / Text(16) * "Blank: every account",
    "series" / Nested(SeriesKey) * "All zero: every series",
    "business_date" / Date * "Blank: every date",
    "from_time" / Time * "On business_date (or today), inclusive; blank: no lower bound",
    "to_time" / Time * "Inclusive; blank: no upper bound",
), "Trades by account, series and time.", answer="CA11", section=SECTION)

TradesAnswer = message("CA11", "trades_answer", Kind.REPLY, Struct(
    "items" / Items(U16, TradeItem) * "Trades",
), "Answer to CQ11.", section=SECTION)

TradeHistoryQuery = message("CQ101", "trade_history_query", Kind.QUERY, Struct(
    _PARTICIPANT,
    "trade_number" / U32 * "Trade",
), "A trade, the trade it adjusts and every own trade made from it.", answer="CA101", section=SECTION)

TradeHistoryAnswer = message("CA101", "trade_history_answer", Kind.REPLY, Struct(
    "items" / Items(U16, TradeItem) * "Trades by trade number",
), "Answer to CQ101.", section=SECTION)

GiveUpsQuery = message("CQ61", "give_ups_query", Kind.QUERY, Struct(
    _PARTICIPANT,
    "business_date" / Date * "Blank: every date",
    "state" / U8 * "0: every state, else a GiveUpState value",
    Filler(3),
), "Give-ups the participant gave or received.", answer="CA61", section=SECTION)

GiveUpsAnswer = message("CA61", "give_ups_answer", Kind.REPLY, Struct(
    "items" / Items(U16, GiveUpItem) * "Give-ups",
), "Answer to CQ61.", section=SECTION)

ExercisesQuery = message("CQ21", "exercises_query", Kind.QUERY, Struct(
    _PARTICIPANT,
    "business_date" / Date * "Blank: every date",
), "Exercise requests (manual and automatic).", answer="CA21", section=SECTION)

ExercisesAnswer = message("CA21", "exercises_answer", Kind.REPLY, Struct(
    "items" / Items(U16, ExerciseItem) * "Exercise requests",
), "Answer to CQ21.", section=SECTION)

AccountsQuery = message("CQ38", "accounts_query", Kind.QUERY, Struct(
    _PARTICIPANT,
), "The participant's clearing accounts.", answer="CA38", section=SECTION)

AccountsAnswer = message("CA38", "accounts_answer", Kind.REPLY, Struct(
    "items" / Items(U16, AccountItem) * "Accounts",
), "Answer to CQ38.", section=SECTION)

MarginQuery = message("CQ102", "margin_query", Kind.QUERY, Struct(
    _PARTICIPANT,
    "account_id" / Text(16) * "Blank: every account",
), "Current margin requirements per account and currency.", answer="CA102", section=SECTION)

MarginAnswer = message("CA102", "margin_answer", Kind.REPLY, Struct(
    "items" / Items(U16, MarginItem) * "Requirements",
), "Answer to CQ102.", section=SECTION)

MoneyObligationsQuery = message("CQ103", "money_obligations_query", Kind.QUERY, Struct(
    _PARTICIPANT,
    "business_date" / Date * "Blank: the latest computed",
    "by_account" / Bool * "1: per account; 0: per clearing house and currency",
    Filler(3),
), "End-of-day money obligations.", answer="CA103", section=SECTION)

MoneyObligationsAnswer = message("CA103", "money_obligations_answer", Kind.REPLY, Struct(
    "items" / Items(U16, MoneyItem) * "Obligations",
), "Answer to CQ103.", section=SECTION)

DeliveryObligationsQuery = message("CQ104", "delivery_obligations_query", Kind.QUERY, Struct(
    _PARTICIPANT,
    "business_date" / Date * "Exercise date; blank: every date",
), "Stock delivery obligations from exercise and assignment.", answer="CA104", section=SECTION)

DeliveryObligationsAnswer = message("CA104", "delivery_obligations_answer", Kind.REPLY, Struct(
    "items" / Items(U16, DeliveryItem) * "Obligations",
), "Answer to CQ104.", section=SECTION)

SettlementPricesQuery = message("CQ105", "settlement_prices_query", Kind.QUERY, Struct(
    "series" / Nested(SeriesKey) * "All zero: every series with a price",
), "Settlement prices.", answer="CA105", section=SECTION)

SettlementPricesAnswer = message("CA105", "settlement_prices_answer", Kind.REPLY, Struct(
    "items" / Items(U16, SettlementPriceItem) * "Prices",
), "Answer to CQ105.", section=SECTION)

# ====================================================================== reference data
ClassesQuery = message("DQ101", "instrument_classes_query", Kind.QUERY, Struct(
    "clearing_house" / Text(8) * "Blank: both",
), "Instrument classes with their decimals.", answer="DA101", section=SECTION)

ClassesAnswer = message("DA101", "instrument_classes_answer", Kind.REPLY, Struct(
    "items" / Items(U16, ClassItem) * "Classes",
), "Answer to DQ101.", section=SECTION)

SeriesQuery = message("DQ102", "series_query", Kind.QUERY, Struct(
    "class_id" / Text(8) * "Blank: every class",
    "include_expired" / Bool * "1: expired series too",
    Filler(3),
), "Series.", answer="DA102", section=SECTION)

SeriesAnswer = message("DA102", "series_answer", Kind.REPLY, Struct(
    "items" / Items(U16, SeriesItem) * "Series",
), "Answer to DQ102.", section=SECTION)

UnderlyingsQuery = message("DQ103", "underlyings_query", Kind.QUERY, Struct(
    Filler(4),
), "Underlyings and their current prices.", answer="DA103", section=SECTION)

UnderlyingsAnswer = message("DA103", "underlyings_answer", Kind.REPLY, Struct(
    "items" / Items(U16, UnderlyingItem) * "Underlyings",
), "Answer to DQ103.", section=SECTION)

ParticipantsQuery = message("DQ104", "participants_query", Kind.QUERY, Struct(
    Filler(4),
), "Clearing participants and their clearing houses.", answer="DA104", section=SECTION)

ParticipantsAnswer = message("DA104", "participants_answer", Kind.REPLY, Struct(
    "items" / Items(U16, ParticipantItem) * "Participants",
), "Answer to DQ104.", section=SECTION)

# ====================================================================== broadcasts
TradeBroadcast = message("BD6", "trade", Kind.BROADCAST, Struct(
    "trade" / Nested(TradeItem) * "The new trade",
), "A new trade in one of the owner's accounts (exchange match or adjustment).", stream="trades",
    section=SECTION)

TradeChangeBroadcast = message("BD39", "trade_change", Kind.BROADCAST, Struct(
    "trade_number" / U32 * "Trade",
    "state" / Code(TradeState) * "New state",
    Filler(3),
    "available_quantity" / I64 * "Quantity still adjustable",
    "moved_quantity" / I64 * "Quantity moved by later deals",
    "reserved_quantity" / I64 * "Quantity in pending give-ups",
), "A trade's state or adjustable quantity changed.", stream="trades", section=SECTION)

GiveUpBroadcast = message("BD29", "give_up", Kind.BROADCAST, Struct(
    "give_up" / Nested(GiveUpItem) * "The give-up",
), "A give-up was entered, confirmed, rejected or expired (to the giver and the receiver).",
    stream="trades", section=SECTION)

PositionBroadcast = message("BD40", "position", Kind.BROADCAST, Struct(
    "position" / Nested(PositionItem) * "New position",
), "A position changed.", stream="clearing", section=SECTION)

MarginBroadcast = message("BD101", "margin", Kind.BROADCAST, Struct(
    "margin" / Nested(MarginItem) * "New requirement",
), "An account's margin requirement changed.", stream="clearing", section=SECTION)

ExerciseBroadcast = message("BD102", "exercise", Kind.BROADCAST, Struct(
    "exercise" / Nested(ExerciseItem) * "The request",
), "An exercise request was entered, annulled, processed or rejected.", stream="clearing", section=SECTION)

AssignmentBroadcast = message("BD103", "assignment", Kind.BROADCAST, Struct(
    "account_id" / Text(16) * "Account",
    "series" / Nested(SeriesKey) * "Series",
    "series_symbol" / Text(20) * "Series name",
    "quantity" / I64 * "Contracts assigned",
    "business_date" / Date * "Date",
), "Short contracts were assigned by the random draw.", stream="clearing", section=SECTION)

DeliveryBroadcast = message("BD104", "delivery_obligation", Kind.BROADCAST, Struct(
    "delivery" / Nested(DeliveryItem) * "The obligation",
), "A stock delivery obligation.", stream="clearing", section=SECTION)

MoneyBroadcast = message("BD105", "money_obligation", Kind.BROADCAST, Struct(
    "money" / Nested(MoneyItem) * "Totals per clearing house and currency",
), "End of day money obligations.", stream="clearing", section=SECTION)

AccountOpenedBroadcast = message("BD106", "account_opened", Kind.BROADCAST, Struct(
    "account" / Nested(AccountItem) * "The new account",
), "An account was opened.", stream="clearing", section=SECTION)

SettlementPriceBroadcast = message("BI101", "settlement_price", Kind.BROADCAST, Struct(
    "series" / Nested(SeriesKey) * "Series",
    "series_symbol" / Text(20) * "Series name",
    "price" / I32 * "Settlement price",
    "business_date" / Date * "Date",
), "The operator set a settlement price.", stream="general", section=SECTION)

UnderlyingPriceBroadcast = message("BI102", "underlying_price", Kind.BROADCAST, Struct(
    "underlying" / Text(8) * "Underlying",
    "price" / I32 * "Price",
    "business_date" / Date * "Date",
), "The operator set an underlying price.", stream="general", section=SECTION)
