"""Paging of answers: a query answer with many items goes as REPLY segments 1..n, the last flagged
LAST_SEGMENT; the receiver joins their items. One declaration for the gateway (which cuts), the
SDK and the conformance runner (which join)."""
from __future__ import annotations

import dataclasses
from typing import Any

from .framing import HEADER_SIZE

TYPE_SIZE = 4  # the message type at the start of every payload


def page_items(record, max_frame_size: int, max_page_items: int) -> int:
    """How many items of ``record``'s item list one segment carries: what fits in a frame,
    at most ``max_page_items``, at least one."""
    room = (max_frame_size - HEADER_SIZE - TYPE_SIZE - record.size) // max(1, record.items.record.size)
    return max(1, min(max_page_items, room))


def pages(answer: Any, max_frame_size: int, max_page_items: int) -> list:
    """``answer`` cut into the messages of its segments (itself alone when it fits in one)."""
    rec = answer.__message__.record
    if not rec.has_items:
        return [answer]
    name = rec.items.name
    items = getattr(answer, name)
    page = page_items(rec, max_frame_size, max_page_items)
    if len(items) <= page:
        return [answer]
    return [dataclasses.replace(answer, **{name: items[i:i + page]}) for i in range(0, len(items), page)]


def join(segments: list) -> Any:
    """The messages of an answer's segments joined into one (items concatenated, the rest of the
    first segment's fields kept)."""
    if len(segments) == 1:
        return segments[0]
    first = segments[0]
    rec = first.__message__.record
    if not rec.has_items:
        return segments[-1]
    name = rec.items.name
    items: list = []
    for s in segments:
        items += getattr(s, name)
    return dataclasses.replace(first, **{name: items})
