"""A small inline SVG bar chart (no JavaScript, no CDN): reports filed and resolved per week."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from bot.web.queries import Figures

W, H, PAD = 420, 160, 24


def week_chart(f: Figures) -> Markup:
    """Two bars per week (filed, resolved), labelled with the week's first day."""
    top = max([1, *(w.filed for w in f.weeks), *(w.resolved for w in f.weeks)])
    n = max(1, len(f.weeks))
    slot = (W - 2 * PAD) / n
    bar = slot * 0.35
    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" '
        f'aria-label="{escape(f.compound)} 每周报事与办结">'
    ]
    for i, w in enumerate(f.weeks):
        x = PAD + i * slot + slot * 0.1
        for j, (value, cls) in enumerate(((w.filed, "filed"), (w.resolved, "resolved"))):
            h = (H - 2 * PAD) * value / top
            parts.append(
                f'<rect class="{cls}" x="{x + j * bar:.1f}" y="{H - PAD - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}"><title>{value}</title></rect>'
            )
            if value:
                parts.append(
                    f'<text x="{x + j * bar + bar / 2:.1f}" y="{H - PAD - h - 3:.1f}" '
                    f'text-anchor="middle">{value}</text>'
                )
        parts.append(
            f'<text x="{x + bar:.1f}" y="{H - 6}" text-anchor="middle">'
            f"{w.start.month}/{w.start.day}</text>"
        )
    parts.append(
        f'<text x="{W - PAD}" y="14" text-anchor="end" class="legend">■ 报事 <tspan '
        'class="resolved-legend">■ 办结</tspan></text></svg>'
    )
    return Markup("".join(parts))
