"""The in-memory clearing core: pure and deterministic.

Rules of this package (see ARCHITECTURE): it imports neither ``protocol`` nor the rest of
``gateway``, nor asyncio, sockets or the wall clock. Commands carry the business time they run
at; the core returns a reply and the events that became true.
"""
