"""DCASS reference data and parameters, loaded from the TOML files shipped in
``gateway/clearing/data/dcass/`` (one declaration of each fact).

Series key (12 bytes, big-endian, OMnet ``series_t`` layout)::

    offset size field             our meaning
    0      u8   country           1 = Hong Kong (``country`` in reference.toml)
    1      u8   market            1 = HKCC, 2 = SEOCH (per clearing house)
    2      u8   instrument_group  1 = call option, 2 = put option, 3 = future
    3      u8   modifier          0 = standard contract (adjusted series would use 1..)
    4      u16  commodity         underlying code: the stock code for stocks (700 = 0700),
                                  10000+ for indices, currencies, rates and commodities
    6      u16  expiration_date   days since 1990-01-01 (ours; 2026-11-27 = 13479)
    8      i32  strike_price      in the class's strike decimals; 0 for futures
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

from .model import AccountType, CallPut, InstrumentKind

SERIES_KEY = struct.Struct(">BBBBHHi")
EXPIRY_EPOCH = date(1990, 1, 1)
GROUP_CALL, GROUP_PUT, GROUP_FUTURE = 1, 2, 3
_MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()


def pack_expiry(d: date) -> int:
    n = (d - EXPIRY_EPOCH).days
    if not 0 <= n <= 0xFFFF:
        raise ValueError(f"expiry {d} outside the u16 day range")
    return n


def unpack_expiry(n: int) -> date:
    return date.fromordinal(EXPIRY_EPOCH.toordinal() + n)


def pack_series_key(country: int, market: int, group: int, modifier: int, commodity: int,
                    expiry: date, strike: int) -> bytes:
    return SERIES_KEY.pack(country, market, group, modifier, commodity, pack_expiry(expiry), strike)


@dataclass(frozen=True, slots=True)
class SeriesKeyFields:
    country: int
    market: int
    instrument_group: int
    modifier: int
    commodity: int
    expiry: date
    strike: int


def unpack_series_key(key: bytes) -> SeriesKeyFields:
    c, m, g, mod, com, exp, strike = SERIES_KEY.unpack(key)
    return SeriesKeyFields(c, m, g, mod, com, unpack_expiry(exp), strike)


@dataclass(frozen=True, slots=True)
class ClearingHouse:
    id: str
    name: str
    market: int


@dataclass(frozen=True, slots=True)
class Underlying:
    id: str                 # "HSI", "0700", ...
    name: str
    kind: str               # INDEX, STOCK, CURRENCY, INTEREST_RATE, COMMODITY
    commodity: int
    price_decimals: int
    reference_price: int    # demo previous close, in price_decimals
    stock_code: str = ""    # for stocks: the SEHK stock code


@dataclass(frozen=True, slots=True)
class InstrumentClass:
    id: str                 # "HSI-F", "TCH-O", ...
    symbol: str             # HKEX product code
    name: str
    kind: InstrumentKind
    asset: str              # underlying kind
    underlying: str         # Underlying.id
    clearing_house: str
    currency: str           # settlement currency
    multiplier: int         # currency units per price unit (index point, share, ...) = contract size
    price_decimals: int
    strike_decimals: int
    settlement: str         # CASH or PHYSICAL
    exercise_style: str     # AMERICAN, EUROPEAN, "" for futures
    modifier: int = 0

    @property
    def is_option(self) -> bool:
        return self.kind is InstrumentKind.OPTION

    @property
    def contract_size(self) -> int:
        return self.multiplier


@dataclass(frozen=True, slots=True)
class Series:
    key: bytes
    name: str               # e.g. "HSI NOV26", "TCH DEC26 480.00 C"
    cls: InstrumentClass
    expiry: date
    strike: int             # strike decimals of the class; 0 for futures
    call_put: CallPut

    @property
    def is_option(self) -> bool:
        return self.cls.is_option

    @property
    def stock_call(self) -> bool:
        return self.call_put is CallPut.CALL and self.cls.settlement == "PHYSICAL"


@dataclass(frozen=True, slots=True)
class AccountSpec:
    account_id: str
    account_type: AccountType
    clearing_house: str


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    name: str
    clearing_houses: tuple[str, ...]
    accounts: tuple[AccountSpec, ...]


@dataclass(frozen=True, slots=True)
class RiskParams:
    """SPAN-style parameters of one combined commodity (all classes on one underlying)."""

    underlying: str
    scan_range: Decimal                 # fraction of the reference price, e.g. 0.10
    intermonth_spread_charge: int       # cents per futures spread
    short_option_minimum: int           # cents per short option contract


@dataclass(frozen=True, slots=True)
class Params:
    input_cutoff: time
    give_up_cutoff: time
    max_items: int
    max_deals_per_injection: int
    assignment_seed: int
    delivery_lag_days: int
    auto_exercise: tuple[tuple[date, Decimal], ...]      # (effective_from, threshold), sorted
    fees: tuple[tuple[date, dict], ...]                  # (effective_from, {class id: cents})
    scenarios: tuple[int, ...]
    scenario_divisor: int

    def auto_exercise_threshold(self, on: date) -> Decimal:
        return _dated(self.auto_exercise, on)

    def fee_per_contract(self, class_id: str, on: date) -> int:
        return int(_dated(self.fees, on).get(class_id, 0))


def _dated(table, on: date):
    value = None
    for eff, v in table:
        if eff <= on:
            value = v
    if value is None:
        raise LookupError(f"no parameter in force on {on}")
    return value


@dataclass
class ReferenceData:
    country: int
    clearing_houses: dict[str, ClearingHouse]
    underlyings: dict[str, Underlying]
    classes: dict[str, InstrumentClass]
    series: dict[bytes, Series]
    participants: dict[str, Participant]
    risk: dict[str, RiskParams]
    params: Params
    by_name: dict[str, Series] = field(default_factory=dict)

    def series_named(self, name: str) -> Series:
        return self.by_name[name]


def _fmt_strike(strike: int, decimals: int) -> str:
    if decimals == 0:
        return str(strike)
    s = str(abs(strike)).rjust(decimals + 1, "0")
    return ("-" if strike < 0 else "") + s[:-decimals] + "." + s[-decimals:]


def load(reference: dict, parameters: dict, risk: dict) -> ReferenceData:
    """The reference data of the parsed documents (``reference.toml``, ``parameters.toml`` and
    ``risk.toml``; the gateway reads them: ``gateway.refdata``)."""
    ref, par, rsk = reference, parameters, risk
    country = int(ref["country"])
    houses = {k: ClearingHouse(k, v["name"], int(v["market"])) for k, v in ref["clearing_houses"].items()}
    unds = {}
    for k, v in ref["underlyings"].items():
        unds[k] = Underlying(k, v["name"], v["kind"], int(v["commodity"]), int(v["price_decimals"]),
                             int(v["reference_price"]), v.get("stock_code", ""))
    classes: dict[str, InstrumentClass] = {}
    series: dict[bytes, Series] = {}
    by_name: dict[str, Series] = {}
    for c in ref["classes"]:
        und = unds[c["underlying"]]
        kind = InstrumentKind[c["kind"]]
        cls = InstrumentClass(
            id=c["id"], symbol=c["symbol"], name=c["name"], kind=kind, asset=und.kind,
            underlying=und.id, clearing_house=c["clearing_house"], currency=c["currency"],
            multiplier=int(c["multiplier"]), price_decimals=int(c["price_decimals"]),
            strike_decimals=int(c.get("strike_decimals", 0)), settlement=c["settlement"],
            exercise_style=c.get("exercise_style", ""), modifier=int(c.get("modifier", 0)))
        assert cls.id not in classes, cls.id
        assert cls.clearing_house in houses, cls.clearing_house
        classes[cls.id] = cls
        market = houses[cls.clearing_house].market
        for exp in c["expiries"]:
            exp = exp if isinstance(exp, date) else date.fromisoformat(exp)
            month = f"{_MONTHS[exp.month - 1]}{exp.year % 100:02d}"
            if kind is InstrumentKind.FUTURE:
                items = [(GROUP_FUTURE, 0, CallPut.NONE, f"{cls.symbol} {month}")]
            else:
                items = []
                for k in c["strikes"]:
                    s = _fmt_strike(int(k), cls.strike_decimals)
                    items.append((GROUP_CALL, int(k), CallPut.CALL, f"{cls.symbol} {month} {s} C"))
                    items.append((GROUP_PUT, int(k), CallPut.PUT, f"{cls.symbol} {month} {s} P"))
            for group, strike, cp, name in items:
                key = pack_series_key(country, market, group, cls.modifier, und.commodity, exp, strike)
                assert key not in series and name not in by_name, name
                s = Series(key, name, cls, exp, strike, cp)
                series[key] = s
                by_name[name] = s
    parts = {}
    for p in ref["participants"]:
        accts = tuple(AccountSpec(a["id"], AccountType[a["type"]], a["clearing_house"]) for a in p["accounts"])
        part = Participant(p["id"], p["name"], tuple(p["clearing_houses"]), accts)
        for ch in part.clearing_houses:
            for t in (AccountType.DAILY, AccountType.SINK):
                n = sum(1 for a in accts if a.clearing_house == ch and a.account_type is t)
                assert n == 1, f"{part.id} needs exactly one {t.name} account in {ch}"
        assert len({a.account_id for a in accts}) == len(accts), part.id
        parts[part.id] = part
    risk_params = {}
    for k, v in rsk["underlyings"].items():
        risk_params[k] = RiskParams(k, Decimal(str(v["scan_range"])), int(v["intermonth_spread_charge"]),
                                    int(v["short_option_minimum"]))
    for cls in classes.values():
        assert cls.underlying in risk_params, f"no risk parameters for {cls.underlying}"
    cut = par["cutoffs"]
    params = Params(
        input_cutoff=cut["input_cutoff"], give_up_cutoff=cut["give_up_cutoff"],
        max_items=int(par["limits"]["max_allocation_items"]),
        max_deals_per_injection=int(par["limits"]["max_deals_per_injection"]),
        assignment_seed=int(par["assignment"]["seed"]),
        delivery_lag_days=int(par["delivery"]["settlement_lag_business_days"]),
        auto_exercise=tuple(sorted((r["effective_from"], Decimal(str(r["threshold"])))
                                   for r in par["auto_exercise"])),
        fees=tuple(sorted(((r["effective_from"], dict(r["per_contract"])) for r in par["fees"]),
                          key=lambda t: t[0])),
        scenarios=tuple(int(x) for x in rsk["scanning"]["scenarios"]),
        scenario_divisor=int(rsk["scanning"]["divisor"]),
    )
    return ReferenceData(country, houses, unds, classes, series, parts, risk_params, params, by_name)


