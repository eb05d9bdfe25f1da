"""The command-line client run as a user runs it (a subprocess) against a gateway on loopback: every
mistake a user can make gets one line on stderr and no traceback, with the exit code of its kind."""
from __future__ import annotations

import asyncio
import os
import pty
import signal
import sys
from pathlib import Path

import pytest

from protocol.messages import system as sy

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HKPOST_")}
    env.update(extra)
    return env


async def cli(*args, env: dict | None = None, stdin=asyncio.subprocess.DEVNULL, timeout: float = 30.0):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clients", *args, cwd=ROOT, env=env or _env(), stdin=stdin,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


def one_line_error(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hkpost-client: error: "), err
    return lines[0]


async def test_field_mistakes_name_the_field_the_type_and_the_allowed_values(gateway):
    port = ["--port", str(gateway.port), "-u", "CPA01", "-p", "pass-CPA01"]
    code, out, err = await cli("send", "CD35", "trade_nmber=1", *port)
    line = one_line_error(err)
    assert code == 2 and out == ""
    assert "trade_nmber" in line and "trade_number, quantity, to_participant, text" in line

    code, _, err = await cli("send", "CD35", "trade_number=twelve", *port)
    line = one_line_error(err)
    assert code == 2 and "trade_number" in line and "integer 0..4294967295 (u32)" in line and "'twelve'" in line

    code, _, err = await cli("send", "CD35", "quantity=1.5", *port)  # no floats for quantities
    assert code == 2 and "quantity" in one_line_error(err)

    code, _, err = await cli("send", "CD35", "to_participant=CPB02CPB02", *port)  # text(8)
    line = one_line_error(err)
    assert code == 2 and "to_participant" in line and "at most 8 ASCII characters" in line

    code, _, err = await cli(*port, "send", "CC101", "account_type=SAVINGS")  # options before the subcommand too
    line = one_line_error(err)
    assert code == 2 and "account_type" in line and "'SAVINGS'" in line
    assert "HOUSE (1), MARKET_MAKER (2), OMNIBUS_CLIENT (3), INDIVIDUAL_CLIENT (4), DAILY (5), SINK (6)" in line

    code, _, err = await cli("send", "EC3", "lines=[{\"txt\": \"x\"}]", *port)
    line = one_line_error(err)
    assert code == 2 and "lines[0].txt" in line

    code, _, err = await cli("send", "EC3", "lines=[{", *port)
    assert code == 2 and "lines" in one_line_error(err) and "JSON" in err

    code, _, err = await cli("send", "ZZ9", *port)
    assert code == 2 and "unknown message 'ZZ9'" in one_line_error(err)

    code, _, err = await cli("send", "UA12", *port)  # an answer, not a request
    assert code == 2 and "cannot be sent" in one_line_error(err)

    code, _, err = await cli("tail", "gossip", *port)
    assert code == 2 and "general, trades" in one_line_error(err)

    code, _, err = await cli("--port", "seventy", "send", "UQ12")
    assert code == 2 and "--port" in one_line_error(err)

    code, _, err = await cli("send", "UQ12", env=_env(HKPOST_PORT="x7600", HKPOST_PASSWORD="pass-CPA01"))
    assert code == 2 and "HKPOST_PORT" in one_line_error(err)

    code, _, err = await cli("send", "UQ12", "--bogus", *port)
    assert code == 2 and "--bogus" in one_line_error(err)


async def test_series_by_name(gateway):
    port = ["--port", str(gateway.port), "-u", "CPA01", "-p", "pass-CPA01", "--json"]
    code, out, err = await cli("send", "CQ105", "series=hsi dec26", *port)
    assert code == 0 and err == "" and out.startswith('{"code": "CA105"')

    deals = '[{"series": "HSI DEC26", "price": 25000, "quantity": 2, "buyer": "CPA01", "seller": "CPB02"}]'
    code, out, err = await cli("send", "EC104", f"deals={deals}", "--port", str(gateway.port), "-u", "OPER1",
                               "-p", "pass-OPER1")  # a name inside a list of records
    assert code == 0 and err == "" and out.startswith("CA100")

    code, out, err = await cli("series", "HKB", *port)
    assert code == 0 and "HKB DEC26 100.00 C" in out.splitlines()

    code, _, err = await cli("send", "CQ105", "series=HKB DEC26 72.50 C", *port)
    line = one_line_error(err)
    assert code == 2 and "series" in line and "no series 'HKB DEC26 72.50 C'" in line and "HKB DEC26 90.00 C" in line

    code, _, err = await cli("send", "CQ105", "series=HSI 2026-12", *port)
    assert code == 2 and "MONYY" in one_line_error(err)


async def test_password_is_never_implicit(gateway):
    base = ["--port", str(gateway.port), "-u", "CPA01"]
    code, out, err = await cli("send", "UQ12", *base)  # no -p, no variable, not on a terminal
    line = one_line_error(err)
    assert code == 2 and out == "" and "no password for CPA01" in line and "HKPOST_PASSWORD" in line

    code, out, err = await cli("send", "UQ12", *base, env=_env(HKPOST_PASSWORD="pass-CPA01"))
    assert code == 0 and "UA12" in out and err == ""

    code, out, err = await cli("send", "UQ12", *base, "-p", "wrong")
    line = one_line_error(err)
    assert code == 3 and out == "" and "login of CPA01 refused" in line


async def test_password_prompt_on_a_terminal(gateway):
    master, slave = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clients", "--port", str(gateway.port), "-u", "CPA01", "send", "UQ12",
        cwd=ROOT, env=_env(), stdin=slave, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        start_new_session=True)  # no controlling terminal: getpass uses the pty on stdin
    try:
        # the prompt first: getpass flushes what was typed before it turned echo off
        prompt = await asyncio.wait_for(proc.stderr.readuntil(b": "), 30)
        assert prompt == f"password for CPA01@127.0.0.1:{gateway.port}: ".encode()
        os.write(master, b"pass-CPA01\n")
        out = await asyncio.wait_for(proc.stdout.read(), 30)
        err = await asyncio.wait_for(proc.stderr.read(), 30)
        await asyncio.wait_for(proc.wait(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        os.close(master)
        os.close(slave)
    assert proc.returncode == 0, err
    assert "UA12" in out.decode() and "pass-CPA01" not in err.decode()


async def test_server_not_running(unused_tcp_port):
    code, out, err = await cli("--port", str(unused_tcp_port), "-p", "x", "send", "UQ12")
    line = one_line_error(err)
    assert code == 3 and out == "" and f"127.0.0.1:{unused_tcp_port}" in line and "Connection refused" in line
    code, _, err = await cli("--port", str(unused_tcp_port), "-p", "x", "tail", "general")
    assert code == 3 and "is the gateway running?" in one_line_error(err)


async def test_rejection_is_one_line_with_both_codes(gateway):
    code, out, err = await cli("--port", str(gateway.port), "-u", "CPA01", "-p", "pass-CPA01", "send", "EC3",
                               'lines=[{"text": "x"}]')
    assert code == 1 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("REJECTED") and "business_status=" in err


async def _tail_proc(gateway, stdout):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clients", "tail", "general", "--port", str(gateway.port), "-u", "CPB02",
        "-p", "pass-CPB02", cwd=ROOT, env=_env(), stdin=asyncio.subprocess.DEVNULL, stdout=stdout,
        stderr=asyncio.subprocess.PIPE)


async def _broadcast_until(operator, proc, done) -> None:
    """Clearing messages every 0.2 s until ``done()`` (bounded: 30 s)."""
    for i in range(150):
        if done():
            return
        await operator.transact(sy.SendClearingMessageRequest(lines=[sy.MessageLine(text=f"line {i}")]))
        await asyncio.sleep(0.2)
    raise AssertionError("the tail never got there")


async def test_ctrl_c_ends_tail_without_traceback(gateway, operator):
    proc = await _tail_proc(gateway, asyncio.subprocess.PIPE)
    first = asyncio.create_task(proc.stdout.readline())
    await _broadcast_until(operator, proc, first.done)
    assert b"BI27" in first.result()
    proc.send_signal(signal.SIGINT)
    await asyncio.wait_for(proc.wait(), 15)
    err = (await proc.stderr.read()).decode()
    assert proc.returncode == 130 and "Traceback" not in err and len(err.strip().splitlines()) <= 1, err


async def test_broken_pipe_ends_tail_quietly(gateway, operator):
    r, w = os.pipe()
    proc = await _tail_proc(gateway, w)
    os.close(w)
    reader = os.fdopen(r, "rb", buffering=0)
    got = bytearray()

    async def read_one_line_then_close():
        while b"\n" not in got:
            chunk = await asyncio.to_thread(reader.read, 4096)
            if not chunk:
                break
            got.extend(chunk)
        reader.close()  # like `| head -1`

    task = asyncio.create_task(read_one_line_then_close())
    await _broadcast_until(operator, proc, lambda: proc.returncode is not None)
    await task
    await asyncio.wait_for(proc.wait(), 15)
    err = (await proc.stderr.read()).decode()
    assert b"BI27" in got
    assert proc.returncode == 141 and err == "", err


def test_describe_lists_enum_values_and_series_names(capsys):
    from clients import cli as c
    assert c.main(["describe", "CD5"]) == 0
    out = capsys.readouterr().out
    assert "allowed: OPEN (1), CLOSE (2)" in out
    assert c.main(["describe", "CQ105"]) == 0
    assert "or a series name: SYMBOL MONYY" in capsys.readouterr().out


def test_help_names_the_environment_variables(capsys):
    from clients import cli as c
    with pytest.raises(SystemExit):
        c.main(["--help"])
    out = capsys.readouterr().out
    for name in ("HKPOST_HOST", "HKPOST_PORT", "HKPOST_USER", "HKPOST_PASSWORD"):
        assert name in out
