"""OTC Clear settlement: member transactions SC3xx, queries SQ3xx / answers SA3xx, broadcasts BS3xx on
the dedicated settlement stream (rates: public, general stream), operator controls EC3xx.

Conventions: money int64 in cents (2 decimals for HKD, USD, EUR and CNH); rates (interest rates,
FX rates, haircuts) int64 with 8 decimals (``rate_e8``: 3.65% = 0.0365 = 3650000; 7.8 HKD per USD
= 780000000); dates YYYYMMDD, times HHMMSS; blank date = none. Signs of settlement items are the
member's: + it receives, - it pays. See docs/guides/otc-clear.md for the formulas and cut-offs.
"""
from __future__ import annotations

import enum

from ..codec import I64, U16, U32, Bool, Code, Date, Filler, Items, Nested, Struct, Text, Time, record
from ..units import RATE
from ..kinds import Kind
from ..registry import message
from ..renamed import renamed_classes

SECTION = "otc"


# ------------------------------------------------------------------ enumerations
class OtcProduct(enum.IntEnum):
    NDF = 1
    IRS = 2
    CCS = 3


class NdfDirection(enum.IntEnum):
    BUY = 1    # the member buys the base currency forward
    SELL = 2


class IrsDirection(enum.IntEnum):
    PAY_FIXED = 1
    RECEIVE_FIXED = 2


class DayCount(enum.IntEnum):
    DEFAULT = 0  # the currency's convention
    ACT_365 = 1
    ACT_360 = 2


class SwapLeg(enum.IntEnum):
    NONE = 0     # NDF, or the only floating leg
    PAY = 1
    RECEIVE = 2


class CcsExchange(enum.IntEnum):
    INITIAL = 1
    FINAL = 2


class OtcSettlementType(enum.IntEnum):
    ANY = 0                    # query filter only
    OBLIGATION = 1
    EOD_VM = 2
    PAI = 3
    CCS_EXCHANGE = 4
    INITIAL_MARGIN = 5
    INTRADAY_VM = 6
    CASH_COLLATERAL = 7
    GUARANTEE_FUND = 8
    FEES = 9
    PARTICIPATING_MARGIN = 10


class PaymentDirection(enum.IntEnum):
    PAY = 1      # the member pays OTC Clear
    RECEIVE = 2  # OTC Clear pays the member


class PaymentStatus(enum.IntEnum):
    ANY = 0      # query filter only
    PENDING = 1
    LATE = 2
    SETTLED = 3


class PvpStatus(enum.IntEnum):
    AWAITING = 1
    INSTRUCTED = 2
    SETTLED = 3
    LATE = 4
    FAILED = 5     # instructed, but the member's pay side was not funded at 12:00


class AccountKind(enum.IntEnum):
    MEMBER = 0   # member level (guarantee fund, fees)
    HOUSE = 1
    CLIENT = 2


class HoldingKind(enum.IntEnum):
    CASH = 1
    NON_CASH = 2


# ------------------------------------------------------------------ records
CouponDate = record("otc_coupon_date", Struct(
    "date" / Date * "Unadjusted coupon (payment) date",
), "One coupon date of a swap schedule.")

TradeRow = record("otc_trade", Struct(
    "trade_id" / Text(20) * "Trade id",
    "product" / Code(OtcProduct) * "NDF, IRS or CCS",
    Filler(3),
    "member" / Text(8) * "Clearing member",
    "account" / Text(8) * "Clearing account (H, C1, ...)",
    "valuation_currency" / Text(3) * "Currency of MTM and VM",
    Filler(1),
    "currency" / Text(3) * "NDF base currency; IRS currency; CCS pay-leg currency",
    Filler(1),
    "other_currency" / Text(3) * "NDF quote currency; CCS receive-leg currency; blank for an IRS",
    Filler(1),
    "notional" / I64 * "NDF notional (base); IRS notional; CCS pay-leg notional (cents)",
    "other_notional" / I64 * "CCS receive-leg notional (cents); 0 otherwise",
    "rate_e8" / RATE * "NDF contract rate; IRS fixed rate; CCS pay-leg fixed rate (0 if floating);",
    "start_date" / Date * "NDF fixing date; swap effective date",
    "end_date" / Date * "NDF settlement date; swap last coupon date",
    "mtm" / I64 * "Current mark-to-market, member's view, valuation currency cents",
    "registered_date" / Date * "Business date-time of registration: date",
    "registered_time" / Time * "time",
    Filler(2),
), "Summary of a cleared OTC trade (the member's side against OTC Clear).")

ItemRow = record("otc_settlement_item", Struct(
    "item_id" / U32 * "Settlement item id",
    "settlement_type" / Code(OtcSettlementType) * "Settlement type 1-10",
    Filler(3),
    "member" / Text(8) * "Clearing member",
    "account" / Text(8) * "Account (blank: member level, types 8 and 9)",
    "currency" / Text(3) * "Currency",
    Filler(1),
    "amount" / I64 * "Amount in cents, member's view: + receives, - pays",
    "settlement_date" / Date * "Settlement date",
    "trade_id" / Text(20) * "Trade it comes from (blank when none)",
    "description" / Text(80, truncate=True) * "How it was computed",
    "instruction_id" / U32 * "Payment instruction carrying it (0: none yet, or netted to zero)",
    "netted" / Bool * "Types 1-3 and 9: netted / billed",
    Filler(3),
    "created_date" / Date * "Business date-time it was computed: date",
    "created_time" / Time * "time",
    Filler(2),
), "One computed amount of one settlement type.")

InstructionRow = record("otc_payment_instruction", Struct(
    "instruction_id" / U32 * "Payment instruction id",
    "member" / Text(8) * "Clearing member",
    "account" / Text(8) * "Account (blank: member level)",
    "account_kind" / Code(AccountKind) * "HOUSE, CLIENT or MEMBER (guarantee fund, fees)",
    "direction" / Code(PaymentDirection) * "PAY: member to OTC Clear; RECEIVE: OTC Clear to member",
    "status" / Code(PaymentStatus) * "PENDING, LATE or SETTLED",
    "late" / Bool * "1: the cut-off was missed (stays 1 once settled)",
    "settlement_types" / U16 * "Settlement types it carries: bit n set = type n (netted 1-3: bits 1, 2, 3)",
    Filler(2),
    "currency" / Text(3) * "Currency",
    Filler(1),
    "amount" / I64 * "Amount in cents (> 0)",
    "settlement_date" / Date * "Settlement date",
    "available_date" / Date * "Details published from: date",
    "available_time" / Time * "time",
    Filler(2),
    "due_date" / Date * "PAY: cut-off (exclusive); RECEIVE: OTC Clear pays at: date",
    "due_time" / Time * "time",
    Filler(2),
    "bank_code" / Text(12) * "OTC Clear's settlement bank, short code",
    "bank" / Text(64) * "OTC Clear's settlement bank",
    "sub_account" / Text(20) * "Sub-account code (SETTLEMENT, NOTIONAL_EXCHANGE, HOUSE_MARGIN, ...)",
    "sub_account_name" / Text(32) * "Sub-account name",
    "beneficiary" / Text(64) * "Beneficiary name",
    "settled_date" / Date * "Settled at: date (blank: not settled)",
    "settled_time" / Time * "time",
    Filler(2),
    "settled_by" / Text(12) * "MEMBER, OPERATOR, OTC_CLEAR (payout) or PVP",
    "pvp_id" / U32 * "PvP exchange of a type-4 leg (0 otherwise)",
    "member_bank" / Text(64) * "The member's own settlement bank in this currency (its name: an RTGS member)",
), "A payment between a member and OTC Clear, with the bank and sub-account to use.")

PvpRow = record("otc_pvp", Struct(
    "pvp_id" / U32 * "PvP exchange id",
    "trade_id" / Text(20) * "CCS trade",
    "exchange" / Code(CcsExchange) * "INITIAL or FINAL",
    "status" / Code(PvpStatus) * "AWAITING, INSTRUCTED, SETTLED, LATE (not instructed) or FAILED (not funded)",
    Filler(2),
    "member" / Text(8) * "Clearing member",
    "account" / Text(8) * "Account",
    "value_date" / Date * "Value date",
    "pay_currency" / Text(3) * "Currency the member pays",
    Filler(1),
    "receive_currency" / Text(3) * "Currency the member receives",
    Filler(1),
    "pay_amount" / I64 * "Amount the member pays (cents)",
    "receive_amount" / I64 * "Amount the member receives (cents)",
    "pay_instruction_id" / U32 * "Payment instruction of the pay leg",
    "receive_instruction_id" / U32 * "Payment instruction of the receive leg",
    "instructed_date" / Date * "Member's PvP instruction accepted at: date (blank: none)",
    "instructed_time" / Time * "time",
    Filler(2),
), "A CCS initial or final exchange, settled gross by payment-versus-payment.")

CollateralRow = record("otc_collateral", Struct(
    "member" / Text(8) * "Clearing member",
    "account" / Text(8) * "Account",
    "account_kind" / Code(AccountKind) * "HOUSE or CLIENT",
    Filler(3),
    "base_currency" / Text(3) * "Currency of the amounts below",
    Filler(1),
    "cover" / I64 * "Collateral value after FX and haircuts, net of pending withdrawals (cents)",
    "im_requirement" / I64 * "Initial margin requirement (cents)",
    "holiday_margin" / I64 * "Holiday margin added to the requirement (cents)",
    "excess" / I64 * "cover - requirement - holiday margin (may be negative)",
    "outstanding_calls" / I64 * "IM calls issued and not yet paid (cents)",
    "participating_margin" / I64 * "Participating margin held (type 10, cents)",
), "Margin collateral of one member account.")

HoldingRow = record("otc_holding", Struct(
    "member" / Text(8) * "Clearing member",
    "account" / Text(8) * "Account",
    "asset" / Text(12) * "Currency (cash) or security code (CMU)",
    "kind" / Code(HoldingKind) * "CASH or NON_CASH",
    Filler(3),
    "currency" / Text(3) * "Currency of the asset",
    Filler(1),
    "amount" / I64 * "Cash: cents; non-cash: nominal in cents",
    "pending_withdrawal" / I64 * "Cash requested out, not yet paid (cents)",
    "value" / I64 * "Value in the base currency after FX and haircut, net of pending withdrawals (cents)",
), "One asset of a collateral account.")

GuaranteeFundRow = record("otc_guarantee_fund", Struct(
    "member" / Text(8) * "Clearing member",
    "currency" / Text(3) * "Currency",
    Filler(1),
    "requirement" / I64 * "Required contribution (cents)",
    "balance" / I64 * "Contributions settled (cents)",
    "outstanding" / I64 * "Calls unpaid (+) less refunds unpaid (-) (cents)",
), "A member's guarantee fund contribution.")

RoutingRow = record("otc_routing", Struct(
    "settlement_type" / Code(OtcSettlementType) * "Settlement type",
    "account_kind" / Code(AccountKind) * "HOUSE or CLIENT",
    Filler(2),
    "currency" / Text(3) * "Currency",
    Filler(1),
    "bank_code" / Text(12) * "Settlement bank short code",
    "bank" / Text(64) * "Settlement bank",
    "sub_account" / Text(20) * "Sub-account code",
    "sub_account_name" / Text(32) * "Sub-account name",
    "beneficiary" / Text(64) * "Beneficiary name",
), "Where a payment of this type, account kind and currency goes (seed Tables 1 and 2).")

RateRow = record("otc_rate", Struct(
    "currency" / Text(3) * "Currency",
    Filler(1),
    "pai_rate_e8" / RATE * "OTC Clear's PAI rate (0.005 = 500000)",
    "fx_rate_e8" / RATE * "Base-currency units per unit",
    "cash_haircut_e8" / RATE * "Haircut on cash collateral (0.007 = 700000)",
), "Rates of one currency in force on the business date.")

MemberAccountRow = record("otc_member_account", Struct(
    "member" / Text(8) * "Clearing member",
    "name" / Text(40, truncate=True) * "Member name",
    "account" / Text(8) * "Account id",
    "account_kind" / Code(AccountKind) * "HOUSE or CLIENT",
    Filler(3),
), "A clearing account of a member.")


# ------------------------------------------------------------------ member transactions
ConfirmPaymentRequest = message("SC300", "otc_confirm_payment", Kind.TRANSACTION, Struct(
    "member" / Text(8) * "Acting member (blank: yourself)",
    "instruction_id" / U32 * "Payment instruction due from the member",
), "Member: it has paid this instruction (after the cut-off it settles as late). Not for CCS "
   "exchanges (PvP). Answer UR1: reference = instruction id.", answer="UR1", section=SECTION)

SubmitPvpInstructionRequest = message("SC301", "otc_submit_pvp_instruction", Kind.TRANSACTION, Struct(
    "member" / Text(8) * "Acting member (blank: yourself)",
    "trade_id" / Text(20) * "CCS trade",
    "exchange" / Code(CcsExchange) * "INITIAL or FINAL",
    "pay_currency" / Text(3) * "Currency the member pays",
    "receive_currency" / Text(3) * "Currency the member receives",
    Filler(1),
    "value_date" / Date * "Value date",
    "pay_amount" / I64 * "Amount the member pays (cents)",
    "receive_amount" / I64 * "Amount the member receives (cents)",
), "Member: PvP payment instruction for a CCS notional exchange, before 12:00 on the value date; every "
   "field must match OTC Clear's side. Answer UR1: reference = PvP id.", answer="UR1", section=SECTION)

DepositCashRequest = message("SC302", "otc_request_cash_deposit", Kind.TRANSACTION, Struct(
    "member" / Text(8) * "Acting member (blank: yourself)",
    "account" / Text(8) * "Account",
    "currency" / Text(3) * "HKD, USD, EUR or CNH",
    Filler(1),
    "amount" / I64 * "Amount (cents)",
), "Member: voluntary cash collateral deposit (type 7); before 16:00 same day, else next business "
   "day. Answer UR1: reference = payment instruction id.", answer="UR1", section=SECTION)

WithdrawCashRequest = message("SC303", "otc_request_cash_withdrawal", Kind.TRANSACTION, Struct(
    "member" / Text(8) * "Acting member (blank: yourself)",
    "account" / Text(8) * "Account",
    "currency" / Text(3) * "HKD, USD, EUR or CNH",
    Filler(1),
    "amount" / I64 * "Amount (cents), within the cash balance and the excess",
), "Member: withdrawal of excess cash collateral (type 7); before 11:00 paid the same day from 13:00, "
   "else the next business day. Answer UR1: reference = payment instruction id.", answer="UR1",
    section=SECTION)

DepositNonCashRequest = message("SC304", "otc_deposit_non_cash", Kind.TRANSACTION, Struct(
    "member" / Text(8) * "Acting member (blank: yourself)",
    "account" / Text(8) * "Account",
    "security" / Text(12) * "Eligible security code (CMU)",
    "nominal" / I64 * "Nominal (cents of the security's currency)",
), "Member: non-cash IM collateral moved to OTC Clear's CMU custodian account; counts toward IM at "
   "once. Answer UR1: reference = nominal now held.", answer="UR1", section=SECTION)

WithdrawNonCashRequest = message("SC305", "otc_withdraw_non_cash", Kind.TRANSACTION, Struct(
    "member" / Text(8) * "Acting member (blank: yourself)",
    "account" / Text(8) * "Account",
    "security" / Text(12) * "Security code",
    "nominal" / I64 * "Nominal (cents), within the holding and the excess",
), "Member: return of non-cash collateral from the CMU account. Answer UR1: reference = nominal now "
   "held.", answer="UR1", section=SECTION)


# ------------------------------------------------------------------ queries
TradesQuery = message("SQ300", "otc_trades_query", Kind.QUERY, Struct(
    "member" / Text(8) * "Member (blank: yourself; the operator: everyone)",
    "trade_id" / Text(20) * "One trade (blank: all)",
), "Cleared OTC trades with their MTM.", answer="SA300", section=SECTION)

TradesAnswer = message("SA300", "otc_trades_answer", Kind.REPLY, Struct(
    "items" / Items(U16, TradeRow) * "Trades",
), "Answer to SQ300.", section=SECTION)

SettlementItemsQuery = message("SQ301", "otc_settlement_items_query", Kind.QUERY, Struct(
    "member" / Text(8) * "Member (blank: yourself; the operator: everyone)",
    "settlement_date" / Date * "Settlement date (blank: all)",
    "settlement_type" / Code(OtcSettlementType) * "Settlement type (ANY: all)",
    Filler(3),
), "Settlement items (computed amounts per settlement type).", answer="SA301", section=SECTION)

SettlementItemsAnswer = message("SA301", "otc_settlement_items_answer", Kind.REPLY, Struct(
    "items" / Items(U16, ItemRow) * "Settlement items",
), "Answer to SQ301.", section=SECTION)

PaymentInstructionsQuery = message("SQ302", "otc_payment_instructions_query", Kind.QUERY, Struct(
    "member" / Text(8) * "Member (blank: yourself; the operator: everyone)",
    "settlement_date" / Date * "Settlement date (blank: all)",
    "status" / Code(PaymentStatus) * "Status (ANY: all)",
    Filler(3),
    "instruction_id" / U32 * "One instruction (0: all)",
), "Payment instructions.", answer="SA302", section=SECTION)

PaymentInstructionsAnswer = message("SA302", "otc_payment_instructions_answer", Kind.REPLY, Struct(
    "items" / Items(U16, InstructionRow) * "Payment instructions",
), "Answer to SQ302.", section=SECTION)

PvpQuery = message("SQ303", "otc_pvp_query", Kind.QUERY, Struct(
    "member" / Text(8) * "Member (blank: yourself; the operator: everyone)",
    "value_date" / Date * "Value date (blank: all)",
), "CCS notional exchanges (PvP).", answer="SA303", section=SECTION)

PvpAnswer = message("SA303", "otc_pvp_answer", Kind.REPLY, Struct(
    "items" / Items(U16, PvpRow) * "PvP exchanges",
), "Answer to SQ303.", section=SECTION)

CollateralQuery = message("SQ304", "otc_collateral_query", Kind.QUERY, Struct(
    "member" / Text(8) * "Member (blank: yourself; the operator: everyone)",
    "account" / Text(8) * "Account (blank: all)",
), "Margin collateral per account: cover, requirement, excess.", answer="SA304", section=SECTION)

CollateralAnswer = message("SA304", "otc_collateral_answer", Kind.REPLY, Struct(
    "items" / Items(U16, CollateralRow) * "One row per account",
), "Answer to SQ304.", section=SECTION)

HoldingsQuery = message("SQ305", "otc_holdings_query", Kind.QUERY, Struct(
    "member" / Text(8) * "Member (blank: yourself; the operator: everyone)",
    "account" / Text(8) * "Account (blank: all)",
), "Collateral holdings: cash per currency and CMU securities, valued.", answer="SA305", section=SECTION)

HoldingsAnswer = message("SA305", "otc_holdings_answer", Kind.REPLY, Struct(
    "items" / Items(U16, HoldingRow) * "Holdings",
), "Answer to SQ305.", section=SECTION)

GuaranteeFundQuery = message("SQ306", "otc_guarantee_fund_query", Kind.QUERY, Struct(
    "member" / Text(8) * "Member (blank: yourself; the operator: everyone)",
), "Guarantee fund contributions.", answer="SA306", section=SECTION)

GuaranteeFundAnswer = message("SA306", "otc_guarantee_fund_answer", Kind.REPLY, Struct(
    "items" / Items(U16, GuaranteeFundRow) * "One row per member",
), "Answer to SQ306.", section=SECTION)

SettlementAccountsQuery = message("SQ307", "otc_settlement_accounts_query", Kind.QUERY, Struct(
    Filler(4),
), "OTC Clear's settlement banks and sub-accounts per settlement type, account kind and currency.",
    answer="SA307", section=SECTION)

SettlementAccountsAnswer = message("SA307", "otc_settlement_accounts_answer", Kind.REPLY, Struct(
    "items" / Items(U16, RoutingRow) * "Routing table",
), "Answer to SQ307.", section=SECTION)

RatesQuery = message("SQ308", "otc_rates_query", Kind.QUERY, Struct(
    Filler(4),
), "PAI rates, FX rates and cash haircuts in force on the business date.", answer="SA308", section=SECTION)

RatesAnswer = message("SA308", "otc_rates_answer", Kind.REPLY, Struct(
    "business_date" / Date * "Business date",
    "items" / Items(U16, RateRow) * "One row per currency",
), "Answer to SQ308.", section=SECTION)

MembersQuery = message("SQ309", "otc_members_query", Kind.QUERY, Struct(
    "member" / Text(8) * "Member (blank: yourself; the operator: everyone)",
), "Clearing members and their accounts.", answer="SA309", section=SECTION)

MembersAnswer = message("SA309", "otc_members_answer", Kind.REPLY, Struct(
    "items" / Items(U16, MemberAccountRow) * "One row per account",
), "Answer to SQ309.", section=SECTION)


# ------------------------------------------------------------------ broadcasts
TradeRegisteredBroadcast = message("BS300", "otc_trade_registered", Kind.BROADCAST, Struct(
    "trade" / Nested(TradeRow) * "The trade",
), "A cleared trade was registered for the member.", stream="settlement", section=SECTION)

RateFixingBroadcast = message("BS301", "otc_rate_fixing_set", Kind.BROADCAST, Struct(
    "trade_id" / Text(20) * "Trade",
    "leg" / Code(SwapLeg) * "NONE (NDF), PAY or RECEIVE",
    Filler(3),
    "fixing_date" / Date * "NDF fixing date, or the coupon date of the period",
    "rate_e8" / RATE * "Fixing",
), "The operator set a rate fixing of one of the member's trades.", stream="settlement", section=SECTION)

MtmBroadcast = message("BS302", "otc_mtm_set", Kind.BROADCAST, Struct(
    "trade_id" / Text(20) * "Trade",
    "currency" / Text(3) * "Valuation currency",
    Filler(1),
    "mtm" / I64 * "Mark-to-market, member's view (cents)",
    "business_time" / Time * "Business time",
    Filler(2),
), "New mark-to-market of one of the member's trades.", stream="settlement", section=SECTION)

SettlementItemBroadcast = message("BS303", "otc_settlement_item", Kind.BROADCAST, Struct(
    "item" / Nested(ItemRow) * "The item",
), "A settlement amount was computed (types 5, 6 and 10 at their publication time).", stream="settlement",
    section=SECTION)

PaymentInstructionIssuedBroadcast = message("BS304", "otc_payment_instruction_issued", Kind.BROADCAST, Struct(
    "instruction" / Nested(InstructionRow) * "The instruction",
), "A payment instruction was issued (net 1-3 at the start of the settlement day; IM calls at 08:30; "
   "intraday VM calls at 14:15; the others when created).", stream="settlement", section=SECTION)

PaymentSettledBroadcast = message("BS305", "otc_payment_settled", Kind.BROADCAST, Struct(
    "instruction" / Nested(InstructionRow) * "The instruction as settled",
), "A payment instruction settled.", stream="settlement", section=SECTION)

PaymentLateBroadcast = message("BS306", "otc_payment_late", Kind.BROADCAST, Struct(
    "instruction" / Nested(InstructionRow) * "The instruction, now LATE",
), "A payment due from the member missed its cut-off (or a PvP exchange had no instruction by 12:00).",
    stream="settlement", section=SECTION)

PvpStatusBroadcast = message("BS307", "otc_pvp_status", Kind.BROADCAST, Struct(
    "pvp" / Nested(PvpRow) * "The exchange",
), "A CCS notional exchange was created, instructed, settled, went late or failed for want of funding.", stream="settlement",
    section=SECTION)

MarginRequirementBroadcast = message("BS308", "otc_margin_requirement_set", Kind.BROADCAST, Struct(
    "account" / Text(8) * "Account",
    "currency" / Text(3) * "Base currency",
    Filler(1),
    "im_requirement" / I64 * "Initial margin requirement (cents)",
    "holiday_margin" / I64 * "Holiday margin (cents)",
), "OTC Clear set the initial margin requirement of an account.", stream="settlement", section=SECTION)

NonCashMovedBroadcast = message("BS309", "otc_non_cash_moved", Kind.BROADCAST, Struct(
    "account" / Text(8) * "Account",
    "security" / Text(12) * "Security code",
    "nominal" / I64 * "Nominal moved: + deposited, - withdrawn (cents)",
    "holding" / I64 * "Nominal held afterwards (cents)",
    "business_time" / Time * "Business time",
    Filler(2),
), "Non-cash collateral moved in or out of the CMU account.", stream="settlement", section=SECTION)

GuaranteeFundRequirementBroadcast = message("BS310", "otc_guarantee_fund_requirement_set", Kind.BROADCAST, Struct(
    "currency" / Text(3) * "Currency",
    Filler(1),
    "requirement" / I64 * "Required contribution (cents)",
), "OTC Clear set the member's guarantee fund contribution.", stream="settlement", section=SECTION)

PaiRateBroadcast = message("BS311", "otc_pai_rate_set", Kind.BROADCAST, Struct(
    "currency" / Text(3) * "Currency",
    Filler(1),
    "effective_date" / Date * "Business date from which it applies",
    "rate_e8" / RATE * "PAI rate",
), "Public: OTC Clear's PAI rate of a currency.", stream="general", section=SECTION)

FxRateBroadcast = message("BS312", "otc_fx_rate_set", Kind.BROADCAST, Struct(
    "currency" / Text(3) * "Currency",
    Filler(1),
    "effective_date" / Date * "Business date from which it applies",
    "rate_e8" / RATE * "Base-currency units per unit",
), "Public: FX rate used to value collateral.", stream="general", section=SECTION)


# ------------------------------------------------------------------ operator controls
RegisterNdfRequest = message("EC300", "otc_register_ndf", Kind.TRANSACTION, Struct(
    "trade_id" / Text(20) * "Trade id (1-20 of A-Z a-z 0-9 - _ . / :)",
    "member" / Text(8) * "Clearing member",
    "account" / Text(8) * "Account",
    "direction" / Code(NdfDirection) * "BUY or SELL of the base currency",
    "base_currency" / Text(3) * "Base currency",
    "quote_currency" / Text(3) * "Quote currency (may be non-deliverable)",
    "settlement_currency" / Text(3) * "Settlement currency: base or quote; HKD, USD, EUR or CNH",
    Filler(2),
    "notional" / I64 * "Notional in base currency cents",
    "contract_rate" / RATE * "Contract rate, quote per base",
    "fixing_date" / Date * "Fixing date",
    "settlement_date" / Date * "Settlement date",
), "Operator: register a cleared non-deliverable forward.", answer="UR1", operator=True, section="operator")

RegisterIrsRequest = message("EC301", "otc_register_irs", Kind.TRANSACTION, Struct(
    "trade_id" / Text(20) * "Trade id",
    "member" / Text(8) * "Clearing member",
    "account" / Text(8) * "Account",
    "direction" / Code(IrsDirection) * "PAY_FIXED or RECEIVE_FIXED",
    "currency" / Text(3) * "Currency",
    "day_count" / Code(DayCount) * "Day count of both legs (DEFAULT: the currency's)",
    Filler(3),
    "notional" / I64 * "Notional (cents)",
    "fixed_rate" / RATE * "Fixed rate",
    "float_spread" / RATE * "Spread over the floating fixing",
    "effective_date" / Date * "Effective date",
    "coupon_dates" / Items(U16, CouponDate) * "Coupon dates, increasing",
), "Operator: register a cleared fixed-vs-floating interest rate swap.", answer="UR1", operator=True,
    section="operator")

RegisterCcsRequest = message("EC302", "otc_register_ccs", Kind.TRANSACTION, Struct(
    "trade_id" / Text(20) * "Trade id",
    "member" / Text(8) * "Clearing member",
    "account" / Text(8) * "Account",
    "pay_currency" / Text(3) * "Currency of the leg the member pays",
    Filler(1),
    "receive_currency" / Text(3) * "Currency of the leg the member receives",
    Filler(1),
    "valuation_currency" / Text(3) * "Currency of MTM and VM (one of the two)",
    Filler(1),
    "pay_fixed" / Bool * "1: pay leg fixed at pay_fixed_rate; 0: floating",
    "receive_fixed" / Bool * "1: receive leg fixed at receive_fixed_rate; 0: floating",
    "initial_exchange" / Bool * "1: initial exchange of notionals on the effective date",
    "final_exchange" / Bool * "1: final exchange of notionals on the last coupon date",
    "pay_day_count" / Code(DayCount) * "Day count of the pay leg",
    "receive_day_count" / Code(DayCount) * "Day count of the receive leg",
    Filler(2),
    "pay_notional" / I64 * "Pay-leg notional (cents)",
    "receive_notional" / I64 * "Receive-leg notional (cents)",
    "pay_fixed_rate" / RATE * "Pay-leg fixed rate (when pay_fixed)",
    "pay_spread" / RATE * "Pay-leg spread (when floating)",
    "receive_fixed_rate" / RATE * "Receive-leg fixed rate (when receive_fixed)",
    "receive_spread" / RATE * "Receive-leg spread (when floating)",
    "effective_date" / Date * "Effective date",
    "coupon_dates" / Items(U16, CouponDate) * "Coupon dates, increasing",
), "Operator: register a cleared cross currency swap (exchanges settle by PvP).", answer="UR1",
    operator=True, section="operator")

SetRateFixingRequest = message("EC303", "otc_set_rate_fixing", Kind.TRANSACTION, Struct(
    "trade_id" / Text(20) * "Trade",
    "leg" / Code(SwapLeg) * "NONE (NDF or the only floating leg), PAY or RECEIVE",
    Filler(3),
    "fixing_date" / Date * "NDF fixing date, or the coupon date of the period",
    "rate" / RATE * "FX fixing or floating rate",
), "Operator: a rate fixing; computes the type-1 obligation.", answer="UR1", operator=True, section="operator")

SetMtmRequest = message("EC304", "otc_set_mtm", Kind.TRANSACTION, Struct(
    "trade_id" / Text(20) * "Trade",
    Filler(4),
    "mtm" / I64 * "Mark-to-market, member's view, valuation currency cents",
), "Operator: mark-to-market of a trade (end-of-day VM takes the last value of the day).", answer="UR1",
    operator=True, section="operator")

SetPaiRateRequest = message("EC305", "otc_set_pai_rate", Kind.TRANSACTION, Struct(
    "currency" / Text(3) * "Currency",
    Filler(5),
    "rate" / RATE * "PAI rate (may be negative)",
), "Operator: OTC Clear's PAI rate, effective from the business date.", answer="UR1", operator=True,
    section="operator")

SetFxRateRequest = message("EC306", "otc_set_fx_rate", Kind.TRANSACTION, Struct(
    "currency" / Text(3) * "Currency",
    Filler(5),
    "rate" / RATE * "Base-currency units per unit",
), "Operator: FX rate for collateral valuation, effective from the business date.", answer="UR1",
    operator=True, section="operator")

RunIntradayVmCallRequest = message("EC307", "otc_run_intraday_vm_call", Kind.TRANSACTION, Struct(
    Filler(4),
), "Operator: intraday MTM run before 14:15; calls (type 6) where MTM moved against a member. Answer "
   "UR1: reference = number of calls.", answer="UR1", operator=True, section="operator")

SetMarginRequirementRequest = message("EC308", "otc_set_margin_requirement", Kind.TRANSACTION, Struct(
    "member" / Text(8) * "Clearing member",
    "account" / Text(8) * "Account",
    "im_requirement" / I64 * "Initial margin requirement (base currency cents)",
    "holiday_margin" / I64 * "Holiday margin added to it (cents)",
), "Operator: IM requirement; the end-of-day IM call (type 5) collects any shortfall.", answer="UR1",
    operator=True, section="operator")

SetGuaranteeFundRequirementRequest = message("EC309", "otc_set_guarantee_fund_requirement", Kind.TRANSACTION, Struct(
    "member" / Text(8) * "Clearing member",
    "due_date" / Date * "Due date (blank: next business day)",
    "requirement" / I64 * "Required contribution (cents)",
), "Operator: guarantee fund contribution; increase called (due 11:00), decrease refunded (13:00). "
   "Answer UR1: reference = payment instruction id (0: no change).", answer="UR1", operator=True,
    section="operator")

ChargeFeeRequest = message("EC310", "otc_charge_fee", Kind.TRANSACTION, Struct(
    "member" / Text(8) * "Clearing member",
    "currency" / Text(3) * "Currency",
    Filler(1),
    "description" / Text(40) * "What the fee is for",
    "amount" / I64 * "Amount (cents)",
), "Operator: another fee (type 9), billed with the month's clearing fees.", answer="UR1", operator=True,
    section="operator")

IssueParticipatingMarginCallRequest = message("EC311", "otc_issue_participating_margin_call", Kind.TRANSACTION, Struct(
    "member" / Text(8) * "Clearing member",
    "account" / Text(8) * "Account",
    "amount" / I64 * "Amount (base currency cents)",
), "Operator: participating margin call (type 10, only when enabled).", answer="UR1", operator=True,
    section="operator")

MarkPaymentSettledRequest = message("EC312", "otc_mark_payment_settled", Kind.TRANSACTION, Struct(
    "instruction_id" / U32 * "Payment instruction (a PvP leg settles both legs)",
), "Operator: record a payment as settled.", answer="UR1", operator=True, section="operator")


# ------------------------------------------------------------------ the member's own side (issue 13)
MemberBankRow = record("otc_member_bank", Struct(
    "member" / Text(8) * "Clearing member",
    "currency" / Text(3) * "Currency",
    "rtgs_member" / Bool * "1: the member settles through its own RTGS accounts",
    "pvp_funded" / Bool * "1: its PvP pay side in this currency is funded (operator-set, default 1)",
    Filler(3),
    "bank" / Text(64) * "Its settlement bank (its own name: an RTGS member)",
), "A member's own settlement bank in one currency and its PvP funding.")

MemberBanksQuery = message("SQ350", "otc_member_banks_query", Kind.QUERY, Struct(
    "member" / Text(8) * "Member (blank: yourself; the operator: everyone)",
), "The members' own settlement banks per currency and PvP funding.", answer="SA350", section=SECTION)

MemberBanksAnswer = message("SA350", "otc_member_banks_answer", Kind.REPLY, Struct(
    "items" / Items(U16, MemberBankRow) * "One row per member and currency",
), "Answer to SQ350.", section=SECTION)

PvpFundingBroadcast = message("BS350", "otc_pvp_funding_set", Kind.BROADCAST, Struct(
    "currency" / Text(3) * "Currency",
    "funded" / Bool * "1: funded",
), "The member's PvP funding in a currency was set by the operator.", stream="settlement", section=SECTION)

SetPvpFundingRequest = message("EC350", "otc_set_pvp_funding", Kind.TRANSACTION, Struct(
    "member" / Text(8) * "Clearing member",
    "currency" / Text(3) * "Currency of its pay side",
    "funded" / Bool * "1: funded (the default); 0: a PvP paying this currency fails at 12:00",
), "Operator: the emulated funding of a member's PvP pay side in a currency (BS350).", answer="UR1",
    operator=True, section="operator")

AddTradePaymentRequest = message("EC351", "otc_add_trade_payment", Kind.TRANSACTION, Struct(
    "trade_id" / Text(20) * "Trade",
    "payment_date" / Date * "Payment date (after the business date; following business day)",
    "currency" / Text(3) * "Currency",
    Filler(1),
    "amount" / I64 * "Cents, signed: + the member receives, - the member pays (not 0)",
    "description" / Text(40) * "What it is (an upfront fee, ...)",
), "Operator: an additional payment stipulated in the transaction; a type 1 item netted with the trade's "
   "coupons of its date and currency (BS303). Answer UR1: reference = the settlement item id.", answer="UR1",
    operator=True, section="operator")


# ====================================================================== old class names (0.1.x)
# Renamed to the pattern of docs/protocol.md; the old names work for one more minor release, with a
# DeprecationWarning (CHANGELOG.md, Deprecated).
RENAMED = {
    "RegisterNdf": "RegisterNdfRequest",
    "RegisterIrs": "RegisterIrsRequest",
    "RegisterCcs": "RegisterCcsRequest",
    "SetRateFixing": "SetRateFixingRequest",
    "SetMtm": "SetMtmRequest",
    "SetPaiRate": "SetPaiRateRequest",
    "SetFxRate": "SetFxRateRequest",
    "RunIntradayVmCall": "RunIntradayVmCallRequest",
    "SetMarginRequirement": "SetMarginRequirementRequest",
    "SetGuaranteeFundRequirement": "SetGuaranteeFundRequirementRequest",
    "ChargeFee": "ChargeFeeRequest",
    "IssueParticipatingMarginCall": "IssueParticipatingMarginCallRequest",
    "MarkPaymentSettled": "MarkPaymentSettledRequest",
    "SetPvpFunding": "SetPvpFundingRequest",
    "AddTradePayment": "AddTradePaymentRequest",
    "TradeRegistered": "TradeRegisteredBroadcast",
    "RateFixingSet": "RateFixingBroadcast",
    "MtmSet": "MtmBroadcast",
    "PaymentInstructionIssued": "PaymentInstructionIssuedBroadcast",
    "PaymentSettled": "PaymentSettledBroadcast",
    "PaymentLate": "PaymentLateBroadcast",
    "PvpStatusChanged": "PvpStatusBroadcast",
    "MarginRequirementSet": "MarginRequirementBroadcast",
    "NonCashMoved": "NonCashMovedBroadcast",
    "GuaranteeFundRequirementSet": "GuaranteeFundRequirementBroadcast",
    "PaiRateSet": "PaiRateBroadcast",
    "FxRateSet": "FxRateBroadcast",
    "PvpFundingSet": "PvpFundingBroadcast",
    "ConfirmPayment": "ConfirmPaymentRequest",
    "SubmitPvpInstruction": "SubmitPvpInstructionRequest",
    "RequestCashDeposit": "DepositCashRequest",
    "RequestCashWithdrawal": "WithdrawCashRequest",
    "DepositNonCash": "DepositNonCashRequest",
    "WithdrawNonCash": "WithdrawNonCashRequest",
    "ItemsQuery": "SettlementItemsQuery",
    "ItemsAnswer": "SettlementItemsAnswer",
    "InstructionsQuery": "PaymentInstructionsQuery",
    "InstructionsAnswer": "PaymentInstructionsAnswer",
}
__getattr__ = renamed_classes(__name__, RENAMED)
