"""The command-line client against a running gateway (in a worker thread's own loop)."""
from __future__ import annotations

import asyncio

from clients import cli
from protocol.streams import Stream


async def run_cli(args, capsys):
    code = await asyncio.to_thread(cli.main, args)
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_send_query_transaction_and_reject(gateway, capsys, connect):
    port = ["--port", str(gateway.port)]
    code, out, _ = await run_cli(port + ["-u", "CPA01", "-p", "pass-CPA01", "send", "UQ12"], capsys)
    assert code == 0 and "business_date='20261123'" in out
    code, out, _ = await run_cli(port + ["-u", "CPA01", "-p", "pass-CPA01", "--json", "send", "business_date_query"], capsys)
    assert code == 0 and '"business_time": "090000"' in out
    watcher = await connect("CPB02")
    await watcher.subscribe(Stream.GENERAL)
    code, out, _ = await run_cli(port + ["-u", "OPER1", "-p", "pass-OPER1", "send", "EC3", 'lines=[{"text": "from the cli"}]'], capsys)
    assert code == 0 and "UR1" in out
    b = await watcher.next_broadcast(3, code="BI27")
    assert b.message.lines[0].text == "from the cli"
    code, _, err = await run_cli(port + ["-u", "CPA01", "-p", "pass-CPA01", "send", "EC3", 'lines=[{"text": "x"}]'],
                                 capsys)
    assert code == 1 and "business_status=-600002" in err
    code, out, _ = await run_cli(port + ["-u", "CPA01", "-p", "pass-CPA01", "send", "UQ20", "stream=1", "first_sequence=1"], capsys)
    assert code == 0 and "from the cli" in out and "UA20" in out


async def test_tail_prints_broadcasts(gateway, capsys, operator):
    from protocol.messages import system as sy

    async def later():
        await asyncio.sleep(0.5)
        for i in range(2):
            await operator.transact(sy.SendClearingMessageRequest(lines=[sy.MessageLine(text=f"tail {i}")]))
    task = asyncio.create_task(later())
    code, out, _ = await run_cli(["--port", str(gateway.port), "-u", "CPC03", "-p", "pass-CPC03", "tail", "general", "--count", "2",
                                  "--seconds", "10"], capsys)
    await task
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 2 and "1:1 BI27" in lines[0] and "tail 1" in lines[1]


def test_messages_and_describe(capsys):
    assert cli.main(["describe", "UL1"]) == 0
    out = capsys.readouterr().out
    assert "forced" in out and "resume" in out
    assert "Python: from protocol.messages.session import LoginRequest" in out
    assert cli.main(["describe", "otc_set_mtm"]) == 0      # the wire name stays; the class has the pattern's
    assert "EC304 otc_set_mtm" in (out := capsys.readouterr().out)
    assert "Python: from protocol.messages.otc import SetMtmRequest" in out
    assert cli.main(["describe", "ZZ9"]) == 2
    assert "unknown message 'ZZ9'" in capsys.readouterr().err
