"""The derived state of DCASS: margin requirements per account and currency (see ``margin.py`` for
the method), kept by one object, :class:`MarginState`.

What it holds, all recomputable from the module's primary state (positions, prices):

- ``books``: per (account, combined commodity) the running sums of :class:`margin.Book`;
- ``losses``: per series its unit scenario losses at the prices they were computed with;
- ``parts``: per account, per combined commodity, (currency, requirement in cents);
- the dirty set: ``moved`` (positions the books have not seen yet) and ``dirty`` (accounts, with
  the combined commodities to recompute, ``None`` for all; an empty dict: parts already current
  but not yet told) in the order they were touched.

What was *told* (the ``MarginChanged`` events so far) is the module's ``margins``: a requirement
once published stays listed (at zero when it falls back), so it belongs to the module's state.
:meth:`MarginState.settle` recomputes the dirty accounts and returns a ``MarginChanged`` for each
account and currency whose requirement differs from what was told, in the order the accounts were
touched, currencies sorted. Between the commands of a batch, :meth:`MarginState.current` gives the
requirements of one participant as they stand (CCMS checks a withdrawal against them) without
telling anything.
"""
from __future__ import annotations

from ..derived import Derived, mismatch
from . import margin as M
from .events import MarginChanged


class MarginState(Derived):
    def clear(self) -> None:
        self.books: dict[tuple[tuple[str, str], str], list] = {}
        self.losses: dict[bytes, tuple] = {}
        self.parts: dict[tuple[str, str], dict[str, tuple[str, int]]] = {}
        self.moved: dict[tuple[str, str, bytes], None] = {}
        self.dirty_accounts: dict[tuple[str, str], dict[str, None] | None] = {}

    @property
    def dirty(self) -> bool:
        return bool(self.moved or self.dirty_accounts)

    # ------------------------------------------------------------ marking
    def touch(self, position_key: tuple[str, str, bytes], underlying: str) -> None:
        """A position changed: its account's requirement in ``underlying`` is to be recomputed."""
        self.moved[position_key] = None
        self.mark((position_key[0], position_key[1]), underlying)

    def mark(self, pa: tuple[str, str], underlying: str | None) -> None:
        unds = self.dirty_accounts.get(pa, ())
        if unds == ():
            self.dirty_accounts[pa] = None if underlying is None else {underlying: None}
        elif unds is not None:
            if underlying is None:
                self.dirty_accounts[pa] = None
            else:
                unds[underlying] = None

    def prices_changed(self, underlying: str | None) -> None:
        """The margin prices of ``underlying`` (None: of every underlying) changed: its books are
        rebuilt when next needed (the unit losses follow the prices by themselves)."""
        if underlying is None:
            self.books.clear()
        else:
            for k in [k for k in self.books if k[1] == underlying]:
                del self.books[k]

    # ------------------------------------------------------------ recomputing
    def unit_losses(self, s) -> tuple:
        """Unit scenario losses of a series at the current margin prices."""
        m = self.module
        k = s.key
        price = m.margin_price(s)
        und = m._facts[k].underlying
        und_price = m.underlying_prices[und]
        hit = self.losses.get(k)
        if hit is not None and hit[0] == price and hit[1] == und_price:
            return hit[2]
        prm = m.ref.params
        vec = M.unit_losses(s, price, und_price, m.ref.underlyings[und].price_decimals, m.ref.risk[und],
                            prm.scenarios, prm.scenario_divisor, m._scale[und])
        self.losses[k] = (price, und_price, vec)
        return vec

    def fresh_books(self, pa: tuple[str, str], underlying: str) -> list:
        m = self.module
        rows = []
        for key in m.account_positions.get(pa, {}):
            s = m.ref.series[key]
            if s.cls.underlying == underlying:
                p = m.positions[(pa[0], pa[1], key)]
                rows.append((s, p.long, p.short - (p.covered if s.stock_call else 0), self.unit_losses(s)))
        return M.books_for(rows, m.accounts[pa].gross, len(m.ref.params.scenarios), m._scale[underlying])

    def _apply_moved(self) -> None:
        """Bring the books up to date with the positions changed since they last saw them."""
        m = self.module
        books_of, positions, facts = self.books, m.positions, m._facts
        for pk in self.moved:
            p = positions[pk]
            f = facts[p.series_key]
            pa = (p.participant, p.account_id)
            books = books_of.get((pa, f.underlying))
            if books is None:
                continue        # built from the current positions when needed
            unit = self.unit_losses(f.series)
            short = p.short - p.covered if f.stock_call else p.short
            if len(books) == 2:
                books[0].put(f.key, f.expiry, f.is_option, unit, p.long)
                books[1].put(f.key, f.expiry, f.is_option, unit, -short)
            else:
                books[0].put(f.key, f.expiry, f.is_option, unit, p.long - short)
        self.moved.clear()

    def _recompute(self, pa: tuple[str, str], unds) -> None:
        """The parts of account ``pa`` for ``unds`` (None: every combined commodity it holds or had)."""
        m = self.module
        parts = self.parts.get(pa)
        if parts is None:
            parts = self.parts[pa] = {}
            unds = None     # first use (or a cold start): every part
        if unds is None:
            facts = m._facts
            unds = {facts[k].underlying: None for k in m.account_positions.get(pa, {})}
            unds.update(dict.fromkeys(parts))
        risk, currency_of, books_of = m.ref.risk, m._currency_of, self.books
        for u in unds:
            books = books_of.get((pa, u))
            if books is None:
                books = books_of[(pa, u)] = self.fresh_books(pa, u)
            r = risk[u]
            cents = 0
            for b in books:
                cents += b.requirement_cents(r)
            if cents:
                parts[u] = (currency_of[u], cents)
            else:
                parts.pop(u, None)

    def _total(self, pa: tuple[str, str]) -> dict[str, int]:
        new: dict[str, int] = {}
        for ccy, c in self.parts[pa].values():
            new[ccy] = new.get(ccy, 0) + c
        return new

    def current(self, participant: str) -> dict[tuple[str, str], dict[str, int]] | None:
        """The requirements of ``participant``'s accounts as they stand, with the zero records a
        settle would keep; None when nothing of the participant is dirty (``margins`` is current)."""
        pas = [pa for pa in self.dirty_accounts if pa[0] == participant]
        if not pas:
            return None
        self._apply_moved()
        margins = self.module.margins
        out = {pa: dict(by_ccy) for pa, by_ccy in margins.items() if pa[0] == participant}
        for pa in pas:
            unds = self.dirty_accounts[pa]
            if unds is None or unds:
                self._recompute(pa, unds)
                self.dirty_accounts[pa] = {}      # parts current, not yet told
            out[pa] = {**dict.fromkeys(margins.get(pa, {}), 0), **self._total(pa)}
        return out

    def settle(self) -> list:
        """Recompute what is dirty; a MarginChanged per account and currency that changed."""
        if not self.dirty_accounts:
            if self.moved:
                self._apply_moved()
            return []
        self._apply_moved()
        m = self.module
        dirty, self.dirty_accounts = self.dirty_accounts, {}
        events = []
        margins = m.margins
        for pa, unds in dirty.items():
            if unds is None or unds:
                self._recompute(pa, unds)
            new = self._total(pa)
            old = margins.get(pa)
            if old is None:
                old = margins[pa] = {}
                m._margin_index.setdefault(pa[0], {})[pa] = None
                m._rows.pop(pa[0], None)
            if old.keys() == new.keys():
                if old == new:
                    continue
                ccys = sorted(new) if len(new) > 1 else list(new)
            else:
                ccys = sorted(old.keys() | new.keys())
            acct = None
            for ccy in ccys:
                value = new.get(ccy, 0)
                prev = old.get(ccy)
                if prev == value or (prev is None and value == 0):
                    continue
                if prev is None:
                    m._rows.pop(pa[0], None)     # a new row for margin_rows
                old[ccy] = value
                if acct is None:
                    acct = m.accounts[pa]
                events.append(MarginChanged(acct.participant, acct.clearing_house, acct.account_id,
                                            acct.account_type, ccy, value))
        return events

    # ------------------------------------------------------------ checking
    def verify(self) -> None:
        """Recompute every account from cold and compare with what is kept and what was told."""
        if self.dirty:
            raise mismatch("dirty margin state at a batch boundary", list(self.dirty_accounts), [])
        m = self.module
        for pa in m.accounts:
            cold = m.account_margin(*pa)
            told = {c: v for c, v in m.margins.get(pa, {}).items() if v}
            if told != cold:
                raise mismatch(f"margin requirement of {pa}", told, cold)
            parts = self.parts.get(pa)
            if parts is not None:
                kept = {}
                for ccy, c in parts.values():
                    kept[ccy] = kept.get(ccy, 0) + c
                if kept != cold:
                    raise mismatch(f"margin parts of {pa}", kept, cold)
        for (pa, u), books in self.books.items():
            fresh = self.fresh_books(pa, u)
            if books != fresh:
                raise mismatch(f"margin books of {pa} {u}", books, fresh)
