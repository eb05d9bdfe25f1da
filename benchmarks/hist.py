"""A log-linear latency histogram (the HdrHistogram idea, in plain Python).

Values are integers (nanoseconds here). Values below 128 have their own bucket; above, each power
of two is cut into 64 equal buckets, so a recorded value is off by at most 1/64 (1.6 %) of itself.
Histograms merge by adding counts and travel between processes as sparse dicts.
"""
from __future__ import annotations

SUB = 64          # buckets per power of two above 2*SUB
_MAX_SHIFT = 48   # values up to ~2**55 ns (about a year): more than enough
_SIZE = 2 * SUB + SUB * _MAX_SHIFT


def index(v: int) -> int:
    """Bucket of value ``v`` (>= 0)."""
    b = v.bit_length()
    if b <= 7:
        return v
    shift = b - 7
    return SUB * shift + (v >> shift)


def lower(i: int) -> int:
    """Smallest value of bucket ``i``."""
    if i < 2 * SUB:
        return i
    shift = i // SUB - 1
    mant = i - SUB * shift
    return mant << shift


def upper(i: int) -> int:
    """Largest value of bucket ``i``."""
    return lower(i + 1) - 1


class Histogram:
    __slots__ = ("counts", "total", "min", "max", "sum")

    def __init__(self) -> None:
        self.counts = [0] * _SIZE
        self.total = 0
        self.min = 0
        self.max = 0
        self.sum = 0

    def record(self, v: int, n: int = 1) -> None:
        if v < 0:
            v = 0
        b = v.bit_length()
        i = v if b <= 7 else SUB * (b - 7) + (v >> (b - 7))
        self.counts[i] += n
        if not self.total or v < self.min:
            self.min = v
        if v > self.max:
            self.max = v
        self.total += n
        self.sum += v * n

    def record_linear(self, lo: int, hi: int, n: int) -> None:
        """Record ``n`` values evenly spaced from ``lo`` to ``hi`` (inclusive) in one go.

        Used where a batch of broadcasts due at a constant rate arrives together: their
        latencies form an arithmetic progression, so they are spread over the buckets they
        cover instead of being recorded one by one."""
        if n <= 0:
            return
        if lo > hi:
            lo, hi = hi, lo
        lo = max(lo, 0)
        hi = max(hi, 0)
        if n <= 4 or hi == lo:
            if hi == lo:
                self.record(lo, n)
                return
            step = (hi - lo) / (n - 1)
            for k in range(n):
                self.record(int(lo + k * step))
            return
        counts = self.counts
        i, last = index(lo), index(hi)
        span = hi - lo + 1
        done = 0
        while i <= last:
            a = max(lower(i), lo)
            b = min(upper(i), hi)
            if i == last:
                c = n - done
            else:
                c = round(n * (b - a + 1) / span)
                c = min(c, n - done)
            if c:
                counts[i] += c
                done += c
            i += 1
        if not self.total or lo < self.min:
            self.min = lo
        if hi > self.max:
            self.max = hi
        self.total += n
        self.sum += (lo + hi) * n // 2

    def merge(self, other: "Histogram") -> None:
        if not other.total:
            return
        c = self.counts
        for i, k in enumerate(other.counts):
            if k:
                c[i] += k
        self.min = other.min if not self.total else min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.total += other.total
        self.sum += other.sum

    def percentile(self, p: float) -> int:
        """Value at percentile ``p`` (0-100): the upper bound of the bucket that holds it."""
        if not self.total:
            return 0
        want = max(1, -(-self.total * p // 100))  # ceil
        run = 0
        for i, k in enumerate(self.counts):
            if k:
                run += k
                if run >= want:
                    return min(upper(i), self.max)
        return self.max

    @property
    def mean(self) -> float:
        return self.sum / self.total if self.total else 0.0

    def summary(self, scale: float = 1e-3) -> dict:
        """p50/p99/p99.9/max/mean, in microseconds by default (values recorded in ns)."""
        r = lambda v: round(v * scale, 1)  # noqa: E731
        return {"count": self.total, "p50": r(self.percentile(50)), "p99": r(self.percentile(99)),
                "p99_9": r(self.percentile(99.9)), "max": r(self.max), "mean": r(self.mean)}

    def to_dict(self) -> dict:
        return {"buckets": {i: k for i, k in enumerate(self.counts) if k}, "total": self.total, "min": self.min,
                "max": self.max, "sum": self.sum}

    @classmethod
    def from_dict(cls, d: dict) -> "Histogram":
        h = cls()
        for i, k in d["buckets"].items():
            h.counts[int(i)] = k
        h.total, h.min, h.max, h.sum = d["total"], d["min"], d["max"], d["sum"]
        return h
