"""Ratios to the ceilings, target verdicts, and the markdown table."""
from __future__ import annotations


def _fmt(v, nd=0) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and nd:
        return f"{v:,.{nd}f}"
    return f"{v:,.0f}"


def _kernel(gw: dict) -> str:
    """The server's kernel share of CPU and its page faults per operation: "12 % / 0.41"."""
    share, faults = gw.get("server_sys_share"), gw.get("server_faults_per_op")
    if share is None and faults is None:
        return "-"
    return (f"{share * 100:.0f} %" if share is not None else "-") + " / " + \
        (f"{faults:,.3g}" if faults is not None else "-")


def _faults(pf: dict | None) -> str:
    """The machine's page fault cost, as the report's header gives it."""
    if not pf:
        return ""
    return (f"; a page fault {pf['first_touch_us_per_page'] - pf['again_us_per_page']:.1f} us (memory touched "
            f"first: {pf['first_touch_us_per_page']} us per 4 KiB page, again: {pf['again_us_per_page']} us)")


def one_line(res: dict, unit: str) -> str:
    if "error" in res:
        return "ERROR " + res["error"]
    lat = res.get("latency_us", {})
    return (f"{_fmt(res.get('throughput'))} {unit}, p50 {lat.get('p50')} us, p99 {lat.get('p99')} us, "
            f"p99.9 {lat.get('p99_9')} us, CPU server {res.get('server_cpu_util')} (kernel share "
            f"{res.get('server_sys_share')}, page faults/op {res.get('server_faults_per_op')}) loadgen "
            f"{res.get('loadgen_cpu_util')} other {res.get('other_cpu_util')}, "
            f"peak RSS {res.get('server_peak_rss_mib')} MiB, errors {res.get('errors')}")


def _ratio(a, b):
    if a is None or not b:
        return None
    return round(a / b, 3)


def judge(entry: dict, sc) -> None:
    """Ratios of the gateway's figures to each ceiling's, and the verdict on the target."""
    res = entry.get("results", {})
    gw = res.get("gateway")
    if not gw or "error" in gw:
        entry["status"] = "error" if gw else "not measured"
        return
    ratios = {}
    for c in ("codec", "bytes"):
        ce = res.get(c)
        if not ce or "error" in ce:
            continue
        ratios[c] = {"throughput": _ratio(gw.get("throughput"), ce.get("throughput")),
                     "p50": _ratio(gw["latency_us"].get("p50"), ce["latency_us"].get("p50")),
                     "p99": _ratio(gw["latency_us"].get("p99"), ce["latency_us"].get("p99"))}
    entry["ratios"] = ratios
    verdict = None
    why = []
    if sc.target is not None:
        ok = gw.get("throughput") is not None and gw["throughput"] >= sc.target * 0.98
        if not ok:
            why.append(f"throughput {gw.get('throughput'):,.0f} < {sc.target:,.0f}")
        verdict = ok
    if sc.p99_target_us is not None:
        p99 = gw["latency_us"].get("p99")
        ok = p99 is not None and p99 < sc.p99_target_us
        if not ok:
            why.append(f"p99 {p99 if p99 is None else round(p99, 1)} us >= {sc.p99_target_us:g} us")
        verdict = ok if verdict is None else verdict and ok
    if sc.max_rss_mib is not None:
        rss = gw.get("server_peak_rss_mib")
        ok = rss is not None and rss <= sc.max_rss_mib
        if not ok:
            why.append(f"peak RSS {rss} MiB > {sc.max_rss_mib} MiB")
        verdict = ok if verdict is None else verdict and ok
    if gw.get("errors"):
        why.append(f"{gw['errors']} rejects")
    if gw.get("unanswered") or gw.get("missing"):
        why.append(f"unanswered {gw.get('unanswered', 0)}, undelivered {gw.get('missing', 0)}")
        verdict = False if verdict is not None else verdict
    entry["met"] = verdict
    entry["why"] = "; ".join(why)
    entry["status"] = "measured"


def markdown(results: dict) -> str:
    m = results["machine"]
    s = results["settings"]
    lines = [f"# Benchmark results ({results['started']})", "",
             f"Machine: {m.get('cpu')}, {m.get('cpus')} CPUs, {m.get('memory')}; Python {m.get('python')}, "
             f"uvloop {m.get('uvloop')}, construct {m.get('construct')}{_faults(m.get('page_fault'))}. "
             f"Gateway: {s['gateway']}; "
             f"{s['runs']} runs of {s['duration_s']} s per figure (median), pinned: {s['pinned']}"
             + (" (QUICK: figures not meaningful)" if s.get("quick") else "") + ".", "",
             f"Command: `{results['command']}`", "",
             "| scenario | unit | gateway | codec ceiling | bytes ceiling | ratio to codec / bytes | "
             "gateway p50 / p99 / p99.9 us | codec p50 / p99 us | server CPU us/op | kernel share / page faults per op | "
             "peak RSS MiB | other CPU | target | met |",
             "|---|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---|---|"]
    for name, e in results["scenarios"].items():
        if e.get("status") == "not available":
            lines.append(f"| {name} | {e['unit']} | not available: {e['reason']} | | | | | | | | | | {e['target']} | - |")
            continue
        res = e.get("results", {})
        gw, cc, bc = res.get("gateway", {}), res.get("codec", {}), res.get("bytes", {})
        r = e.get("ratios", {})
        rc = r.get("codec", {}).get("throughput")
        rb = r.get("bytes", {}).get("throughput")
        gl, cl = gw.get("latency_us", {}), cc.get("latency_us", {})
        met = {True: "yes", False: "NO", None: "-"}[e.get("met")]
        if e.get("why") and e.get("met") is False:
            met += f" ({e['why']})"
        if "error" in gw:
            lines.append(f"| {name} | {e['unit']} | ERROR {gw['error']} | | | | | | | | | | {e['target']} | - |")
            continue
        lines.append(
            f"| {name} | {e['unit']} | {_fmt(gw.get('throughput'))} | {_fmt(cc.get('throughput'))} | "
            f"{_fmt(bc.get('throughput'))} | {_fmt(rc, 2) if rc is not None else '-'} / "
            f"{_fmt(rb, 3) if rb is not None else '-'} | {gl.get('p50', '-')} / {gl.get('p99', '-')} / "
            f"{gl.get('p99_9', '-')} | {cl.get('p50', '-')} / {cl.get('p99', '-')} | "
            f"{_fmt(gw.get('server_cpu_us_per_op'), 1)} | {_kernel(gw)} | {_fmt(gw.get('server_peak_rss_mib'), 1)} | "
            f"{gw.get('other_cpu_util', '-')} | {e['target'] or '-'} | {met} |")
    lines += ["", "Latency is measured from when each request was due (open loop at the offered rate); in the "
              "closed-loop (capacity) scenarios, from when it was sent. Replay latency is the whole replay; "
              "full_day's is the whole day (bounded). Other CPU: cores busy with neither the server nor the load "
              "generator during the gateway's runs (a shared machine; high values make the figure a lower "
              "bound). Kernel share: the part of the server's CPU spent in the kernel (system calls, page faults); "
              "page faults: the server's first touches of memory pages per operation, each 4 KiB its heap grew by "
              "(their cost depends on the machine: see docs/performance.md)."]
    return "\n".join(lines) + "\n"
