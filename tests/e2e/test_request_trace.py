"""At debug level the server log has one line per answered request: session id, request id, message
type, the answer's type and its status; at the default level it has none."""
from __future__ import annotations

import io
import json

import pytest

from clients import LoginRejected, RequestRejected
from gateway.logs import configure
from protocol.messages import collateral as m
from protocol.messages import session as ms
from protocol.status import SessionStatus as St


@pytest.fixture
def server_log():
    out = io.StringIO()
    configure("debug", "json", stream=out)
    yield out
    configure("warning", "console")


def traced(out: io.StringIO) -> list[dict]:
    lines = [json.loads(x) for x in out.getvalue().splitlines() if x.startswith("{")]
    return [x for x in lines if x.get("event") == "request"]


async def test_one_debug_line_per_request_with_its_answer(gateway, connect, server_log):
    a = await connect("CPA01")
    await a.query(ms.BusinessDateQuery())
    with pytest.raises(RequestRejected):
        await a.transact(m.DepositCashRequest(clearing_house="HKCC", account="HOUSE", currency="GBP", amount=1))
    with pytest.raises(LoginRejected):
        await connect("CPB02", "wrong-password")
    rows = traced(server_log)
    sid = gateway.sessions["CPA01"].session_id
    mine = [(r["request"], r["answer"], r["status"]) for r in rows if r["session_id"] == sid]
    assert mine[0] == ("UL1", "UL2", 0)
    assert mine[1] == ("UQ12", "UA12", 0)
    assert mine[2] == (m.DepositCashRequest.__message__.code, "UR2", St.BUSINESS_REJECT)
    assert [r["business_status"] for r in rows if r["session_id"] == sid] == [0, 0, -800001]
    assert all(r["level"] == "debug" and isinstance(r["request_id"], int) for r in rows)
    assert [(r["request"], r["status"]) for r in rows if r["session_id"] != sid] == [("UL1", St.INVALID_CREDENTIALS)]


async def test_no_trace_at_info_level(gateway, connect):
    out = io.StringIO()
    configure("info", "json", stream=out)
    try:
        a = await connect("CPA01")
        await a.query(ms.BusinessDateQuery())
    finally:
        configure("warning", "console")
    assert traced(out) == [] and "login" in out.getvalue()
