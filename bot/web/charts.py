"""Charts of the month drawn by pygal as standalone SVG (served as images: no script runs)."""

from __future__ import annotations

import re
import sys

import pygal
from pygal.style import Style

from bot.web.queries import Figures

# pygal appends a finder without find_spec to sys.meta_path (for its map plugins). Any import
# that is not found elsewhere then reaches it and warns (ImportWarning), which breaks optional
# imports such as Pillow's; the console draws no maps, so it goes.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__module__ != "pygal"]

FONT = '"PingFang SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", sans-serif'
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2328",
    foreground_strong="#1f2328",
    foreground_subtle="#6b7280",
    colors=("#0b6bcb", "#07c160", "#b26a00"),
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    value_font_family=FONT,
    title_font_size=16,
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)


def _svg(chart: pygal.graph.graph.Graph) -> bytes:
    # pygal adds a script for its tooltips; an <img> would not run it, but nothing needs it.
    return _SCRIPT.sub("", chart.render(is_unicode=True)).encode("utf-8")


def building_label(building: str | None) -> str:
    """A building as the figures name it; reports with no building are 未定楼栋."""
    return f"{building}栋" if building else "未定楼栋"


def trend_chart(f: Figures) -> bytes:
    """Reports filed and resolved on each day of the month, with axes and a legend."""
    chart = pygal.Bar(
        width=760,
        height=320,
        style=STYLE,
        title=f"{f.compound} {f.month} 每日报事与办结",
        x_title="日期",
        y_title="件数",
        legend_at_bottom=True,
        show_minor_x_labels=False,
        x_labels_major_every=5,
        truncate_label=-1,
        print_values=False,
        min_scale=1,
        disable_xml_declaration=True,
        js=[],
        include_x_axis=True,
    )
    chart.x_labels = [f"{d.start.month}/{d.start.day}" for d in f.days]
    chart.add("报事", [d.filed for d in f.days])
    chart.add("办结", [d.resolved for d in f.days])
    return _svg(chart)


def rates_chart(f: Figures) -> bytes:
    """响应率, 解决率 and 满意率 of the compound and each building, in per cent."""
    rows = [("全小区", f.total), *((building_label(b.building), b) for b in f.buildings)]
    chart = pygal.Bar(
        width=760,
        height=320,
        style=STYLE,
        title=f"{f.compound} {f.month} 三率（%）",
        x_title="楼栋",
        y_title="%",
        range=(0, 100),
        legend_at_bottom=True,
        print_values=False,
        disable_xml_declaration=True,
        js=[],
    )
    chart.x_labels = [label for label, _ in rows]

    def pct(value: float | None) -> float | None:
        return round(value * 100, 1) if value is not None else None

    chart.add("响应率", [pct(r.response_rate) for _, r in rows])
    chart.add("解决率", [pct(r.resolution_rate) for _, r in rows])
    chart.add("满意率", [pct(r.satisfaction_rate) for _, r in rows])
    return _svg(chart)
