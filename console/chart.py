"""The margin-against-collateral chart, drawn on the server as SVG from the coverage broadcasts
(BF204) the session has seen (and recovered from the day's collateral stream at login)."""
from __future__ import annotations

from html import escape

from console.display import money, time_text

W, H, PAD = 640, 220, 40


def coverage_svg(curve) -> str:
    """Two step lines over the business day: requirement (margin) and collateral value used."""
    if not curve:
        return ('<svg class="chart" viewBox="0 0 640 60" role="img" aria-label="no coverage data yet">'
                '<text x="10" y="35">No coverage broadcast yet today.</text></svg>')
    top = max(max(p.requirement, p.covered) for p in curve) or 1
    n = len(curve)

    def xy(i: int, v: int) -> str:
        x = PAD + (W - 2 * PAD) * (i / max(1, n - 1))
        y = H - PAD - (H - 2 * PAD) * (v / top)
        return f"{x:.1f},{y:.1f}"

    req = " ".join(xy(i, p.requirement) for i, p in enumerate(curve))
    cov = " ".join(xy(i, p.covered) for i, p in enumerate(curve))
    last = curve[-1]
    labels = "".join(
        f'<text x="{PAD + (W - 2 * PAD) * (i / max(1, n - 1)):.1f}" y="{H - PAD + 16}" class="tick">{escape(time_text(p.time)[:5])}</text>'
        for i, p in enumerate(curve) if p.time and (i == 0 or i == n - 1))
    return (
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="margin requirement '
        f'{money(last.requirement)} against collateral value {money(last.covered)}">'
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" class="axis"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" class="axis"/>'
        f'<text x="{PAD}" y="{PAD - 8}" class="tick">{money(top)}</text>'
        f'<polyline points="{req}" class="requirement"/>'
        f'<polyline points="{cov}" class="covered"/>'
        f'{labels}'
        f'<text x="{W - PAD - 220}" y="20" class="legend requirement-text">margin requirement</text>'
        f'<text x="{W - PAD - 220}" y="38" class="legend covered-text">collateral value used</text>'
        '</svg>')
