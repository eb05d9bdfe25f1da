"""Damaged journals over real processes: a torn tail is cut and reported, corruption in the middle
stops the start with a clear error; the command-line tool prints, replays and verifies."""
from __future__ import annotations

import asyncio
import json

from clients import Client
from gateway.journal.format import Reader
from protocol.messages import system as m
from protocol.streams import Stream
from tests.reliability.proc import GatewayProcess, journal_cli, journal_tool


async def _drive(gp: GatewayProcess, texts: list[str]) -> None:
    op = Client("127.0.0.1", gp.port, "OPER1", "pass-OPER1", auto_reconnect=False)
    await op.connect()
    for t in texts:
        await op.transact(m.SendClearingMessageRequest(lines=[m.MessageLine(text=t)]))
    await op.close()


async def _stream_texts(gp: GatewayProcess) -> list[str]:
    op = Client("127.0.0.1", gp.port, "OPER1", "pass-OPER1", auto_reconnect=False)
    await op.connect()
    _, items = await op.recover(Stream.GENERAL, 1)
    await op.close()
    return [b.message.lines[0].text for b in items if b.code == "BI27"]


def _records(path):
    with Reader(path) as r:
        return list(r.records())


def test_torn_tail_cut_on_restart_and_service_goes_on(tmp_path):
    gp = GatewayProcess(tmp_path)
    try:
        gp.start()
        asyncio.run(_drive(gp, [f"t{i}" for i in range(6)]))
        gp.kill()
        recs = _records(gp.journal)
        last = [r for r in recs if r.payload["k"] == "cmd"][-1]  # t5 (its answer record follows it)
        # a crash in the middle of writing the last command: half of it on disk, nothing after it
        data = gp.journal.read_bytes()
        gp.journal.write_bytes(data[:last.offset + (last.end - last.offset) // 2])
        assert journal_tool("verify", str(gp.journal)).returncode == 1
        gp.start()
        torn = gp.events(None, "journal_torn_tail")
        assert torn and torn[0]["offset"] == last.offset and torn[0]["action"] == "truncated"
        assert asyncio.run(_stream_texts(gp)) == [f"t{i}" for i in range(5)]
        asyncio.run(_drive(gp, ["after"]))
        assert asyncio.run(_stream_texts(gp)) == [f"t{i}" for i in range(5)] + ["after"]
        assert gp.stop() == 0
        assert journal_tool("verify", str(gp.journal)).returncode == 0
    finally:
        gp.cleanup()


def test_corruption_in_the_middle_refuses_to_start(tmp_path):
    gp = GatewayProcess(tmp_path)
    try:
        gp.start()
        asyncio.run(_drive(gp, [f"c{i}" for i in range(8)]))
        assert gp.stop() == 0
        recs = _records(gp.journal)
        victim = recs[4]
        data = bytearray(gp.journal.read_bytes())
        data[victim.offset + 20] ^= 0x01         # one bit of one record's payload
        gp.journal.write_bytes(bytes(data))
        size = len(data)
        rc = gp.run_to_exit()
        err = gp.logs[-1]
        assert rc == 3
        assert f"corrupt at byte {victim.offset}" in err and "not a torn tail" in err
        assert gp.journal.stat().st_size == size, "nothing cut"
        v = journal_tool("verify", str(gp.journal))
        assert v.returncode == 2 and "corrupt" in v.stderr
        pr = journal_tool("print", str(gp.journal))
        assert pr.returncode == 2 and "corruption at byte" in pr.stderr
    finally:
        gp.cleanup()


def test_cli_print_and_replay(tmp_path):
    gp = GatewayProcess(tmp_path, snapshot_every=3)
    try:
        gp.start()
        asyncio.run(_drive(gp, ["hello", "world", "again", "more"]))
        assert gp.stop() == 0
        recovered_hash = None
        gp.start()
        recovered_hash = gp.state_event()["state_hash"]
        assert gp.stop() == 0
        pr = journal_tool("print", str(gp.journal))
        assert pr.returncode == 0, pr.stderr
        lines = pr.stdout.splitlines()
        assert "open" in lines[0] and "start 2026-11-23T09:00:00" in lines[0]
        assert "OPER1" in lines[1] and "SendClearingMessage(lines=('hello',))" in lines[1]
        js = journal_tool("print", "--json", "--from", "2", "--count", "1", str(gp.journal))
        assert json.loads(js.stdout)["cmd"]["$c"] == "gateway.clearing.core:SendClearingMessage"
        full = json.loads(journal_cli("replay", "--json", str(gp.journal)).stdout)   # the real command line once
        fast = json.loads(journal_tool("replay", "--json", "--snapshot", str(gp.journal)).stdout)
        assert full["state_hash"] == fast["state_hash"] == recovered_hash
        assert full["via"] == "full replay" and fast["via"].startswith("snapshot")
        assert full["streams"] == {"1": 4} and full["commands"] == 4
        plain = journal_tool("replay", str(gp.journal))
        assert plain.stdout.splitlines()[0] == recovered_hash
    finally:
        gp.cleanup()


def test_in_memory_default_writes_no_journal(tmp_path):
    gp = GatewayProcess(tmp_path, journal=None)
    try:
        gp.start()
        asyncio.run(_drive(gp, ["x"]))
        assert gp.stop() == 0
        assert not any(p.name.startswith("journal") for p in tmp_path.iterdir())
        assert not gp.events(-1, "journal_recovered")
    finally:
        gp.cleanup()
