"""Series by name through the SDK: the server's series list (DQ102) as a directory of names.

    directory = await series_directory(client)
    key = directory.key("HSI DEC26")                # or SeriesKey.parse("HSI DEC26", directory)

The list comes from the server the client is logged in to, so names follow that server's reference
data (protocol/series_names.py says why a name cannot be turned into a key without it).
"""
from __future__ import annotations

from protocol.messages.dcass import SeriesQuery
from protocol.series_names import SeriesDirectory


async def series_directory(client, *, include_expired: bool = True) -> SeriesDirectory:
    """Query the server's series (DQ102, every class) and return them as a directory of names."""
    answer = await client.query(SeriesQuery(include_expired=include_expired))
    return SeriesDirectory(answer.items)


__all__ = ["series_directory", "SeriesDirectory"]
