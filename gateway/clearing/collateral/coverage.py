"""Margin coverage of one collateral account: who covers what, the excess and the shortfall.

Each settlement currency ``c`` has a requirement ``M`` and two floors derived from the rules:

- ``A``: the part that only cash in the settlement currency may cover;
- ``B`` (>= ``A``): the part that only cash (any acceptable currency) may cover, i.e. non-cash
  covers at most ``M - B``.

Rule -> floors (see :func:`floors`):

- non-RMB, ``SETTLEMENT_CASH`` (seed): ``A = B = ceil(cash_ratio x M)``;
- non-RMB, ``NON_CASH_CAP`` (SEOCH 2004): ``A = 0``, ``B = M - floor(non_cash_cap x M)``;
- RMB with this account's share ``s`` of the participant's fixed limit: ``A = M - s`` (RMB cash
  only beyond the limit); non-cash cap ``floor(0.5 x s)`` (``IN_LIMIT``) or
  ``min(floor(0.5 x M), s)`` (``TOTAL``); ``B = M - cap``.

Allocation follows the seed's priority, in three passes over the settlement currencies (in the
``settlement_order`` parameter):

1. cash in the settlement currency: ``own = min(cash, M)``;
2. cash in other currencies (``cash_priority`` order), up to ``M - max(own, A)``;
3. non-cash (``non_cash.priority`` order: EFBN, UST, stocks; by id inside a type), up to
   ``M - own - other - gap`` where ``gap = max(0, A - own, B - own - other)``.

``shortfall = M - own - other - noncash`` (never less than ``gap``).
"""
from __future__ import annotations

from typing import NamedTuple

from .messages import Allocation, CoverageLine, UnusedHolding
from .params import CoverageRule, Params
from .valuation import Valuer, scale_ceil, scale_floor, units_for


class Need(NamedTuple):
    currency: str
    requirement: int
    settlement_cash_required: int
    cash_required: int
    rmb_limit_share: int = 0


def floors(currency: str, requirement: int, rule: CoverageRule, rmb: str, rmb_share: int) -> Need:
    m = max(0, requirement)
    if m == 0:
        return Need(currency, 0, 0, 0, 0)
    if currency == rmb:
        s = max(0, min(rmb_share, m))
        a = m - s
        if rule.rmb_cap_base == "TOTAL":
            cap = min(scale_floor(rule.rmb_non_cash_cap, m), s)
        else:
            cap = scale_floor(rule.rmb_non_cash_cap, s)
        return Need(currency, m, a, m - cap, s)
    if rule.cash_ratio_mode == "NON_CASH_CAP":
        cap = scale_floor(rule.non_cash_cap, m)
        return Need(currency, m, 0, m - cap)
    a = scale_ceil(rule.cash_ratio, m)
    return Need(currency, m, a, a)


def pool_order(params: Params, pool: dict[tuple[str, str], int]) -> list[tuple[str, str]]:
    """Non-cash holdings in their order of use."""
    prio = params.non_cash_rank
    keys = [k for k in pool if k[0] != "CASH"]
    return sorted(keys, key=lambda k: (prio.get(k[0], len(prio)), k[1]))


class Result(NamedTuple):
    lines: tuple[CoverageLine, ...]
    allocations: tuple[Allocation, ...]
    unused: tuple[UnusedHolding, ...]
    excess_hkd: int

    @property
    def shortfall(self) -> int:
        return sum(l.shortfall for l in self.lines)


EMPTY = Result((), (), (), 0)


def allocate(needs: list[Need], pool: dict[tuple[str, str], int], valuer: Valuer, params: Params) -> Result:
    """Cover ``needs`` from ``pool`` ({(asset_class, asset): quantity} of general collateral)."""
    avail = {k: q for k, q in pool.items() if q > 0}
    needs = [n for n in needs if n.requirement > 0]
    if len(needs) > 1:
        order = params.settlement_rank
        needs.sort(key=lambda n: (order.get(n.currency, len(order)), n.currency))
    own: dict[str, int] = {}
    other: dict[str, int] = {}
    allocs: list[Allocation] = []
    unit_of = valuer.unit

    def use(c: str, key: tuple[str, str], need: int) -> int:
        held = avail.get(key, 0)
        if need <= 0 or held <= 0:
            return 0
        unit = unit_of(key[0], key[1], c)
        if unit is None:
            return 0
        q, v = units_for(need, unit, held)
        if q <= 0 or v <= 0:
            return 0
        avail[key] = held - q
        allocs.append(Allocation(c, key[0], key[1], q, v, unit.haircut))
        return v

    # the holdings in their order of use: cash (cash_priority order), then non-cash (pool_order);
    # holdings are only used up, never removed, so the order holds throughout
    rank = params.cash_rank
    cash = [k for k in avail if k in rank]
    if len(cash) > 1:
        cash.sort(key=rank.__getitem__)
    keys = pool_order(params, avail) if len(cash) < len(avail) else []
    # 1. cash in the settlement currency (none held: nothing to use)
    for n in needs:
        c = n.currency
        own[c] = use(c, ("CASH", c), n.requirement) if ("CASH", c) in avail else 0
    # 2. cash in other acceptable currencies
    if cash:
        for n in needs:
            c = n.currency
            room = n.requirement - max(own[c], n.settlement_cash_required)
            got = 0
            for key in cash:
                if room - got <= 0:
                    break
                if key[1] != c:
                    got += use(c, key, room - got)
            other[c] = got
    # 3. non-cash, then the line of each currency
    lines = []
    for n in needs:
        c = n.currency
        m, o = own[c], other.get(c, 0)
        got = 0
        if keys:
            gap = max(0, n.settlement_cash_required - m, n.cash_required - m - o)
            room = n.requirement - m - o - gap
            for key in keys:
                if room - got <= 0:
                    break
                got += use(c, key, room - got)
        lines.append(CoverageLine(c, n.requirement, n.settlement_cash_required, n.cash_required, n.rmb_limit_share,
                                  m, o, got, n.requirement - m - o - got))
    unused = []
    excess = 0
    base = params.base
    for key in cash + keys:
        q = avail[key]
        if q > 0:
            u = UnusedHolding(key[0], key[1], q, valuer.value(key[0], key[1], q, base))
            unused.append(u)
            excess += u.value_hkd
    return Result(tuple(lines), tuple(allocs), tuple(unused), excess)
