"""The wire texts of dates and times the broadcast views call (``ymd``, ``hms``: remembered) are
those of ``Date`` and ``Time``, for dates, date-times, times and None."""
from __future__ import annotations

from datetime import date, datetime, time

from gateway.handlers.system import hms, ymd
from protocol.codec import Date, Time


def test_date_and_time_texts():
    day, moment = date(2026, 12, 3), datetime(2026, 12, 3, 9, 5, 7)
    for d in (day, moment, date(2026, 1, 31), datetime(2027, 2, 1, 23, 59, 59)):
        assert ymd(d) == Date.to_text(d) and ymd(d) == ymd(d)
    for t in (moment, time(0, 0, 0), time(23, 59, 59), datetime(2026, 12, 3, 0, 0, 0)):
        assert hms(t) == Time.to_text(t)
    assert ymd(None) == "" and hms(None) == ""
    # a date and the midnight of that date are remembered apart (a datetime never equals a date)
    assert ymd(datetime(2026, 12, 3)) == ymd(day) == "20261203"
    assert hms(datetime(2026, 12, 3)) == "000000"
    # alternating date-times (a margin call's call and due times) each keep their own text
    due = datetime(2026, 12, 4, 10, 0, 0)
    assert [hms(x) for x in (moment, due, moment, due)] == ["090507", "100000", "090507", "100000"]
