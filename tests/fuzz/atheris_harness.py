"""Coverage-guided fuzzing with atheris (libFuzzer), when it installs: ``pip install atheris``.

    python tests/fuzz/atheris_harness.py -runs=100000 -max_len=4096 [corpus_dir]

One input drives the frame decoder, the message decoder and both session machines; the only
exceptions allowed are the documented ones (FramingError, DecodeError). Anything else is a crash
that libFuzzer reports with the input that caused it. tests/fuzz/test_atheris.py runs a bounded
campaign of it when atheris is importable.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import atheris  # noqa: E402

with atheris.instrument_imports():
    from protocol.codec import DecodeError
    from protocol.framing import FrameDecoder, FramingError
    from protocol.messages import session as ms
    from protocol.registry import all_specs, decode_message, encode_message
    from protocol.session import ClientSession, Limits, ServerSession, State

all_specs()
MAX = 4096


def one_input(data: bytes) -> None:
    # 1. the frame decoder, in two pieces
    cut = data[0] % (len(data) + 1) if data else 0
    dec = FrameDecoder(MAX)
    try:
        dec.feed(data[:cut])
        dec.feed(data[cut:])
    except FramingError:
        pass
    assert dec.buffered < MAX
    # 2. the message decoder, on the raw bytes as a payload
    try:
        decode_message(data)
    except DecodeError:
        pass
    # 3. the server machine: as the first bytes of a connection, then after an accepted login
    s = ServerSession(Limits(max_frame_size=MAX, max_pending=4), 0.0)
    s.receive_data(data, 0.0)
    if s.state is State.LOGGING_IN:
        s.login_accepted()
        s.receive_data(data, 0.5)
    s.tick(100.0)
    # 4. the client machine, logged in, receiving the bytes from a "server"
    c = ClientSession(MAX)
    c.send(ms.LoginRequest(user="U", password="p"))
    c.receive_data(data)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
