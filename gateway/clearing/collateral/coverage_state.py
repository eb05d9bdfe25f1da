"""The derived state of CCMS: collateral allocation, coverage and shortfalls per collateral account
(``coverage.py`` says how), kept by one object, :class:`CoverageState`.

It holds the dirty set, in the order things were touched: the (participant, clearing house) pairs
whose coverage is to be recomputed, or *every* pair (a rate, price or haircut changed); and the
valuer of the current valuation inputs (FX rates, prices, stock haircut rates, business date),
dropped when one of them changes.

What was *told* stays in the module: ``results`` (the coverage each CoverageChanged said) and
``calls`` (the margin calls issued, with the time they were issued: history, not recomputable).
:meth:`CoverageState.settle` recomputes the dirty pairs and returns CoverageChanged and
MarginCallChanged for what changed. :meth:`CoverageState.verify` recomputes every pair cold and
compares with ``results``, and checks that the open calls are exactly the shortfalls.
"""
from __future__ import annotations

from datetime import datetime

from ..derived import Derived, mismatch
from .coverage import EMPTY
from .valuation import Valuer


class CoverageState(Derived):
    def clear(self) -> None:
        self.pairs: dict[tuple[str, str], None] = {}
        self.everything = False
        self._valuer: Valuer | None = None

    @property
    def dirty(self) -> bool:
        return bool(self.pairs) or self.everything

    # ------------------------------------------------------------ marking
    def mark(self, participant: str, clearing_house: str) -> None:
        """The requirements or the holdings of (participant, clearing house) changed."""
        self.pairs[(participant, clearing_house)] = None

    def mark_all(self) -> None:
        """Something every account is valued with changed (see :meth:`inputs_changed`), or the day."""
        self.everything = True

    def done(self, participant: str, clearing_house: str) -> None:
        """(participant, clearing house) was just recomputed."""
        self.pairs.pop((participant, clearing_house), None)

    def inputs_changed(self) -> None:
        """An FX rate, a price or a stock haircut rate changed: a new valuer when next needed."""
        self._valuer = None

    # ------------------------------------------------------------ recomputing
    def valuer(self) -> Valuer:
        """The valuer of the current inputs (read-only, memoising), shared until they change."""
        m = self.module
        bd = m.core.business_date
        v = self._valuer
        if v is None or v.on != bd:
            v = self._valuer = Valuer(m.p, bd, m._fx_rates(), m.prices, m.stock_rates)
        return v

    def settle(self, now: datetime) -> list:
        """Recompute the dirty pairs (in the order touched; every pair, sorted, then the reserve
        fund, when everything is dirty); the events of what changed."""
        m = self.module
        if self.everything:
            self.clear_dirty()
            return m._recompute_all(now)
        events: list = []
        while self.pairs:
            p, ch = next(iter(self.pairs))
            events += m._recompute(p, ch, now)     # marks the pair done
        return events

    def clear_dirty(self) -> None:
        self.pairs.clear()
        self.everything = False

    # ------------------------------------------------------------ checking
    def verify(self) -> None:
        """Every coverage recomputed cold equals the told one; the open calls are the shortfalls."""
        if self.dirty:
            raise mismatch("dirty coverage state at a batch boundary", list(self.pairs), [])
        m = self.module
        saved = self._valuer
        self._valuer = None        # a valuer built afresh from the inputs
        try:
            cold = {}
            for p, ch in m._pairs():
                if ch not in m.p.clearing_houses:
                    continue
                reqs, types = m._requirements(p, ch)
                for acc, res in m._compute(p, ch, reqs, types).items():
                    if res != EMPTY:
                        cold[(p, ch, acc)] = res
        finally:
            self._valuer = saved
        if m.results != cold:
            keys = sorted(k for k in m.results.keys() | cold.keys() if m.results.get(k) != cold.get(k))
            raise mismatch(f"coverage of {keys[0]}", m.results.get(keys[0]), cold.get(keys[0]))
        shortfalls = {(*key, line.currency): line.shortfall
                      for key, res in m.results.items() for line in res.lines if line.shortfall > 0}
        calls = {k: c["amount"] for k, c in m.calls.items()}
        if calls != shortfalls:
            raise mismatch("open margin calls", calls, shortfalls)
