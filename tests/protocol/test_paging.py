"""Paging of long answers (protocol/paging.py): cut by the gateway, joined by the SDK and the runner."""
from __future__ import annotations

from protocol.framing import HEADER_SIZE, MAX_FRAME_SIZE
from protocol.messages import session as ms
from protocol.paging import TYPE_SIZE, join, page_items, pages


def answer(n: int) -> ms.SubscribeReply:
    return ms.SubscribeReply(items=[ms.SubscriptionStatusItem(handle=i + 1, stream=1) for i in range(n)])


def test_an_answer_that_fits_is_one_page_at_the_edge():
    assert pages(answer(3), MAX_FRAME_SIZE, 3) == [answer(3)]     # exactly max_page_items
    parts = pages(answer(4), MAX_FRAME_SIZE, 3)                     # one more: two pages
    assert [len(p.items) for p in parts] == [3, 1]
    assert join(parts) == answer(4)


def test_the_frame_size_bounds_a_page():
    rec = ms.SubscribeReply.__record__
    per_item = rec.items.record.size
    frame = HEADER_SIZE + TYPE_SIZE + rec.size + 5 * per_item      # room for exactly five items
    assert page_items(rec, frame, 500) == 5
    assert page_items(rec, frame - 1, 500) == 4
    assert page_items(rec, HEADER_SIZE, 500) == 1                   # never less than one
    parts = pages(answer(11), frame, 500)
    assert [len(p.items) for p in parts] == [5, 5, 1]
    assert join(parts).items == answer(11).items


def test_messages_without_items_are_never_cut():
    ack = ms.Ack(text="x")
    assert pages(ack, 64, 1) == [ack] and join([ack]) is ack
