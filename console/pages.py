"""The console's pages: which queries each shows and which transactions each offers, by role.

A page is a list of query panels (the query's answer as a table, filtered by the page's URL
parameters, with actions on rows) and forms (one per transaction). What a user sees follows its
functions (``protocol.messages.admin.function_of``): a panel or form the user may not use is not
shown, and the gateway refuses it anyway if sent.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from protocol.messages.admin import function_of


@dataclass(frozen=True)
class RowAction:
    code: str                       # transaction sent
    label: str
    fields: dict[str, str]          # request field <- row column
    when: tuple[str, str] = ("", "")  # (column, value) the row must have
    not_mine: str = ""              # column that must not be the user (maker-checker)
    mine: str = ""                  # column that must be the user's participant
    extra: tuple[tuple[str, str], ...] = ()  # (request field, default) the user types on the row
    # fields named "items.X" (from the row or typed) make the request's one item (e.g. an allocation)


@dataclass(frozen=True)
class Panel:
    code: str                       # the query
    title: str
    actions: tuple[RowAction, ...] = ()
    needs: tuple[str, ...] = ()     # query fields the user must fill in before it is asked


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    role: str                       # participant | clearing_member | operator
    panels: tuple[Panel, ...] = ()
    forms: tuple[str, ...] = ()
    special: str = ""               # trades | chart | demo (the operator's demo-day button)
    group: str = ""                 # menu heading

    def codes(self) -> list[str]:
        return [p.code for p in self.panels] + list(self.forms) + [a.code for p in self.panels for a in p.actions]


GIVE_UP_ACTIONS = (
    RowAction("CC38", "Accept", {"give_up_number": "give_up_number", "items.quantity": "quantity"},
              when=("state", "PENDING"), mine="receiver",
              extra=(("items.account_id", "HKCC-HOUSE"), ("items.open_close", "OPEN"))),
    RowAction("CC40", "Reject", {"give_up_number": "give_up_number"}, when=("state", "PENDING"), mine="receiver",
              extra=(("reason", ""),)),
)
AUTHORISE_ACTIONS = (
    RowAction("FC500", "Authorise", {"pending_id": "pending_id"}, when=("state", "PENDING"), not_mine="maker"),
    RowAction("FC501", "Reject", {"pending_id": "pending_id"}, when=("state", "PENDING"), not_mine="maker",
              extra=(("reason", ""),)),
)

PAGES: tuple[Page, ...] = (
    # ------------------------------------------------------------ DCASS Online
    Page("/trades", "Trades", "participant", special="trades", group="DCASS Online"),
    Page("/positions", "Positions", "participant", (Panel("CQ3", "Positions per account (long, short, covered)"),),
         ("CD34", "CD101", "CD5", "CD54"), group="DCASS Online"),
    Page("/give-ups", "Give-ups", "participant", (Panel("CQ61", "Give-ups and take-ups", GIVE_UP_ACTIONS),),
         ("CD35",), group="DCASS Online"),
    Page("/post-trade", "Rectify, exercise, accounts", "participant",
         (Panel("CQ21", "Exercises"), Panel("CQ38", "DCASS accounts")),
         ("CD28", "CC13", "CC14", "CC15", "CC101"), group="DCASS Online"),
    Page("/missing-trades", "Missing trades", "participant", (Panel("CQ10", "Missing-trade recovery", needs=("first_sequence", "last_sequence")),),
         group="DCASS Online"),
    Page("/margin", "Margin and money", "participant",
         (Panel("CQ102", "Margin per account and currency"), Panel("CQ103", "Money obligations"),
          Panel("CQ104", "Delivery obligations")), special="chart", group="DCASS Online"),
    # ------------------------------------------------------------ CCMS Terminal
    Page("/ccms", "Collateral accounts", "participant",
         (Panel("FQ200", "Collateral accounts"), Panel("FQ201", "DCASS account mapping"),
          Panel("FQ202", "Holdings, haircut and value", needs=("clearing_house", "account")),
          Panel("FQ203", "Coverage and shortfall", needs=("clearing_house", "account")),
          Panel("FQ205", "Margin calls")), ("FC200", "FC201"), group="CCMS Terminal"),
    Page("/ccms/instructions", "Deposits, withdrawals and transfers", "participant",
         (Panel("FQ206", "Deposit, withdrawal and transfer instructions"),
          Panel("FQ500", "Withdrawals and transfers awaiting authorisation (maker-checker)", AUTHORISE_ACTIONS)),
         ("FC202", "FC203", "FC204", "FC205", "FC251"), group="CCMS Terminal"),
    Page("/ccms/more", "Covered calls, reserve fund, interest", "participant",
         (Panel("FQ208", "Covered-call stock"), Panel("FQ207", "Reserve fund"),
          Panel("FQ209", "Interest and accommodation charges")), ("FC207", "FC208", "FC206"), group="CCMS Terminal"),
    Page("/users", "Users", "participant", (Panel("UQ500", "Users of the participant"),),
         ("UC500", "UC501", "UC502"), group="Administration"),
    # ------------------------------------------------------------ OTC Clear member
    Page("/otc", "Settlement items", "clearing_member",
         (Panel("SQ301", "Settlement items"), Panel("SQ302", "Payment instructions")), ("SC300",), group="OTC Clear"),
    Page("/otc/pvp", "PvP", "clearing_member", (Panel("SQ303", "PvP exchanges"),), ("SC301",), group="OTC Clear"),
    Page("/otc/collateral", "Collateral and margin calls", "clearing_member",
         (Panel("SQ304", "Collateral and margin calls"), Panel("SQ305", "Non-cash holdings"),
          Panel("SQ306", "Guarantee fund")), ("SC302", "SC303", "SC304", "SC305"), group="OTC Clear"),
    Page("/otc/trades", "Cleared trades", "clearing_member", (Panel("SQ300", "Cleared trades"),), group="OTC Clear"),
    # ------------------------------------------------------------ operator's desk
    Page("/desk", "Deals and prices", "operator", (), ("EC101", "EC104", "EC102", "EC103"), special="demo",
         group="Operator's desk"),
    Page("/desk/day", "Time and end of day", "operator", (), ("EC1", "EC2", "EC4", "EC3"), group="Operator's desk"),
    Page("/desk/ccms", "Collateral rates", "operator", (Panel("FQ500", "Withdrawals and transfers awaiting authorisation"),),
         ("EC200", "EC201", "EC202", "EC203"), group="Operator's desk"),
    Page("/desk/sessions", "Who is connected", "operator", (Panel("EQ610", "Sessions logged in"),),
         group="Operator's desk"),
    Page("/desk/otc", "OTC Clear", "operator", (), ("EC300", "EC301", "EC302", "EC303", "EC304", "EC305", "EC306",
                                                   "EC307", "EC308", "EC309", "EC310", "EC311", "EC312"),
         group="Operator's desk"),
)
BY_PATH = {p.path: p for p in PAGES}


def pages_for(session) -> list[Page]:
    out = []
    for p in PAGES:
        if p.role != session.role:
            continue
        if any(session.may(function_of(c)) for c in [x.code for x in p.panels] + list(p.forms)) or \
                (p.special == "trades" and session.may(function_of("CQ11"))):
            out.append(p)
    return out


def allowed_codes(session) -> set[str]:
    """Transactions the user may send from its pages."""
    out = set()
    for p in pages_for(session):
        for c in p.codes():
            if session.may(function_of(c)):
                out.add(c)
    return out
