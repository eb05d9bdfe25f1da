"""CPU time and memory of a process, read from /proc/<pid> (Linux)."""
from __future__ import annotations

import os

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_times(pid: int) -> tuple[float, float, int] | None:
    """User and system CPU seconds the process has used so far, and its minor page faults (the
    first touches of memory pages); None when they cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    # minflt, utime, stime: fields 10, 14 and 15 of proc(5)
    return int(fields[11]) / _TICKS, int(fields[12]) / _TICKS, int(fields[7])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds the process has used so far (None when it cannot be read)."""
    t = cpu_times(pid)
    return None if t is None else t[0] + t[1]


def per_op(server: dict, ops: int, digits: int = 2) -> None:
    """``server``'s figures per operation (CPU microseconds to ``digits`` decimals, page faults)
    from its totals over a run of ``ops`` operations (nothing without operations or totals)."""
    if not ops or server.get("server_cpu_s") is None:
        return
    server["server_cpu_us_per_op"] = round(server["server_cpu_s"] * 1e6 / ops, digits)
    if server.get("server_minor_faults") is not None:
        server["server_faults_per_op"] = round(server["server_minor_faults"] / ops, 3)


def page_fault_cost(mib: int = 64) -> dict:
    """What a page fault costs this machine, in microseconds per 4 KiB page: anonymous memory
    touched for the first time (a fault per page: what a growing heap pays) and the same memory
    touched again (no fault: the loop alone). A virtual machine that backs its guest's memory
    lazily charges the first far more than bare Linux does (well under a microsecond)."""
    import mmap
    import time
    size = mib << 20
    buf = mmap.mmap(-1, size)
    try:
        times = []
        for value in (1, 2):
            t0 = time.perf_counter()
            for off in range(0, size, 4096):
                buf[off] = value
            times.append(time.perf_counter() - t0)
    finally:
        buf.close()
    pages = size // 4096
    return {"first_touch_us_per_page": round(times[0] * 1e6 / pages, 2),
            "again_us_per_page": round(times[1] * 1e6 / pages, 2)}


def memory(pid: int) -> dict | None:
    """Resident set size now and its peak (VmRSS, VmHWM), in MiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    out = {}
    for line in lines:
        if line.startswith(("VmRSS:", "VmHWM:")):
            k, v = line.split(":", 1)
            out["rss_mib" if k == "VmRSS" else "peak_rss_mib"] = round(int(v.split()[0]) / 1024, 1)
    return out


def reset_peak(pid: int) -> bool:
    """Reset the peak RSS (VmHWM) to the current RSS, so the next peak is the scenario's own."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def machine_busy_seconds() -> float | None:
    """CPU seconds spent busy by the whole machine (all CPUs) since boot, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            parts = f.readline().split()
    except OSError:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in parts[1:9])
    return (user + nice + system + irq + softirq + steal) / _TICKS


class Sampler:
    """CPU used by ``pid`` between ``start()`` and ``stop()``, the part of it spent in the kernel
    and the pages it touched for the first time (minor faults); peak RSS over that window. Also
    the CPU the rest of the machine used meanwhile (not the server, not this load generator):
    other work on a shared machine shows up there and explains a noisy run.

    The kernel's part is the server's system calls and its page faults: a server whose memory
    grows (a day's trades) faults in a new page for every 4 KiB it keeps. On bare Linux a fault
    costs well under a microsecond; on a virtual machine that backs the guest's memory lazily it
    can cost tens (docs/performance.md, "How it measures"), so the faults per
    operation are reported beside the CPU."""

    def __init__(self, pid: int | None):
        self.pid = pid
        self.cpu0 = None
        self.me0 = self.all0 = None

    def start(self) -> None:
        self.me0 = cpu_seconds(os.getpid())
        self.all0 = machine_busy_seconds()
        if self.pid:
            reset_peak(self.pid)
            self.cpu0 = cpu_times(self.pid)

    def stop(self, elapsed: float, ops: int) -> dict:
        out: dict = {}
        me = cpu_seconds(os.getpid())
        busy = machine_busy_seconds()
        used = None
        if self.pid and self.cpu0 is not None:
            now = cpu_times(self.pid)
            if now is not None:
                user, system, faults = (b - a for a, b in zip(self.cpu0, now))
                used = user + system
                mem = memory(self.pid) or {}
                out = {"server_cpu_s": round(used, 3),
                       "server_cpu_util": round(used / elapsed, 3) if elapsed else None,
                       "server_sys_share": round(system / used, 3) if used else None,
                       "server_minor_faults": faults,
                       "server_peak_rss_mib": mem.get("peak_rss_mib"), "server_rss_mib": mem.get("rss_mib")}
                per_op(out, ops)
        if me is not None and self.me0 is not None and elapsed:
            out["loadgen_cpu_util"] = round((me - self.me0) / elapsed, 3)
            if busy is not None and self.all0 is not None:
                other = (busy - self.all0) - (me - self.me0) - (used or 0)
                out["other_cpu_util"] = round(max(0.0, other) / elapsed, 3)
        return out


def wait_quiet(threshold: float = 0.3, max_wait: float = 60.0, window: float = 0.5) -> dict:
    """Wait until the machine is nearly idle (busy CPUs < ``threshold`` over ``window`` seconds),
    at most ``max_wait`` seconds: on a shared machine, other work would be measured as ours.
    Returns how long it waited and the last busy figure."""
    import time
    t0 = time.monotonic()
    busy = None
    while True:
        a = machine_busy_seconds()
        time.sleep(window)
        b = machine_busy_seconds()
        if a is None or b is None:
            return {"waited_s": 0.0, "busy_cpus": None}
        busy = (b - a) / window
        if busy < threshold or time.monotonic() - t0 >= max_wait:
            return {"waited_s": round(time.monotonic() - t0, 1), "busy_cpus": round(busy, 2)}
