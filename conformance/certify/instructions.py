"""Instructions: what the certifier asks a person at the participant to do, as a clearing message.

A BI27 clearing message whose text starts with ``CERT `` is an instruction: an action and
``key=value`` parameters (shell quoting for values with spaces). The certifier prints it and
broadcasts it; a back office that automates its certification acts on it
(docs/guides/certify-your-client.md, "Instructions").
"""
from __future__ import annotations

import shlex

CERT_PREFIX = "CERT "


def cert_text(text: str) -> list[str]:
    """An instruction as BI27 lines: ``CERT <ACTION> key=value ...`` (shell quoting for values with
    spaces), wrapped between words into lines of at most 80 characters (the text of a line loses its
    trailing spaces on the wire); a back office joins the lines of one message with one space."""
    words = (CERT_PREFIX + " ".join(text.split())).split(" ")
    lines: list[str] = []
    for w in words:
        while len(w) > 80:  # a word longer than a line (none in the shipped scenarios)
            lines.append(w[:80])
            w = w[80:]
        if lines and len(lines[-1]) + 1 + len(w) <= 80 and len(lines[-1]) < 80:
            lines[-1] += " " + w
        else:
            lines.append(w)
    if len(lines) > 10:
        raise ValueError(f"instruction longer than a clearing message (10 lines of 80): {text[:60]}...")
    return lines


def parse_instruction(lines: list[str]) -> tuple[str, dict] | None:
    """The action and parameters of a BI27 clearing message that is a certification instruction."""
    text = " ".join(line.strip() for line in lines)
    if not text.startswith(CERT_PREFIX):
        return None
    words = shlex.split(text[len(CERT_PREFIX):])
    if not words:
        return None
    params = {}
    for w in words[1:]:
        k, _, v = w.partition("=")
        params[k] = v
    return words[0].upper(), params
