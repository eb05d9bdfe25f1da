"""CCMS (collateral): transactions FC2xx, queries FQ2xx / answers FA2xx, broadcasts BF2xx, operator EC2xx.

Conventions of this section: money int64 cents (2 decimals for every currency, JPY included);
nominal of debt securities int64 cents of their currency; stock quantities int64 shares; rates and
haircuts int64 with 8 decimals (0.7% = 700000, FX rate 7.8 = 780000000); collateral prices int32
with 4 decimals (debt per 100 nominal, stocks per share); dates YYYYMMDD, times HHMMSS (blank: none).
Clearing houses "HKCC" / "SEOCH" / "HKSCC" (collateral only). Currencies "HKD", "EUR", "JPY", "RMB", "USD". Stock codes 5 digits.
Rules and choices: docs/guides/collateral.md.
"""
from __future__ import annotations

import enum

from ..codec import I64, U16, U32, Bool, Code, Date, Filler, Items, Nested, Struct, Text, Time, record
from ..units import COLLATERAL_PRICE, RATE
from ..kinds import Kind
from ..registry import message

SECTION = "collateral"

# The 12-byte series key is declared once, by the DCASS messages.
from .dcass import SeriesKey  # noqa: E402



class AccountKind(enum.IntEnum):
    HOUSE = 1
    MARKET_MAKER = 2
    CLIENT = 3


class AssetClass(enum.IntEnum):
    CASH = 1
    EFBN = 2
    UST = 3
    STOCK = 4


class InstructionAction(enum.IntEnum):
    DEPOSIT = 1
    WITHDRAW = 2
    TRANSFER_OUT = 3     # collateral transferred to another clearing house (FC251)
    TRANSFER_IN = 4      # collateral received from another clearing house (FC251)


class InstructionStatus(enum.IntEnum):
    PENDING = 1
    COMPLETED = 2
    FAILED = 3           # a cash deposit the mandated bank account could not pay (nothing credited)


class SettlementStatus(enum.IntEnum):
    PENDING = 1
    SETTLED = 2
    FAILED = 3


class SettlementFilter(enum.IntEnum):
    ALL = 0
    PENDING = 1
    SETTLED = 2
    FAILED = 3


class Consequence(enum.IntEnum):
    NONE = 0
    DEBIT_CASH_COLLATERAL = 1


class CollectionFailure(enum.IntEnum):
    INSUFFICIENT_BANK_BALANCE = 1
    NO_MANDATE = 2


class Contribution(enum.IntEnum):
    INITIAL = 1
    ADDITIONAL = 2
    VARIABLE = 3


class CallStatus(enum.IntEnum):
    ISSUED = 1
    AMENDED = 2
    MET = 3


class CoverReason(enum.IntEnum):
    LODGED = 1
    RELEASED = 2
    POSITION_CLOSED = 3


class AccrualKind(enum.IntEnum):
    INTEREST = 1
    ACCOMMODATION = 2


# ====================================================================== records
CollateralAccountItem = record("collateral_account_item", Struct(
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "HKCC, SEOCH or HKSCC",
    "account" / Text(12) * "Collateral account id (defaults HOUSE, MM, CLIENT)",
    "kind" / Code(AccountKind) * "Collateral account kind",
    Filler(1),
    "dcass_accounts" / U16 * "Number of DCASS accounts mapped to it (see FQ201)",
), "One collateral account.")

MappingItem = record("mapping_item", Struct(
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "Clearing house of the DCASS account",
    "dcass_account" / Text(16) * "DCASS account id",
    "account_type" / Text(20) * "DCASS account type (HOUSE, MARKET_MAKER, OMNIBUS_CLIENT, INDIVIDUAL_CLIENT, DAILY, SINK)",
    "account" / Text(12) * "Collateral account it maps to",
    "explicit" / Bool * "1: set by the participant (FC201); 0: default from the account type",
    Filler(3),
), "One DCASS account and the collateral account it maps to.")

HoldingItem = record("holding_item", Struct(
    "asset_class" / Code(AssetClass) * "Cash, EFBN, UST or stock",
    "specific" / Bool * "1: specific (covered call) stock collateral",
    Filler(2),
    "asset" / Text(12) * "Currency, debt instrument id or stock code",
    "currency" / Text(4) * "Currency of the holding",
    "quantity" / I64 * "Cash cents (negative: a debit owed), nominal cents or shares",
    "earmarked" / I64 * "Shares earmarked for covered calls (specific stock)",
    "maturity_date" / Date * "Maturity (debt)",
    "price" / COLLATERAL_PRICE * "Price (0: no price)",
    "haircut" / RATE * "Haircut against its own currency (-1: not acceptable today)",
    "value_hkd" / I64 * "Value after haircuts for an HKD requirement, cents (0 for specific stock)",
), "One holding of a collateral account.")

CoverageLineItem = record("coverage_line_item", Struct(
    "currency" / Text(4) * "Settlement currency of the requirement",
    "requirement" / I64 * "Margin requirement of the mapped DCASS accounts, cents",
    "settlement_cash_required" / I64 * "Part only settlement-currency cash may cover, cents",
    "cash_required" / I64 * "Part only cash (any acceptable currency) may cover, cents",
    "rmb_limit_share" / I64 * "RMB: share of the participant's fixed limit used by this account, cents",
    "covered_settlement_cash" / I64 * "Covered by cash in the settlement currency, cents",
    "covered_other_cash" / I64 * "Covered by cash in other currencies, cents",
    "covered_non_cash" / I64 * "Covered by EFBN, UST and stocks, cents",
    "shortfall" / I64 * "Uncovered: the margin call amount, cents",
), "Coverage of one settlement currency's requirement.")

UsageItem = record("usage_item", Struct(
    "used" / Bool * "1: used for a requirement; 0: unused (excess)",
    "asset_class" / Code(AssetClass) * "Asset class",
    Filler(2),
    "settlement_currency" / Text(4) * "Requirement it covers (blank when unused)",
    "asset" / Text(12) * "Currency, debt instrument id or stock code",
    "quantity" / I64 * "Quantity used (or unused)",
    "value" / I64 * "Value after haircuts: settlement-currency cents (used) or HKD cents (unused)",
    "haircut" / RATE * "Combined haircut applied (0 when unused)",
), "What one holding covers, or its unused excess.")

MarginCallItem = record("margin_call_item", Struct(
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "currency" / Text(4) * "Currency of the call",
    "amount" / I64 * "Amount called, cents",
    "called_date" / Date * "Date the call was issued",
    "called_time" / Time * "Time the call was issued",
    Filler(2),
    "due_date" / Date * "Due date",
    "due_time" / Time * "Due time",
    Filler(2),
), "An open margin call.")

InstructionItem = record("instruction_item", Struct(
    "instruction_id" / U32 * "Instruction number",
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "action" / Code(InstructionAction) * "Deposit or withdrawal",
    "asset_class" / Code(AssetClass) * "Asset class",
    "status" / Code(InstructionStatus) * "Pending, completed or failed (a cash deposit not collected)",
    "specific" / Bool * "1: specific stock",
    "asset" / Text(12) * "Currency, debt instrument id or stock code",
    "quantity" / I64 * "Cents, nominal cents or shares",
    "requested_date" / Date * "Date requested",
    "requested_time" / Time * "Time requested",
    Filler(2),
    "value_date" / Date * "Value date",
    "completed_date" / Date * "Date completed (blank: pending)",
    "completed_time" / Time * "Time completed",
    Filler(2),
), "A deposit or withdrawal instruction.")

ReserveFundItem = record("reserve_fund_item", Struct(
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "Clearing house",
    "contribution" / Code(Contribution) * "Initial, additional or variable",
    "asset_class" / Code(AssetClass) * "Cash or EFBN",
    Filler(2),
    "asset" / Text(12) * "HKD or EFBN instrument id",
    "quantity" / I64 * "Cents or nominal cents",
), "A reserve fund holding.")

CoveredCallItem = record("covered_call_item", Struct(
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "SEOCH",
    "dcass_account" / Text(16) * "DCASS account of the short calls",
    "account" / Text(12) * "Collateral account holding the specific stock",
    "series" / Nested(SeriesKey) * "Series covered",
    "underlying" / Text(8) * "Stock code",
    "contract_size" / U32 * "Shares per contract",
    "contracts" / I64 * "Contracts covered",
    "shares" / I64 * "Shares earmarked",
), "A covered call.")

AccrualItem = record("accrual_item", Struct(
    "participant" / Text(8) * "Participant",
    "business_date" / Date * "Accrual date",
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "currency" / Text(4) * "Currency",
    "kind" / Code(AccrualKind) * "Interest or accommodation charge",
    Filler(1),
    "days" / U16 * "Calendar days accrued (actual/365)",
    "base" / I64 * "Cash used (interest) or non-cash value used (accommodation), cents",
    "rate" / RATE * "Annual rate",
    "amount" / I64 * "Cents: + rebated to the participant, - charged",
    "posted_date" / Date * "Date posted to the account (blank: not yet)",
), "One day's interest or accommodation charge of one account and currency.")

CurrencyParameterItem = record("currency_parameter_item", Struct(
    "currency" / Text(4) * "Currency",
    "fx_rate" / RATE * "HKD per 1 unit",
    "interest_rate" / RATE * "Annual bank savings deposit rate (may be negative)",
    "cash_haircut" / RATE * "Haircut on this cash against another settlement currency",
), "Rates of one currency.")

EligibleItem = record("eligible_item", Struct(
    "asset_class" / Code(AssetClass) * "EFBN, UST or stock",
    Filler(3),
    "asset" / Text(12) * "Instrument id or stock code",
    "name" / Text(32, truncate=True) * "Name",
    "currency" / Text(4) * "Currency",
    "maturity_date" / Date * "Maturity (debt)",
    "price" / COLLATERAL_PRICE * "Price (0: no price)",
    "haircut" / RATE * "Haircut today against its own currency (-1: matured)",
), "One acceptable non-cash collateral instrument.")

# ====================================================================== participant transactions
OpenCollateralAccountRequest = message("FC200", "open_collateral_account", Kind.TRANSACTION, Struct(
    "clearing_house" / Text(8) * "HKCC, SEOCH or HKSCC",
    "account" / Text(12) * "New collateral account id: 1-10 upper-case letters or digits",
    "kind" / Code(AccountKind) * "Kind",
    Filler(3),
), "Open a collateral account in addition to the defaults (HOUSE, MM, CLIENT).", answer="UR1", section=SECTION)

MapDcassAccountRequest = message("FC201", "map_dcass_account", Kind.TRANSACTION, Struct(
    "dcass_account" / Text(16) * "DCASS account id",
    "account" / Text(12) * "Collateral account of the same clearing house (blank: back to the default)",
), "Map a DCASS account onto a collateral account. Only DCASS client accounts map to client "
   "collateral accounts, and client accounts only there.", answer="UR1", section=SECTION)

DepositCashRequest = message("FC202", "deposit_cash", Kind.TRANSACTION, Struct(
    "clearing_house" / Text(8) * "HKCC, SEOCH or HKSCC",
    "account" / Text(12) * "Collateral account",
    "currency" / Text(4) * "HKD, EUR, JPY, RMB or USD",
    "amount" / I64 * "Cents (> 0)",
), "Deposit cash (credited at once). Ack reference: the instruction number.", answer="UR1", section=SECTION)

WithdrawCashRequest = message("FC203", "withdraw_cash", Kind.TRANSACTION, Struct(
    "clearing_house" / Text(8) * "HKCC, SEOCH or HKSCC",
    "account" / Text(12) * "Collateral account",
    "currency" / Text(4) * "Currency",
    "amount" / I64 * "Cents (> 0)",
), "Withdraw cash. Rejected if it would leave a shortfall. Before 11:00:00 business time: value date "
   "today; at or after: the next business day; paid at 11:00:00 on the value date (BF203). Ack "
   "reference: the instruction number.", answer="UR1", section=SECTION)

DepositSecuritiesRequest = message("FC204", "deposit_securities", Kind.TRANSACTION, Struct(
    "clearing_house" / Text(8) * "HKCC, SEOCH or HKSCC",
    "account" / Text(12) * "Collateral account",
    "instrument" / Text(12) * "EFBN / UST instrument id or stock code",
    "quantity" / I64 * "Nominal cents (debt) or shares (> 0)",
    "specific" / Bool * "1: stock as specific collateral for SEOCH covered calls",
    Filler(3),
), "Deposit non-cash collateral (credited at once). Stocks as general collateral: house accounts only.",
    answer="UR1", section=SECTION)

WithdrawSecuritiesRequest = message("FC205", "withdraw_securities", Kind.TRANSACTION, Struct(
    "clearing_house" / Text(8) * "HKCC, SEOCH or HKSCC",
    "account" / Text(12) * "Collateral account",
    "instrument" / Text(12) * "EFBN / UST instrument id or stock code",
    "quantity" / I64 * "Nominal cents or shares (> 0)",
    "specific" / Bool * "1: specific stock (not earmarked for covered calls)",
    Filler(3),
), "Withdraw non-cash collateral (at once). Rejected if it would leave a shortfall.", answer="UR1",
    section=SECTION)

ContributeReserveFundRequest = message("FC206", "contribute_reserve_fund", Kind.TRANSACTION, Struct(
    "clearing_house" / Text(8) * "HKCC or SEOCH",
    "contribution" / Code(Contribution) * "Initial (HKD cash), additional or variable (HKD cash or EFBN)",
    Filler(3),
    "asset" / Text(12) * "HKD or an EFBN instrument id",
    "quantity" / I64 * "Cents or nominal cents (> 0)",
), "Reserve fund contribution, kept apart from margin collateral.", answer="UR1", section=SECTION)

LodgeCoveredCallRequest = message("FC207", "lodge_covered_call", Kind.TRANSACTION, Struct(
    "dcass_account" / Text(16) * "SEOCH DCASS account with the short calls",
    "series" / Nested(SeriesKey) * "Stock call series",
    Filler(4),
    "contracts" / I64 * "Contracts to cover (> 0)",
), "Cover short stock calls with specific stock (contract size x contracts free shares of the underlying "
   "in the collateral account the DCASS account maps to). Accepted before the DCASS input cut-off (18:45; "
   "18:45:00 is late); effective at once. Ack reference: contracts now covered.", answer="UR1", section=SECTION)

ReleaseCoveredCallRequest = message("FC208", "release_covered_call", Kind.TRANSACTION, Struct(
    "dcass_account" / Text(16) * "DCASS account",
    "series" / Nested(SeriesKey) * "Series",
    Filler(4),
    "contracts" / I64 * "Contracts to release (> 0)",
), "Release covered calls (before the DCASS input cut-off, 18:45). Ack reference: contracts still covered.", answer="UR1",
    section=SECTION)

# ====================================================================== operator transactions
SetFxRateRequest = message("EC200", "set_fx_rate", Kind.TRANSACTION, Struct(
    "currency" / Text(4) * "EUR, JPY, RMB or USD (HKD is fixed at 1)",
    "rate" / RATE * "HKD per 1 unit (> 0)",
), "Operator: set an FX rate used to value collateral (BF209).", answer="UR1", operator=True, section=SECTION)

SetCollateralPriceRequest = message("EC201", "set_collateral_price", Kind.TRANSACTION, Struct(
    "instrument" / Text(12) * "Debt instrument id or stock code",
    "price" / COLLATERAL_PRICE * "Debt per 100 nominal, stocks per share (> 0)",
), "Operator: set a collateral price (BF210).", answer="UR1", operator=True, section=SECTION)

SetInterestRateRequest = message("EC202", "set_interest_rate", Kind.TRANSACTION, Struct(
    "currency" / Text(4) * "Currency",
    "rate" / RATE * "Annual bank savings deposit rate (negative: charged)",
), "Operator: set the daily bank savings deposit rate of a currency (BF211).", answer="UR1", operator=True,
    section=SECTION)

SetStockHaircutRequest = message("EC203", "set_stock_haircut", Kind.TRANSACTION, Struct(
    "stock" / Text(8) * "Stock code",
    "rate" / RATE * "The stock's haircut (the applied rate is never below the 30% floor)",
), "Operator: set a stock's haircut rate (BF212).", answer="UR1", operator=True, section=SECTION)

# ====================================================================== queries
CollateralAccountsQuery = message("FQ200", "collateral_accounts_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
    "clearing_house" / Text(8) * "Blank: every clearing house",
), "Collateral accounts.", answer="FA200", section=SECTION)

CollateralAccountsAnswer = message("FA200", "collateral_accounts_answer", Kind.REPLY, Struct(
    "items" / Items(U16, CollateralAccountItem) * "Accounts",
), "Answer to FQ200.", section=SECTION)

AccountMappingQuery = message("FQ201", "account_mapping_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
    "clearing_house" / Text(8) * "Blank: every clearing house",
), "DCASS account to collateral account mapping.", answer="FA201", section=SECTION)

AccountMappingAnswer = message("FA201", "account_mapping_answer", Kind.REPLY, Struct(
    "items" / Items(U16, MappingItem) * "One per DCASS account",
), "Answer to FQ201.", section=SECTION)

HoldingsQuery = message("FQ202", "holdings_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator must name one)",
    "clearing_house" / Text(8) * "HKCC, SEOCH or HKSCC",
    "account" / Text(12) * "Collateral account",
), "Holdings of a collateral account.", answer="FA202", section=SECTION)

HoldingsAnswer = message("FA202", "holdings_answer", Kind.REPLY, Struct(
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "kind" / Code(AccountKind) * "Kind",
    Filler(3),
    "items" / Items(U16, HoldingItem) * "Holdings",
), "Answer to FQ202.", section=SECTION)

CoverageQuery = message("FQ203", "coverage_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator must name one)",
    "clearing_house" / Text(8) * "HKCC, SEOCH or HKSCC",
    "account" / Text(12) * "Collateral account",
), "Margin coverage of a collateral account per settlement currency.", answer="FA203", section=SECTION)

CoverageAnswer = message("FA203", "coverage_answer", Kind.REPLY, Struct(
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "kind" / Code(AccountKind) * "Kind",
    Filler(3),
    "excess_hkd" / I64 * "Value after haircuts of the unused collateral, HKD cents",
    "items" / Items(U16, CoverageLineItem) * "One per settlement currency with a requirement",
), "Answer to FQ203.", section=SECTION)

CollateralUsageQuery = message("FQ204", "collateral_usage_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator must name one)",
    "clearing_house" / Text(8) * "HKCC, SEOCH or HKSCC",
    "account" / Text(12) * "Collateral account",
), "What each holding covers, in the order of use, then the unused holdings.", answer="FA204", section=SECTION)

CollateralUsageAnswer = message("FA204", "collateral_usage_answer", Kind.REPLY, Struct(
    "items" / Items(U16, UsageItem) * "Used holdings in order of use, then unused ones",
), "Answer to FQ204.", section=SECTION)

MarginCallsQuery = message("FQ205", "margin_calls_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
    "clearing_house" / Text(8) * "Blank: every clearing house",
), "Open margin calls.", answer="FA205", section=SECTION)

MarginCallsAnswer = message("FA205", "margin_calls_answer", Kind.REPLY, Struct(
    "items" / Items(U16, MarginCallItem) * "Calls",
), "Answer to FQ205.", section=SECTION)

InstructionsQuery = message("FQ206", "instructions_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
    "pending_only" / Bool * "1: pending instructions only",
    Filler(3),
), "Deposit and withdrawal instructions.", answer="FA206", section=SECTION)

InstructionsAnswer = message("FA206", "instructions_answer", Kind.REPLY, Struct(
    "items" / Items(U16, InstructionItem) * "Instructions",
), "Answer to FQ206.", section=SECTION)

ReserveFundQuery = message("FQ207", "reserve_fund_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
    "clearing_house" / Text(8) * "Blank: every clearing house",
), "Reserve fund contributions held.", answer="FA207", section=SECTION)

ReserveFundAnswer = message("FA207", "reserve_fund_answer", Kind.REPLY, Struct(
    "items" / Items(U16, ReserveFundItem) * "Holdings",
), "Answer to FQ207.", section=SECTION)

CoveredCallsQuery = message("FQ208", "covered_calls_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
), "Covered calls in force.", answer="FA208", section=SECTION)

CoveredCallsAnswer = message("FA208", "covered_calls_answer", Kind.REPLY, Struct(
    "items" / Items(U16, CoveredCallItem) * "Covered calls",
), "Answer to FQ208.", section=SECTION)

InterestQuery = message("FQ209", "interest_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
    "business_date" / Date * "Accrual date (blank: every day)",
), "Daily interest and accommodation charges.", answer="FA209", section=SECTION)

InterestAnswer = message("FA209", "interest_answer", Kind.REPLY, Struct(
    "items" / Items(U16, AccrualItem) * "Accrual lines",
), "Answer to FQ209.", section=SECTION)

CollateralParametersQuery = message("FQ210", "collateral_parameters_query", Kind.QUERY, Struct(
    Filler(4),
), "FX rates, interest rates and haircuts in force (like CCMIR02).", answer="FA210", section=SECTION)

CollateralParametersAnswer = message("FA210", "collateral_parameters_answer", Kind.REPLY, Struct(
    "business_date" / Date * "Business date",
    "accommodation_rate" / RATE * "Accommodation charge, annual",
    "stock_haircut_floor" / RATE * "Stock haircut floor",
    "items" / Items(U16, CurrencyParameterItem) * "One per acceptable currency",
), "Answer to FQ210.", section=SECTION)

EligibleCollateralQuery = message("FQ211", "eligible_collateral_query", Kind.QUERY, Struct(
    Filler(4),
), "Acceptable non-cash collateral with today's haircut and price.", answer="FA211", section=SECTION)

EligibleCollateralAnswer = message("FA211", "eligible_collateral_answer", Kind.REPLY, Struct(
    "items" / Items(U16, EligibleItem) * "Instruments",
), "Answer to FQ211.", section=SECTION)

# ====================================================================== broadcasts
CollateralAccountOpenedBroadcast = message("BF200", "collateral_account_opened", Kind.BROADCAST, Struct(
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "kind" / Code(AccountKind) * "Kind",
    Filler(3),
), "A collateral account was opened.", stream="collateral", section=SECTION)

DcassAccountMappedBroadcast = message("BF201", "dcass_account_mapped", Kind.BROADCAST, Struct(
    "clearing_house" / Text(8) * "Clearing house",
    "dcass_account" / Text(16) * "DCASS account",
    "account" / Text(12) * "Collateral account it maps to now",
    "previous_account" / Text(12) * "Collateral account it mapped to before",
    "explicit" / Bool * "1: explicit mapping; 0: default",
    Filler(3),
), "A DCASS account mapping changed.", stream="collateral", section=SECTION)

InstructionAcceptedBroadcast = message("BF202", "instruction_accepted", Kind.BROADCAST, Struct(
    "instruction_id" / U32 * "Instruction number",
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "action" / Code(InstructionAction) * "Deposit or withdrawal",
    "asset_class" / Code(AssetClass) * "Asset class",
    "specific" / Bool * "1: specific stock",
    Filler(1),
    "asset" / Text(12) * "Currency, instrument id or stock code",
    "quantity" / I64 * "Cents, nominal cents or shares",
    "value_date" / Date * "Value date",
), "A deposit or withdrawal instruction was accepted.", stream="collateral", section=SECTION)

InstructionCompletedBroadcast = message("BF203", "instruction_completed", Kind.BROADCAST, Struct(
    "instruction_id" / U32 * "Instruction number",
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "action" / Code(InstructionAction) * "Deposit or withdrawal",
    "asset_class" / Code(AssetClass) * "Asset class",
    "specific" / Bool * "1: specific stock",
    Filler(1),
    "asset" / Text(12) * "Currency, instrument id or stock code",
    "quantity" / I64 * "Cents, nominal cents or shares",
    "value_date" / Date * "Value date",
    "completed_date" / Date * "Date completed",
    "completed_time" / Time * "Time completed",
    Filler(2),
), "An instruction was completed (a cash withdrawal: paid on its value date).", stream="collateral",
    section=SECTION)

CoverageChangedBroadcast = message("BF204", "coverage_changed", Kind.BROADCAST, Struct(
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "excess_hkd" / I64 * "Value after haircuts of the unused collateral, HKD cents",
    "items" / Items(U16, CoverageLineItem) * "One per settlement currency with a requirement (none: nothing to cover)",
), "The coverage of a collateral account changed (margin, collateral, prices or rates).",
    stream="collateral", section=SECTION)

MarginCallBroadcast = message("BF205", "margin_call", Kind.BROADCAST, Struct(
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "currency" / Text(4) * "Currency of the call",
    "amount" / I64 * "Amount called, cents (0 when met)",
    "status" / Code(CallStatus) * "Issued, amended (due time kept) or met",
    Filler(3),
    "called_date" / Date * "Date issued",
    "called_time" / Time * "Time issued",
    Filler(2),
    "due_date" / Date * "Due date",
    "due_time" / Time * "Due time",
    Filler(2),
), "A margin call was issued, amended or met.", stream="collateral", section=SECTION)

CoveredCallChangedBroadcast = message("BF206", "covered_call_changed", Kind.BROADCAST, Struct(
    "clearing_house" / Text(8) * "SEOCH",
    "dcass_account" / Text(16) * "DCASS account",
    "account" / Text(12) * "Collateral account holding the specific stock",
    "series" / Nested(SeriesKey) * "Series",
    "underlying" / Text(8) * "Stock code",
    "contracts" / I64 * "Contracts covered now",
    "shares" / I64 * "Shares earmarked now",
    "reason" / Code(CoverReason) * "Lodged, released by request, or reduced because the position closed",
    Filler(3),
), "A covered call changed.", stream="collateral", section=SECTION)

ReserveFundContributedBroadcast = message("BF207", "reserve_fund_contributed", Kind.BROADCAST, Struct(
    "clearing_house" / Text(8) * "Clearing house",
    "contribution" / Code(Contribution) * "Contribution type",
    "asset_class" / Code(AssetClass) * "Cash or EFBN",
    Filler(2),
    "asset" / Text(12) * "HKD or EFBN instrument id",
    "quantity" / I64 * "Cents or nominal cents",
), "A reserve fund contribution was made.", stream="collateral", section=SECTION)

InterestPostedBroadcast = message("BF208", "interest_posted", Kind.BROADCAST, Struct(
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "currency" / Text(4) * "Currency",
    "period_end" / Date * "Last accrual date posted",
    "interest" / I64 * "Net interest, cents (+ rebate, - charge)",
    "accommodation" / I64 * "Accommodation charges, cents (<= 0)",
    "net" / I64 * "Posted to the cash balance, cents",
    "balance" / I64 * "Cash balance after posting, cents (negative: a debit owed)",
), "Interest and accommodation charges posted (first business day of the next month).",
    stream="collateral", section=SECTION)

FxRateBroadcast = message("BF209", "fx_rate_set", Kind.BROADCAST, Struct(
    "currency" / Text(4) * "Currency",
    "rate" / RATE * "HKD per 1 unit",
), "Public: an FX rate used for collateral valuation changed.", stream="general", section=SECTION)

CollateralPriceBroadcast = message("BF210", "collateral_price_set", Kind.BROADCAST, Struct(
    "instrument" / Text(12) * "Instrument id or stock code",
    "price" / COLLATERAL_PRICE * "Price",
), "Public: a collateral price changed.", stream="general", section=SECTION)

InterestRateBroadcast = message("BF211", "interest_rate_set", Kind.BROADCAST, Struct(
    "currency" / Text(4) * "Currency",
    "rate" / RATE * "Annual rate",
), "Public: a bank savings deposit rate changed.", stream="general", section=SECTION)

StockHaircutBroadcast = message("BF212", "stock_haircut_set", Kind.BROADCAST, Struct(
    "stock" / Text(8) * "Stock code",
    "rate" / RATE * "The stock's own rate",
    "applied" / RATE * "Rate applied (never below the floor)",
), "Public: a stock haircut changed.", stream="general", section=SECTION)


# ====================================================================== money moves (issue 13)
# Bank mandates, emulated bank balances, DCASS daily money settlement: docs/guides/collateral.md,
# "Money moves".
MandateItem = record("mandate_item", Struct(
    "participant" / Text(8) * "Participant",
    "currency" / Text(4) * "Currency",
    "bank" / Text(60) * "Mandated bank (blank: no mandate)",
    "bank_account" / Text(40) * "Participant's account at that bank",
    "unlimited" / Bool * "1: emulated balance unlimited (the default: always pays)",
    Filler(3),
    "balance" / I64 * "Emulated bank balance, cents (0 when unlimited)",
), "A bank mandate and the emulated balance behind it.")

SettlementItem = record("settlement_item", Struct(
    "settlement_id" / U32 * "Settlement number",
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "CCMS collateral account the DCASS accounts map to",
    "currency" / Text(4) * "Currency",
    "business_date" / Date * "Business date whose DCASS money it settles",
    "amount" / I64 * "Net, cents: + received, - paid",
    "due_date" / Date * "Due date (the next business day)",
    "due_time" / Time * "Due time",
    "status" / Code(SettlementStatus) * "Pending, settled or failed",
    "consequence" / Code(Consequence) * "What followed a failed collection",
    "settled_date" / Date * "Date processed (blank: pending)",
    "settled_time" / Time * "Time processed",
    "dcass_accounts" / Text(80, truncate=True) * "DCASS accounts offset in it, comma-separated (cut at 80 characters)",
), "One net DCASS money settlement per collateral account, currency and business date.")

SetBankMandateRequest = message("EC250", "set_bank_mandate", Kind.TRANSACTION, Struct(
    "participant" / Text(8) * "Participant",
    "currency" / Text(4) * "HKD, EUR, JPY, RMB or USD",
    "bank" / Text(60) * "Bank, 1-60 printable ASCII characters (blank: cancel the mandate)",
    "bank_account" / Text(40) * "Account at the bank, 1-40 printable ASCII characters",
), "Operator: set or cancel a participant's bank mandate for a currency (BF252).", answer="UR1", operator=True,
    section=SECTION)

SetBankBalanceRequest = message("EC251", "set_bank_balance", Kind.TRANSACTION, Struct(
    "participant" / Text(8) * "Participant",
    "currency" / Text(4) * "Currency",
    "unlimited" / Bool * "1: back to the default, a balance that always pays",
    Filler(3),
    "balance" / I64 * "Emulated balance of the mandated account, cents (>= 0)",
), "Operator: set the emulated balance of a participant's mandated bank account.", answer="UR1", operator=True,
    section=SECTION)

BankMandatesQuery = message("FQ250", "bank_mandates_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
), "Bank mandates and emulated bank balances.", answer="FA250", section=SECTION)

BankMandatesAnswer = message("FA250", "bank_mandates_answer", Kind.REPLY, Struct(
    "items" / Items(U16, MandateItem) * "Mandates",
), "Answer to FQ250.", section=SECTION)

SettlementsQuery = message("FQ251", "settlements_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
    "business_date" / Date * "Blank: every date",
    "status" / Code(SettlementFilter) * "0: every status",
    Filler(3),
), "DCASS daily money settlements.", answer="FA251", section=SECTION)

SettlementsAnswer = message("FA251", "settlements_answer", Kind.REPLY, Struct(
    "items" / Items(U16, SettlementItem) * "Settlements",
), "Answer to FQ251.", section=SECTION)

CollectionFailedBroadcast = message("BF250", "collection_failed", Kind.BROADCAST, Struct(
    "instruction_id" / U32 * "Instruction number of the cash deposit",
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "currency" / Text(4) * "Currency",
    "amount" / I64 * "Cents not collected",
    "bank" / Text(60) * "Mandated bank",
    "reason" / Code(CollectionFailure) * "Why",
    Filler(1),
    "failed_date" / Date * "Date",
    "failed_time" / Time * "Time",
), "A cash deposit could not be collected through the mandate: nothing was credited.", stream="collateral",
    section=SECTION)

SettlementBroadcast = message("BF251", "settlement_changed", Kind.BROADCAST, Struct(
    "settlement_id" / U32 * "Settlement number",
    "clearing_house" / Text(8) * "Clearing house",
    "account" / Text(12) * "Collateral account",
    "currency" / Text(4) * "Currency",
    "business_date" / Date * "Business date whose DCASS money it settles",
    "amount" / I64 * "Net, cents: + received, - paid",
    "due_date" / Date * "Due date",
    "due_time" / Time * "Due time",
    "status" / Code(SettlementStatus) * "Pending (at end of day), settled or failed (at the due time)",
    "consequence" / Code(Consequence) * "What followed a failed collection",
    "at_date" / Date * "Date of the change",
    "at_time" / Time * "Time of the change",
), "A DCASS money settlement was created (end of day) or processed (its due time).", stream="collateral",
    section=SECTION)

BankMandateBroadcast = message("BF252", "bank_mandate_set", Kind.BROADCAST, Struct(
    "currency" / Text(4) * "Currency",
    "bank" / Text(60) * "Mandated bank (blank: cancelled)",
    "bank_account" / Text(40) * "Account at the bank",
), "The participant's bank mandate for a currency was set or cancelled.", stream="collateral", section=SECTION)

# ---------------------------------------------------------------------- reserve fund requirement
ReserveFundPositionItem = record("reserve_fund_position_item", Struct(
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "HKCC or SEOCH",
    "requirement" / I64 * "Reserve fund requirement, HKD cents",
    "value" / I64 * "Contributions after haircuts, HKD cents",
    "shortfall" / I64 * "Requirement not covered, HKD cents",
    "excess" / I64 * "Withdrawable excess, HKD cents",
    "call_amount" / I64 * "Open reserve fund call, HKD cents (0: none)",
    "called_date" / Date * "Date the call was issued (blank: none)",
    "called_time" / Time * "Time issued",
    Filler(2),
    "due_date" / Date * "Due date",
    "due_time" / Time * "Due time",
    Filler(2),
), "A participant's reserve fund against its requirement at one clearing house.")

WithdrawReserveFundRequest = message("FC250", "withdraw_reserve_fund", Kind.TRANSACTION, Struct(
    "clearing_house" / Text(8) * "HKCC or SEOCH",
    "contribution" / Code(Contribution) * "Contribution type it was made as",
    Filler(3),
    "asset" / Text(12) * "HKD or an EFBN instrument id",
    "quantity" / I64 * "Cents or nominal cents (> 0)",
), "Withdraw reserve fund contributions from the excess over the requirement (cash paid to the mandated "
   "bank account). Rejected if it would leave a shortfall (-800405).", answer="UR1", section=SECTION)

SetReserveFundRequirementRequest = message("EC252", "set_reserve_fund_requirement", Kind.TRANSACTION, Struct(
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "HKCC or SEOCH",
    "amount" / I64 * "Requirement, HKD cents (>= 0)",
), "Operator: a participant's reserve fund requirement at a clearing house (BF255; a shortfall is called, BF253).",
    answer="UR1", operator=True, section=SECTION)

ReserveFundPositionQuery = message("FQ252", "reserve_fund_position_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
    "clearing_house" / Text(8) * "Blank: HKCC and SEOCH",
), "Reserve fund requirement, value, shortfall, excess and open call.", answer="FA252", section=SECTION)

ReserveFundPositionAnswer = message("FA252", "reserve_fund_position_answer", Kind.REPLY, Struct(
    "items" / Items(U16, ReserveFundPositionItem) * "One per participant and clearing house",
), "Answer to FQ252.", section=SECTION)

ReserveFundCallBroadcast = message("BF253", "reserve_fund_call", Kind.BROADCAST, Struct(
    "clearing_house" / Text(8) * "Clearing house",
    "amount" / I64 * "Amount called, HKD cents (0 when met)",
    "status" / Code(CallStatus) * "Issued, amended (due time kept) or met",
    Filler(3),
    "called_date" / Date * "Date issued",
    "called_time" / Time * "Time issued",
    Filler(2),
    "due_date" / Date * "Due date",
    "due_time" / Time * "Due time",
    Filler(2),
), "A reserve fund call was issued, amended or met.", stream="collateral", section=SECTION)

ReserveFundWithdrawnBroadcast = message("BF254", "reserve_fund_withdrawn", Kind.BROADCAST, Struct(
    "clearing_house" / Text(8) * "Clearing house",
    "contribution" / Code(Contribution) * "Contribution type",
    "asset_class" / Code(AssetClass) * "Cash or EFBN",
    Filler(2),
    "asset" / Text(12) * "HKD or EFBN instrument id",
    "quantity" / I64 * "Cents or nominal cents",
), "Reserve fund contributions were withdrawn.", stream="collateral", section=SECTION)

ReserveFundRequirementBroadcast = message("BF255", "reserve_fund_requirement_set", Kind.BROADCAST, Struct(
    "clearing_house" / Text(8) * "Clearing house",
    "amount" / I64 * "Requirement, HKD cents",
), "The participant's reserve fund requirement was set.", stream="collateral", section=SECTION)


# ---------------------------------------------------------------------- cross-market collateral (HKSCC)
OverviewItem = record("overview_item", Struct(
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "HKCC, SEOCH or HKSCC",
    "account" / Text(12) * "Collateral account",
    "kind" / Code(AccountKind) * "Kind",
    Filler(3),
    "collateral_hkd" / I64 * "Holdings valued for an HKD requirement after haircuts, HKD cents",
    "requirement_hkd" / I64 * "Requirements at today's FX rates, HKD cents (rounded down)",
    "shortfall_hkd" / I64 * "Shortfalls at today's FX rates, HKD cents (rounded up)",
    "excess_hkd" / I64 * "Unused collateral after haircuts, HKD cents",
    "open_calls" / U16 * "Open margin calls",
    Filler(2),
), "One collateral account in the single view across clearing houses.")

TransferCollateralRequest = message("FC251", "transfer_collateral", Kind.TRANSACTION, Struct(
    "from_clearing_house" / Text(8) * "HKCC, SEOCH or HKSCC",
    "from_account" / Text(12) * "Collateral account giving",
    "to_clearing_house" / Text(8) * "Another clearing house",
    "to_account" / Text(12) * "Collateral account of the same kind receiving",
    "instrument" / Text(12) * "Currency (cash), debt instrument id or stock code",
    "quantity" / I64 * "Cents, nominal cents or shares (> 0)",
), "Transfer collateral between the participant's own collateral accounts in different clearing houses, "
   "at once (BF202/BF203 TRANSFER_OUT and TRANSFER_IN). Checked as a withdrawal on the source (no shortfall "
   "left) and a deposit on the target; before 16:00:00 business time (16:00:00 is late). Ack reference: the "
   "TRANSFER_OUT instruction number.", answer="UR1", section=SECTION)

SetMarginRequirementRequest = message("EC253", "set_margin_requirement", Kind.TRANSACTION, Struct(
    "participant" / Text(8) * "Participant",
    "clearing_house" / Text(8) * "HKSCC (HKCC and SEOCH requirements come from DCASS)",
    "account" / Text(12) * "Collateral account",
    "currency" / Text(4) * "Currency",
    "amount" / I64 * "Requirement, cents (>= 0; 0 removes it)",
), "Operator: a margin requirement at a clearing house whose market is not emulated (HKSCC); covered, "
   "called and broadcast like DCASS margin (BF204, BF205).", answer="UR1", operator=True, section=SECTION)

CollateralOverviewQuery = message("FQ253", "collateral_overview_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
), "One view of the participant's collateral accounts across HKCC, SEOCH and HKSCC.", answer="FA253",
    section=SECTION)

CollateralOverviewAnswer = message("FA253", "collateral_overview_answer", Kind.REPLY, Struct(
    "items" / Items(U16, OverviewItem) * "Collateral accounts",
), "Answer to FQ253.", section=SECTION)


# ---------------------------------------------------------------------- CCASS deliveries
class DeliveryDirection(enum.IntEnum):
    RECEIVE = 1    # receive the shares, pay the money
    DELIVER = 2    # deliver the shares, receive the money


class DeliveryStatus(enum.IntEnum):
    PENDING = 1
    SETTLED = 2
    FAILED = 3     # retried at every later settlement run


class DeliveryStatusFilter(enum.IntEnum):
    ALL = 0
    PENDING = 1
    SETTLED = 2
    FAILED = 3


class DeliveryFailure(enum.IntEnum):
    NONE = 0
    INSUFFICIENT_SHARES = 1
    MONEY_NOT_COLLECTED = 2


CcassDeliveryItem = record("ccass_delivery_item", Struct(
    "obligation_no" / U32 * "DCASS delivery obligation number",
    "participant" / Text(8) * "Participant",
    "dcass_account" / Text(16) * "DCASS account of the exercise or assignment",
    "stock" / Text(8) * "Stock code (5 digits)",
    "direction" / Code(DeliveryDirection) * "Receive (pay) or deliver (be paid)",
    "status" / Code(DeliveryStatus) * "Pending, settled or failed",
    "reason" / Code(DeliveryFailure) * "Why the last run failed",
    Filler(1),
    "shares" / I64 * "Shares",
    "covered_shares" / I64 * "Of which out of the CCMS specific collateral (assigned covered calls)",
    "amount" / I64 * "Money, cents (strike x shares)",
    "currency" / Text(4) * "Currency",
    "settlement_date" / Date * "Settlement date",
    "collateral_account" / Text(12) * "SEOCH collateral account of the covered shares",
    "settled_date" / Date * "Date of the last run (blank: none yet)",
    "settled_time" / Time * "Time of the last run",
    Filler(2),
), "A stock delivery from exercise or assignment, settled in CCASS against the money.")

StockBalanceItem = record("stock_balance_item", Struct(
    "participant" / Text(8) * "Participant",
    "stock" / Text(8) * "Stock code",
    "shares" / I64 * "Shares in the emulated CCASS stock account",
), "One stock in a participant's emulated CCASS stock account.")

SetStockBalanceRequest = message("EC254", "set_stock_balance", Kind.TRANSACTION, Struct(
    "participant" / Text(8) * "Participant",
    "stock" / Text(8) * "Stock code",
    "shares" / I64 * "Shares (>= 0)",
), "Operator: the shares of a stock in a participant's emulated CCASS stock account.", answer="UR1",
    operator=True, section=SECTION)

CcassDeliveriesQuery = message("FQ254", "ccass_deliveries_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
    "status" / Code(DeliveryStatusFilter) * "0: every status",
    Filler(3),
), "Stock deliveries from exercise and assignment and their CCASS settlement.", answer="FA254", section=SECTION)

CcassDeliveriesAnswer = message("FA254", "ccass_deliveries_answer", Kind.REPLY, Struct(
    "items" / Items(U16, CcassDeliveryItem) * "Deliveries",
), "Answer to FQ254.", section=SECTION)

StockAccountsQuery = message("FQ255", "stock_accounts_query", Kind.QUERY, Struct(
    "participant" / Text(8) * "Blank: the caller (the operator: every participant)",
), "The emulated CCASS stock accounts.", answer="FA255", section=SECTION)

StockAccountsAnswer = message("FA255", "stock_accounts_answer", Kind.REPLY, Struct(
    "items" / Items(U16, StockBalanceItem) * "Stocks held",
), "Answer to FQ255.", section=SECTION)

CcassDeliveryBroadcast = message("BF256", "ccass_delivery", Kind.BROADCAST, Struct(
    "obligation_no" / U32 * "DCASS delivery obligation number",
    "stock" / Text(8) * "Stock code",
    "direction" / Code(DeliveryDirection) * "Receive or deliver",
    "status" / Code(DeliveryStatus) * "Pending (created), settled or failed (at a settlement run)",
    "reason" / Code(DeliveryFailure) * "Why it failed",
    Filler(1),
    "shares" / I64 * "Shares",
    "covered_shares" / I64 * "Of which out of the CCMS specific collateral",
    "amount" / I64 * "Money, cents",
    "currency" / Text(4) * "Currency",
    "settlement_date" / Date * "Settlement date",
    "at_date" / Date * "Date of the change",
    "at_time" / Time * "Time of the change",
    Filler(2),
), "A CCASS stock delivery was created (end of day) or settled / failed (settlement run).", stream="collateral",
    section=SECTION)
