"""CCMS commands, queries, answers and events (the public API of the collateral core).

Conventions: money and nominal amounts are ``int`` minor units (cents, 2 decimals for every
currency); stock quantities are shares; FX rates are ``Decimal`` HKD per 1 unit of the currency;
debt prices are ``Decimal`` per 100 nominal, stock prices ``Decimal`` per share in the stock's
currency; interest and haircut rates are ``Decimal`` fractions (0.007 = 0.7%), annual for interest.
``participant=""`` on a participant command means the caller; the operator must name one.
Clearing houses: "HKCC" or "SEOCH". Collateral account kinds: "HOUSE", "MARKET_MAKER", "CLIENT".
Asset classes: "CASH" (asset = currency), "EFBN", "UST" (asset = instrument id), "STOCK"
(asset = 5-digit stock code).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from ..core import Event

# ====================================================================== participant commands


@dataclass(frozen=True, slots=True)
class OpenCollateralAccount:
    """Open an additional collateral account (the default ones, HOUSE / MM / CLIENT, always exist)."""

    clearing_house: str
    account: str
    kind: str
    participant: str = ""


@dataclass(frozen=True, slots=True)
class MapDcassAccount:
    """Map a DCASS account onto a collateral account of the same clearing house.
    ``account=""`` restores the default mapping from the DCASS account type."""

    dcass_account: str
    account: str
    participant: str = ""


@dataclass(frozen=True, slots=True)
class DepositCash:
    clearing_house: str
    account: str
    currency: str
    amount: int
    participant: str = ""


@dataclass(frozen=True, slots=True)
class WithdrawCash:
    """Rejected if it would leave a shortfall. Requested before the cut-off (11:00): value date
    today, else the next business day; paid at the run time on the value date."""

    clearing_house: str
    account: str
    currency: str
    amount: int
    participant: str = ""


@dataclass(frozen=True, slots=True)
class DepositSecurities:
    """EFBN / UST (``quantity`` = nominal in cents) or stock (``quantity`` = shares).
    ``specific=True``: stock lodged as specific collateral for SEOCH covered calls."""

    clearing_house: str
    account: str
    instrument: str
    quantity: int
    specific: bool = False
    participant: str = ""


@dataclass(frozen=True, slots=True)
class WithdrawSecurities:
    clearing_house: str
    account: str
    instrument: str
    quantity: int
    specific: bool = False
    participant: str = ""


@dataclass(frozen=True, slots=True)
class ContributeReserveFund:
    """``contribution``: INITIAL (HKD cash) | ADDITIONAL | VARIABLE (HKD cash or EFBN).
    ``asset``: "HKD" for cash, else an EFBN instrument id; ``quantity`` in cents (cash or nominal)."""

    clearing_house: str
    contribution: str
    asset: str
    quantity: int
    participant: str = ""


@dataclass(frozen=True, slots=True)
class LodgeCoveredCall:
    """Cover ``contracts`` short calls of ``series_key`` in a SEOCH DCASS account with free specific
    stock (contract_size x contracts shares) of the collateral account the DCASS account maps to."""

    dcass_account: str
    series_key: bytes
    contracts: int
    participant: str = ""


@dataclass(frozen=True, slots=True)
class ReleaseCoveredCall:
    dcass_account: str
    series_key: bytes
    contracts: int
    participant: str = ""


# ====================================================================== operator commands


@dataclass(frozen=True, slots=True)
class SetFxRate:
    currency: str
    rate: Decimal            # HKD per 1 unit


@dataclass(frozen=True, slots=True)
class SetCollateralPrice:
    instrument: str          # debt id (price per 100 nominal) or stock code (price per share)
    price: Decimal


@dataclass(frozen=True, slots=True)
class SetInterestRate:
    currency: str
    rate: Decimal            # annual bank savings deposit rate, may be negative


@dataclass(frozen=True, slots=True)
class SetStockHaircut:
    stock: str
    rate: Decimal            # the stock's own rate; the applied rate is max(floor, rate)


# ====================================================================== queries and answers


@dataclass(frozen=True, slots=True)
class CollateralAccountsQuery:
    participant: str = ""
    clearing_house: str = ""


@dataclass(frozen=True, slots=True)
class CollateralAccountInfo:
    participant: str
    clearing_house: str
    account: str
    kind: str
    dcass_accounts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccountMappingQuery:
    participant: str = ""
    clearing_house: str = ""


@dataclass(frozen=True, slots=True)
class MappingEntry:
    participant: str
    clearing_house: str
    dcass_account: str
    account_type: str
    account: str
    explicit: bool           # False: default mapping from the account type


@dataclass(frozen=True, slots=True)
class HoldingsQuery:
    clearing_house: str
    account: str
    participant: str = ""


@dataclass(frozen=True, slots=True)
class Holding:
    asset_class: str
    asset: str
    currency: str
    quantity: int
    specific: bool
    earmarked: int           # shares earmarked for covered calls (specific stock only)
    maturity: date | None
    price: Decimal | None
    haircut: Decimal | None  # haircut against its own currency (None: not acceptable / unpriced)
    value_hkd: int           # haircut value for an HKD requirement (0 for specific stock)


@dataclass(frozen=True, slots=True)
class HoldingsAnswer:
    participant: str
    clearing_house: str
    account: str
    kind: str
    holdings: tuple[Holding, ...]


@dataclass(frozen=True, slots=True)
class CoverageQuery:
    clearing_house: str
    account: str
    participant: str = ""


@dataclass(frozen=True, slots=True)
class CoverageLine:
    """Coverage of one settlement currency's requirement in one collateral account."""

    currency: str
    requirement: int
    settlement_cash_required: int   # must be cash in the settlement currency
    cash_required: int              # must be cash (any acceptable currency), includes the above
    rmb_limit_share: int            # RMB only: part of the participant's fixed limit used here
    covered_settlement_cash: int
    covered_other_cash: int
    covered_non_cash: int
    shortfall: int


@dataclass(frozen=True, slots=True)
class Allocation:
    """What one holding covers: ``quantity`` of ``asset`` gives ``value`` (settlement currency cents)."""

    settlement_currency: str
    asset_class: str
    asset: str
    quantity: int
    value: int
    haircut: Decimal                # combined haircut applied


@dataclass(frozen=True, slots=True)
class UnusedHolding:
    asset_class: str
    asset: str
    quantity: int
    value_hkd: int


@dataclass(frozen=True, slots=True)
class MarginCall:
    currency: str
    amount: int
    called_at: datetime
    due: datetime


@dataclass(frozen=True, slots=True)
class CoverageAnswer:
    participant: str
    clearing_house: str
    account: str
    kind: str
    lines: tuple[CoverageLine, ...]
    allocations: tuple[Allocation, ...]
    unused: tuple[UnusedHolding, ...]
    excess_hkd: int                 # haircut value of the unused general collateral, in HKD
    calls: tuple[MarginCall, ...]


@dataclass(frozen=True, slots=True)
class MarginCallsQuery:
    participant: str = ""
    clearing_house: str = ""


@dataclass(frozen=True, slots=True)
class MarginCallInfo:
    participant: str
    clearing_house: str
    account: str
    currency: str
    amount: int
    called_at: datetime
    due: datetime


@dataclass(frozen=True, slots=True)
class InstructionsQuery:
    participant: str = ""
    pending_only: bool = True


@dataclass(frozen=True, slots=True)
class Instruction:
    instruction_id: int
    participant: str
    clearing_house: str
    account: str
    action: str              # DEPOSIT | WITHDRAW | TRANSFER_OUT | TRANSFER_IN
    asset_class: str
    asset: str
    quantity: int
    specific: bool
    requested_at: datetime
    value_date: date
    status: str              # PENDING | COMPLETED | FAILED
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReserveFundQuery:
    participant: str = ""
    clearing_house: str = ""


@dataclass(frozen=True, slots=True)
class ReserveFundHolding:
    participant: str
    clearing_house: str
    contribution: str
    asset_class: str
    asset: str
    quantity: int


@dataclass(frozen=True, slots=True)
class CoveredCallsQuery:
    participant: str = ""


@dataclass(frozen=True, slots=True)
class CoveredCall:
    participant: str
    clearing_house: str
    dcass_account: str
    account: str             # collateral account holding the specific stock
    series_key: bytes
    underlying: str
    contract_size: int
    contracts: int
    shares: int              # earmarked shares = contract_size x contracts


@dataclass(frozen=True, slots=True)
class InterestQuery:
    business_date: date | None = None   # None: every day
    participant: str = ""


@dataclass(frozen=True, slots=True)
class Accrual:
    participant: str
    business_date: date
    clearing_house: str
    account: str
    currency: str
    kind: str                # INTEREST | ACCOMMODATION
    base: int                # cash used (INTEREST) or non-cash value used (ACCOMMODATION), cents
    rate: Decimal            # annual
    days: int
    amount: int              # + rebated to the participant, - charged
    posted_on: date | None


@dataclass(frozen=True, slots=True)
class CollateralParametersQuery:
    pass


@dataclass(frozen=True, slots=True)
class CollateralParametersAnswer:
    business_date: date
    fx_rates: tuple[tuple[str, Decimal], ...]
    interest_rates: tuple[tuple[str, Decimal], ...]
    cash_haircuts: tuple[tuple[str, Decimal], ...]
    accommodation_rate: Decimal
    stock_haircut_floor: Decimal


@dataclass(frozen=True, slots=True)
class EligibleCollateralQuery:
    pass


@dataclass(frozen=True, slots=True)
class EligibleInstrument:
    asset_class: str
    asset: str
    name: str
    currency: str
    maturity: date | None
    haircut: Decimal | None  # against its own currency today; None if matured
    price: Decimal | None


# ====================================================================== events
# STREAM "collateral" (owner = the participant), except the public rate/price events: "general".


@dataclass(slots=True)
class CollateralAccountOpened(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    clearing_house: str
    account: str
    kind: str


@dataclass(slots=True)
class DcassAccountMapped(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    clearing_house: str
    dcass_account: str
    account: str
    previous_account: str
    explicit: bool


@dataclass(slots=True)
class InstructionAccepted(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    instruction_id: int
    clearing_house: str
    account: str
    action: str
    asset_class: str
    asset: str
    quantity: int
    specific: bool
    value_date: date


@dataclass(slots=True)
class InstructionCompleted(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    instruction_id: int
    clearing_house: str
    account: str
    action: str
    asset_class: str
    asset: str
    quantity: int
    specific: bool
    value_date: date
    completed_at: datetime


@dataclass(slots=True)
class CoverageChanged(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    clearing_house: str
    account: str
    lines: tuple[CoverageLine, ...]
    excess_hkd: int


@dataclass(slots=True)
class MarginCallChanged(Event):
    """status: ISSUED (new shortfall), AMENDED (amount changed, due time kept), MET (no shortfall)."""

    STREAM: ClassVar[str] = "collateral"
    owner: str
    clearing_house: str
    account: str
    currency: str
    amount: int
    status: str
    called_at: datetime
    due: datetime


@dataclass(slots=True)
class CoveredCallChanged(Event):
    """reason: LODGED, RELEASED (participant request), POSITION_CLOSED (short position reduced)."""

    STREAM: ClassVar[str] = "collateral"
    owner: str
    clearing_house: str
    dcass_account: str
    account: str
    series_key: bytes
    underlying: str
    contracts: int
    shares: int
    reason: str


@dataclass(slots=True)
class ReserveFundContributed(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    clearing_house: str
    contribution: str
    asset_class: str
    asset: str
    quantity: int


@dataclass(slots=True)
class InterestPosted(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    clearing_house: str
    account: str
    currency: str
    period_end: date         # last accrual date posted
    interest: int            # net interest (+ rebate, - charge)
    accommodation: int       # accommodation charges (<= 0)
    net: int
    balance: int             # cash balance after posting (may be negative: a debit owed)


@dataclass(slots=True)
class FxRateSet(Event):
    """Public (owner None): on the general stream, seen by every participant."""

    STREAM: ClassVar[str] = "general"
    currency: str
    rate: Decimal
    owner: str | None = None


@dataclass(slots=True)
class CollateralPriceSet(Event):
    """Public (owner None): on the general stream, seen by every participant."""

    STREAM: ClassVar[str] = "general"
    instrument: str
    price: Decimal
    owner: str | None = None


@dataclass(slots=True)
class InterestRateSet(Event):
    """Public (owner None): on the general stream, seen by every participant."""

    STREAM: ClassVar[str] = "general"
    currency: str
    rate: Decimal
    owner: str | None = None


@dataclass(slots=True)
class StockHaircutSet(Event):
    """Public (owner None): on the general stream, seen by every participant."""

    STREAM: ClassVar[str] = "general"
    stock: str
    rate: Decimal
    applied: Decimal
    owner: str | None = None


# ====================================================================== money moves: mandates, bank, settlement
# (docs/guides/collateral.md, "Money moves")


@dataclass(frozen=True, slots=True)
class SetBankMandate:
    """Operator: the participant's bank mandate for ``currency`` (the bank and account CCMS collects
    from and pays to). ``bank=""`` cancels the mandate."""

    participant: str
    currency: str
    bank: str
    bank_account: str = ""


@dataclass(frozen=True, slots=True)
class SetBankBalance:
    """Operator: the emulated balance of the participant's mandated bank account in ``currency``
    (cents, >= 0); ``unlimited=True`` restores the default, a balance that always pays."""

    participant: str
    currency: str
    balance: int = 0
    unlimited: bool = False


@dataclass(frozen=True, slots=True)
class BankMandatesQuery:
    participant: str = ""


@dataclass(frozen=True, slots=True)
class BankMandate:
    participant: str
    currency: str
    bank: str
    bank_account: str
    balance: int | None      # None: unlimited (the default, always pays)


@dataclass(frozen=True, slots=True)
class SettlementsQuery:
    """DCASS money settlements; ``business_date=None``: every date; ``status=""``: every status."""

    participant: str = ""
    business_date: date | None = None
    status: str = ""


@dataclass(frozen=True, slots=True)
class Settlement:
    """One net money settlement per CCMS collateral account, currency and business date: what the
    participant receives (+) or pays (-) for the DCASS accounts mapped to that collateral account."""

    settlement_id: int
    participant: str
    clearing_house: str
    account: str
    currency: str
    business_date: date      # the day whose DCASS obligations it settles
    amount: int              # net, cents: + received, - paid
    dcass_accounts: tuple[str, ...]
    due: datetime
    status: str              # PENDING | SETTLED | FAILED
    settled_at: datetime | None
    consequence: str         # "" | DEBITED_COLLATERAL (what followed a failed collection)


@dataclass(slots=True)
class BankMandateSet(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    currency: str
    bank: str
    bank_account: str


@dataclass(slots=True)
class CollectionFailed(Event):
    """A cash deposit could not be collected through the mandate: nothing credited."""

    STREAM: ClassVar[str] = "collateral"
    owner: str
    instruction_id: int
    clearing_house: str
    account: str
    currency: str
    amount: int
    bank: str
    reason: str              # INSUFFICIENT_BANK_BALANCE
    at: datetime


@dataclass(slots=True)
class SettlementChanged(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    settlement_id: int
    clearing_house: str
    account: str
    currency: str
    business_date: date
    amount: int
    due: datetime
    status: str
    consequence: str
    at: datetime


# ====================================================================== reserve fund requirement
# (docs/guides/collateral.md, "Reserve fund")


@dataclass(frozen=True, slots=True)
class SetReserveFundRequirement:
    """Operator: the participant's reserve fund requirement at HKCC or SEOCH, HKD cents (>= 0)."""

    participant: str
    clearing_house: str
    amount: int


@dataclass(frozen=True, slots=True)
class WithdrawReserveFund:
    """Withdraw reserve fund contributions, only from the excess over the requirement."""

    clearing_house: str
    contribution: str
    asset: str
    quantity: int
    participant: str = ""


@dataclass(frozen=True, slots=True)
class ReserveFundPositionQuery:
    participant: str = ""
    clearing_house: str = ""


@dataclass(frozen=True, slots=True)
class ReserveFundPosition:
    participant: str
    clearing_house: str
    requirement: int         # HKD cents
    value: int               # contributions after haircuts, HKD cents
    shortfall: int
    excess: int              # withdrawable
    call_amount: int         # open reserve fund call (0: none)
    called_at: datetime | None
    due: datetime | None


@dataclass(slots=True)
class ReserveFundRequirementSet(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    clearing_house: str
    amount: int


@dataclass(slots=True)
class ReserveFundCallChanged(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    clearing_house: str
    amount: int
    status: str              # ISSUED | AMENDED | MET
    called_at: datetime
    due: datetime


@dataclass(slots=True)
class ReserveFundWithdrawn(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    clearing_house: str
    contribution: str
    asset_class: str
    asset: str
    quantity: int


# ====================================================================== cross-market collateral (HKSCC)
# (docs/guides/collateral.md, "Cross-market collateral")


@dataclass(frozen=True, slots=True)
class SetMarginRequirement:
    """Operator: the margin requirement of a collateral account at a clearing house whose market is
    not emulated (HKSCC), cents of ``currency`` (>= 0; 0 removes it)."""

    participant: str
    clearing_house: str
    account: str
    currency: str
    amount: int


@dataclass(frozen=True, slots=True)
class TransferCollateral:
    """Move collateral from one of the participant's collateral accounts to one of the same kind in
    another clearing house. ``instrument``: a currency (cash), a debt instrument id or a stock code;
    ``quantity``: cents, nominal cents or shares."""

    from_clearing_house: str
    from_account: str
    to_clearing_house: str
    to_account: str
    instrument: str
    quantity: int
    participant: str = ""


@dataclass(frozen=True, slots=True)
class CollateralOverviewQuery:
    participant: str = ""


@dataclass(frozen=True, slots=True)
class CollateralOverview:
    """One collateral account in the participant's single view across clearing houses."""

    participant: str
    clearing_house: str
    account: str
    kind: str
    collateral_hkd: int      # holdings valued for an HKD requirement, after haircuts
    requirement_hkd: int     # its requirements converted to HKD at today's rates (rounded down)
    shortfall_hkd: int       # its shortfalls converted to HKD (rounded up)
    excess_hkd: int
    open_calls: int


# ====================================================================== CCASS deliveries
# (docs/guides/collateral.md, "CCASS deliveries")


@dataclass(frozen=True, slots=True)
class SetStockBalance:
    """Operator: the shares of ``stock`` in the participant's emulated CCASS stock account (>= 0)."""

    participant: str
    stock: str
    shares: int


@dataclass(frozen=True, slots=True)
class StockAccountsQuery:
    participant: str = ""


@dataclass(frozen=True, slots=True)
class StockBalance:
    participant: str
    stock: str
    shares: int


@dataclass(frozen=True, slots=True)
class CcassDeliveriesQuery:
    participant: str = ""
    status: str = ""         # "" = every status


@dataclass(frozen=True, slots=True)
class CcassDelivery:
    """A stock delivery from a SEOCH exercise or assignment, settled in CCASS against the money."""

    obligation_no: int       # DCASS's delivery obligation number
    participant: str
    dcass_account: str
    stock: str
    direction: str           # RECEIVE (pays the money) | DELIVER (receives it)
    shares: int
    covered_shares: int      # delivered out of the CCMS specific collateral (assigned covered calls)
    amount: int              # cents: strike x shares
    currency: str
    settlement_date: date
    collateral_account: str  # SEOCH collateral account holding the covered shares
    status: str              # PENDING | SETTLED | FAILED (retried at the next run)
    reason: str              # why it failed: INSUFFICIENT_SHARES | MONEY_NOT_COLLECTED
    settled_at: datetime | None


@dataclass(slots=True)
class CcassDeliveryChanged(Event):
    STREAM: ClassVar[str] = "collateral"
    owner: str
    obligation_no: int
    stock: str
    direction: str
    shares: int
    covered_shares: int
    amount: int
    currency: str
    settlement_date: date
    status: str
    reason: str
    at: datetime


__all__ = [n for n, v in list(globals().items())
           if isinstance(v, type) and v.__module__ == __name__ and not n.startswith("_")]
