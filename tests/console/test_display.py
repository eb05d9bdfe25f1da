"""How the console shows values (console/display.py): money in currency units with two decimals,
dates and times with separators, prices in their class's decimals, all from the declarations."""
from __future__ import annotations

from console import display
from protocol.messages import authorisation as au
from protocol.messages import collateral as c
from protocol.messages import dcass as d


def test_money_dates_times():
    assert display.money(77_000_000, "HKD") == "HKD 770,000.00"
    assert display.money(-5, "USD") == "USD -0.05"
    assert display.money(100) == "1.00"
    assert display.date_text("20261123") == "2026-11-23" and display.date_text(20261123) == "2026-11-23"
    assert display.date_text("") == "" and display.time_text("103000") == "10:30:00" and display.time_text("") == ""
    assert display.scaled(1260, 2) == "12.60" and display.scaled(25000, 0) == "25,000"


def test_formats_come_from_the_declarations():
    trade = display.formats(d.TradeItem.__record__)
    assert trade["deal_price"][0] == display.PRICE and trade["created_time"][0] == display.TIME
    assert trade["business_date"][0] == display.DATE and trade["quantity"][0] == display.PLAIN
    pending = display.formats(au.PendingWithdrawal.__record__)
    assert pending["quantity"][0] == display.QUANTITY and pending["entered_date"][0] == display.DATE
    fmt = display.formats(display.items_record(c.CollateralOverviewAnswer))
    assert fmt["collateral_hkd"] == (display.MONEY, "HKD")


def test_cells_follow_the_row():
    fmt = display.formats(au.PendingWithdrawal.__record__)
    cash = {"asset_class": "CASH", "asset": "USD", "quantity": 123_456, "entered_date": "20261123",
            "entered_time": "093000"}
    stock = {"asset_class": "STOCK", "asset": "00700", "quantity": 2_000}
    bond = {"asset_class": "EFBN", "asset": "EFBN2701", "quantity": 1_000_000}
    assert display.cell(fmt, "quantity", cash) == "USD 1,234.56"
    assert display.cell(fmt, "entered_date", cash) == "2026-11-23" and display.cell(fmt, "entered_time", cash) == "09:30:00"
    assert display.cell(fmt, "quantity", stock) == "2,000"          # shares
    assert display.cell(fmt, "quantity", bond) == "10,000.00"       # nominal, in its currency's cents
    trade = display.formats(d.TradeItem.__record__)
    row = {"series_symbol": "TCH NOV26 480.00 C", "deal_price": 1260}
    assert display.cell(trade, "deal_price", row, {"TCH NOV26 480.00 C": (2, 2)}) == "12.60"
    assert display.cell(trade, "deal_price", row, {}) == "1,260"   # decimals unknown: the wire's integer


def test_operator_session_list_stamps_and_unset_counts():
    from protocol.messages import certify as ce
    fmt = display.formats(ce.SessionItem.__record__)
    row = {"connected_since": "2026-11-23T09:00:05", "last_heartbeat_ms": 0xFFFFFFFF, "last_received_ms": 1500}
    assert display.cell(fmt, "connected_since", row) == "2026-11-23 09:00:05 UTC"
    assert display.cell(fmt, "last_heartbeat_ms", row) == "none" and display.cell(fmt, "last_received_ms", row) == "1,500"
