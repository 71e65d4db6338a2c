"""Reports of one run: self-contained HTML (inline SVG charts), Markdown, JSON and CTRF.

Problems come first (failures by category, new failures, broken and flaky tests), then
trends and the slowest tests. Lists are capped and logs keep their head and tail, so a
report of 100,000 results stays small and quick to build.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ._analytics import FlakyVerdict, RunComparison, SlowTest, TrendAnalysis
from ._categories import FailureGroup
from ._errors import ConfigurationError
from ._model import TestResult, truncate
from ._store import Store
from ._version import __version__


class ReportSource(Protocol):
    """What a report reads from the aggregator (a Protocol: no import cycle with it)."""

    @property
    def _store(self) -> Store: ...

    def get_summary(self, orchestration_id: str) -> Mapping[str, Any]: ...

    def run_categories(self, orchestration_id: str) -> list[str]: ...

    def failure_categories(self, orchestration_id: str) -> list[FailureGroup]: ...

    def flaky_tests(self, category: str | None = None) -> list[FlakyVerdict]: ...

    def get_results(self, orchestration_id: str) -> list[TestResult]: ...

    def compare_runs(self, base: str, head: str) -> RunComparison: ...

    def slowest_tests(self, orchestration_id: str) -> list[SlowTest]: ...

    def analyze_trends(self, category: str | None = None, days: int = 30) -> TrendAnalysis: ...

    def export_ctrf(self, orchestration_id: str) -> dict[str, Any]: ...


LOG_CHARS = 1_500
MAX_FAILURES_PER_GROUP = 50
MAX_FLAKY = 50
#: Tests given a per-test view (history across runs); failing ones first.
MAX_TEST_VIEWS = 300
#: Runs shown in a test's history.
HISTORY_RUNS = 10
#: A test is "regressed" when it takes this much longer than in the previous run.
REGRESSION_FACTOR = 1.5
REGRESSION_MIN_SECONDS = 0.1
PR_COMMENT_CHARS = 60_000
FORMATS = ("html", "md", "markdown", "json", "ctrf")


@dataclass(frozen=True, slots=True)
class Report:
    """A rendered report: ``content`` in ``format``, and ``data`` (the JSON model behind it)."""

    format: str
    content: str
    data: dict[str, Any]

    def __str__(self) -> str:
        return self.content

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the report (UTF-8) and return the path."""
        target = Path(path)
        target.write_text(self.content, encoding="utf-8")
        return target


def collect(
    agg: ReportSource, orchestration_id: str, days: int, include_charts: bool
) -> dict[str, Any]:
    """The report's data model (plain JSON types)."""
    summary = agg.get_summary(orchestration_id)
    categories = agg.run_categories(orchestration_id)
    trend_category = categories[0] if len(categories) == 1 else None
    groups = agg.failure_categories(orchestration_id)
    flaky = agg.flaky_tests(trend_category)
    results = agg.get_results(orchestration_id)
    run_tests = {r.test_id for r in results}
    in_run = [v for v in flaky if v.test_id in run_tests]
    previous = _previous_run(agg, orchestration_id)
    before = (
        {r.test_id: r.duration for r in agg.get_results(previous)} if previous is not None else {}
    )
    comparison = agg.compare_runs(previous, orchestration_id).to_dict() if previous else None
    data: dict[str, Any] = {
        "generator": f"maestro-test-result-aggregator {__version__}",
        "orchestration_id": orchestration_id,
        "categories": categories,
        "summary": dict(summary),
        "failure_groups": [
            {
                "name": g.name,
                "defect_type": g.defect_type,
                "count": g.count,
                "failures": [
                    {
                        "test_id": r.test_id,
                        "status": r.status.value,
                        "attempt": r.attempt,
                        "message": truncate(r.message, LOG_CHARS),
                        "trace": truncate(r.trace, LOG_CHARS),
                    }
                    for r in g.results[:MAX_FAILURES_PER_GROUP]
                ],
                "omitted": max(0, g.count - MAX_FAILURES_PER_GROUP),
            }
            for g in groups
        ],
        "comparison": comparison,
        "flaky": [v.to_dict() for v in in_run][:MAX_FLAKY],
        "flaky_count": sum(1 for v in in_run if v.verdict == "flaky"),
        "broken_count": sum(1 for v in in_run if v.verdict == "broken"),
        "slowest": [
            _slow_entry(s.test_id, s.max, before.get(s.test_id))
            for s in agg.slowest_tests(orchestration_id)
        ],
        "tests": _test_views(agg, orchestration_id, results, trend_category),
        "suites": _suite_tree(results),
    }
    if include_charts:
        data["trends"] = agg.analyze_trends(trend_category, days).to_dict()
    return data


def _slow_entry(test_id: str, duration: float, previous: float | None) -> dict[str, Any]:
    regressed = (
        previous is not None
        and duration >= previous * REGRESSION_FACTOR
        and duration - previous >= REGRESSION_MIN_SECONDS
    )
    return {
        "test_id": test_id,
        "duration": duration,
        "previous": previous,
        "regressed": regressed,
    }


def _test_views(
    agg: ReportSource,
    orchestration_id: str,
    results: list[Any],
    category: str | None,
) -> dict[str, Any]:
    """Per-test entries (failing first, capped) with each test's outcome in recent runs."""
    order = sorted(results, key=lambda r: (r.status.value == "passed", r.test_id))
    shown = order[:MAX_TEST_VIEWS]
    wanted = {r.test_id for r in shown}
    runs = [str(row[0]) for row in agg._store.recent_runs(category, HISTORY_RUNS)]
    if orchestration_id not in runs:
        runs.insert(0, orchestration_id)
    finals: dict[str, dict[str, str]] = {}
    for orch, test_id, _attempt, is_final, status in agg._store.attempts_of_runs(runs, category):
        if is_final and test_id in wanted:
            finals.setdefault(test_id, {})[str(orch)] = str(status)
    tests = []
    for r in shown:
        seen = finals.get(r.test_id, {})
        tests.append(
            {
                "test_id": r.test_id,
                "status": r.status.value,
                "duration": r.duration,
                "attempts": r.attempt,
                "suite": r.class_name or r.suite or r.test_id.rpartition("::")[0],
                "message": truncate(r.message, 300),
                "history": [{"run": run, "status": seen[run]} for run in runs if run in seen],
            }
        )
    return {"shown": tests, "omitted": max(0, len(results) - len(shown))}


def _suite_tree(results: list[Any]) -> dict[str, Any]:
    """Counts of final outcomes per suite path (``pkg.mod.Class`` split on dots)."""
    root: dict[str, Any] = {"name": "", "passed": 0, "failing": 0, "other": 0, "children": {}}
    for r in results:
        owner = r.class_name or (r.test_id.rsplit("::", 1)[0] if "::" in r.test_id else "")
        path = (owner or r.suite or "(no suite)").replace("::", ".").split(".")
        status = r.status.value
        key = (
            "passed"
            if status == "passed"
            else "failing"
            if status in ("failed", "error", "timeout")
            else "other"
        )
        node = root
        node[key] += 1
        for part in path:
            children = node["children"]
            if part not in children:
                children[part] = {
                    "name": part,
                    "passed": 0,
                    "failing": 0,
                    "other": 0,
                    "children": {},
                }
            node = children[part]
            node[key] += 1
    return root


def _previous_run(agg: ReportSource, orchestration_id: str) -> str | None:
    info = agg._store.run_info(orchestration_id)
    if info is None:
        return None
    rows = agg._store.backend.query(
        "SELECT orchestration_id FROM maestro_runs WHERE created_at < ? "
        "ORDER BY created_at DESC LIMIT 1",
        (info[0],),
    )
    return str(rows[0][0]) if rows else None


def build_report(
    agg: ReportSource,
    orchestration_id: str,
    *,
    include_charts: bool,
    format: str,
    days: int,
    max_chars: int | None,
) -> Report:
    """Render one run's report in ``format``."""
    if format not in FORMATS:
        raise ConfigurationError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    if format == "ctrf":
        doc = agg.export_ctrf(orchestration_id)
        return Report("ctrf", json.dumps(doc, indent=2), doc)
    data = collect(agg, orchestration_id, days, include_charts and format != "md")
    if format == "json":
        return Report("json", json.dumps(data, indent=2, sort_keys=True), data)
    if format in ("md", "markdown"):
        return Report("md", render_markdown(data, max_chars or PR_COMMENT_CHARS), data)
    return Report("html", render_html(data, include_charts), data)


# -- Markdown ---------------------------------------------------------------------------------


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def _md_cell(text: str, limit: int = 200) -> str:
    one = " ".join(text.split())
    one = one if len(one) <= limit else one[: limit - 1] + "…"
    return one.replace("|", "\\|") or " "


def render_markdown(data: dict[str, Any], max_chars: int = PR_COMMENT_CHARS) -> str:
    """Markdown sized for a pull-request comment; truncated with a footer past ``max_chars``."""
    s = data["summary"]
    icon = "✅" if s["failed"] + s["error"] + s["timeout"] == 0 else "❌"
    parts = [
        f"## {icon} Test results: `{data['orchestration_id']}`\n",
        "| total | passed | failed | error | timeout | skipped | flaky | pass rate | duration |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {s['total']} | {s['passed']} | {s['failed']} | {s['error']} | {s['timeout']} | "
        f"{s['skipped']} | {s['flaky']} | {_pct(s['pass_rate'])} | {s['duration']:.1f}s |\n",
    ]
    lines: list[str] = []
    comparison = data.get("comparison")
    if comparison and comparison["new_failures"]:
        lines.append(f"### New failures since `{comparison['base']}`\n")
        lines.extend(f"- `{t}`" for t in comparison["new_failures"])
        lines.append("")
    for group in data["failure_groups"]:
        lines.append(f"### {group['name']} ({group['count']}, {group['defect_type']})\n")
        lines.append("| test | status | message |")
        lines.append("|---|---|---|")
        for f in group["failures"]:
            lines.append(
                f"| `{_md_cell(f['test_id'], 120)}` | {f['status']} | {_md_cell(f['message'])} |"
            )
        if group["omitted"]:
            lines.append(f"\n…and {group['omitted']} more in this category.")
        lines.append("")
    if data["flaky"]:
        lines.append("### Flaky and broken tests\n")
        lines.append("| test | verdict | score | why |")
        lines.append("|---|---|---:|---|")
        for v in data["flaky"]:
            lines.append(
                f"| `{_md_cell(v['test_id'], 120)}` | {v['verdict']} | {v['score']:.2f} | "
                f"{_md_cell('; '.join(v['reasons']))} |"
            )
        lines.append("")
    if data["slowest"]:
        lines.append("### Slowest tests\n")
        lines.append("| test | duration |")
        lines.append("|---|---:|")
        lines.extend(
            f"| `{_md_cell(t['test_id'], 120)}` | {t['duration']:.3f}s |" for t in data["slowest"]
        )
    head = "\n".join(parts)
    footer_room = 200
    out = head
    for index, line in enumerate(lines):
        if len(out) + len(line) + 1 > max_chars - footer_room:
            rest = len(lines) - index
            out += (
                f"\n\n---\n_Report truncated to fit a comment: {rest} more lines omitted. "
                "Run `maestro-results report --format html` for the full report._\n"
            )
            return out
        out += "\n" + line
    return out + "\n"


# -- HTML ---------------------------------------------------------------------------------------

_CSS = """
.badge{font-size:13px;color:#fff;border-radius:4px;padding:2px 8px;vertical-align:middle}
.badge.bad{background:#cf222e}.badge.good{background:#1a7f37}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2328;
  background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px}
.muted{color:#59636e}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:16px 0}
.card{background:#fff;border:1px solid #d1d9e0;border-radius:6px;padding:8px 14px;
  min-width:80px}
.card b{display:block;font-size:20px}
.bad b{color:#cf222e}
.good b{color:#1a7f37}
.warn b{color:#9a6700}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d1d9e0}
th,td{text-align:left;padding:6px 8px;border-top:1px solid #d1d9e0;vertical-align:top}
th{background:#f6f8fa}
td.num,th.num{text-align:right}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:8px;margin:4px 0;
  max-height:320px;overflow:auto}
details summary{cursor:pointer}
.tag{font-size:12px;padding:1px 6px;border-radius:10px;background:#eef}
.broken{background:#ffebe9}
.flaky{background:#fff8c5}
svg{background:#fff;border:1px solid #d1d9e0;border-radius:6px}
.tag.good{background:#dafbe1}.tag.bad{background:#ffebe9}.tag.regressed{background:#fff1e5}
tr.regressed{background:#fff8f2}
.indent{margin-left:18px}
details.test{background:#fff;border:1px solid #d1d9e0;border-radius:6px;margin:4px 0;
  padding:4px 8px}
.filters{margin:8px 0}
.filters input{padding:4px 8px;min-width:260px}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _line_chart(
    title: str,
    labels: list[str],
    series: list[tuple[str, str, list[float | None]]],
    unit: str,
    fixed_max: float | None = None,
    *,
    marks: list[int] | None = None,
) -> str:
    width, height, left, right, top, bottom = 720, 220, 56, 16, 28, 36
    values = [v for _, _, vs in series for v in vs if v is not None]
    top_value = fixed_max if fixed_max is not None else _nice_max(max(values) if values else 1.0)
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i / (n - 1)) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * (v / top_value)

    out = [
        f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{left}" y="18" font-size="13" font-weight="600">{_e(title)}</text>',
    ]
    for k in range(5):
        v = top_value * k / 4
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            'stroke="#eee"/>'
            f'<text class="tick" x="{left - 6}" y="{y(v) + 4:.1f}" font-size="10" '
            f'text-anchor="end">{_tick(v, top_value)}{_e(unit)}</text>'
        )
    for i in marks or ():
        band = plot_w / max(n - 1, 1) if n > 1 else plot_w
        out.append(
            f'<rect class="outage" x="{x(i) - band / 2:.1f}" y="{top}" width="{band:.1f}" '
            f'height="{plot_h}" fill="#cf222e" fill-opacity="0.12"><title>outage: '
            f"{_e(labels[i])}, most tests failed</title></rect>"
        )
    step = max(1, n // 8)
    for i, label in enumerate(labels):
        if i % step == 0 or i == n - 1:
            out.append(
                f'<text class="tick" x="{x(i):.1f}" y="{height - 14}" font-size="10" '
                f'text-anchor="middle">{_e(label[5:])}</text>'
            )
    for position, (name, color, vs) in enumerate(series):
        points = [(x(i), y(v)) for i, v in enumerate(vs) if v is not None]
        if points:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            out.append(
                f'<polyline class="series" fill="none" stroke="{color}" stroke-width="2" '
                f'points="{path}"/>'
            )
            out.extend(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{color}"/>' for px, py in points
            )
        out.append(
            f'<text x="{width - right - 120 * (len(series) - position)}" y="18" font-size="11" '
            f'fill="{color}">■ {_e(name)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above ``value`` (ticks at its quarters)."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        candidate = float(step * 10.0**exp)
        if candidate >= value:
            return candidate
    return float(10.0 ** (exp + 1))  # pragma: no cover - the loop always returns


def _tick(value: float, top: float) -> str:
    """A short, plain tick label: no scientific notation, no trailing zeros."""
    if value == 0:
        return "0"
    if top >= 1000:
        return f"{value / 1000:g}k" if value >= 1000 else f"{value:.0f}"
    decimals = max(0, min(3, 2 - math.floor(math.log10(top))))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _status_bar(summary: dict[str, Any]) -> str:
    colors = {
        "passed": "#1a7f37",
        "failed": "#cf222e",
        "error": "#8250df",
        "timeout": "#bc4c00",
        "skipped": "#8c959f",
        "cancelled": "#57606a",
    }
    total = summary["total"] or 1
    x = 0.0
    out = [
        '<svg class="chart" role="img" aria-label="Outcomes" width="720" height="28" viewBox="0 0 '
        '720 28" xmlns="http://www.w3.org/2000/svg">'
    ]
    for key, color in colors.items():
        width = 720 * summary[key] / total
        if width > 0:
            out.append(
                f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="28" fill="{color}"><title>'
                f"{key}: {summary[key]}</title></rect>"
            )
            x += width
    out.append("</svg>")
    return "".join(out)


def render_html(data: dict[str, Any], include_charts: bool = True) -> str:
    """A self-contained HTML page (inline CSS and SVG, no scripts, no network)."""
    s = data["summary"]
    failing = s["failed"] + s["error"] + s["timeout"]
    cards = [
        ("total", s["total"], ""),
        ("passed", s["passed"], "good"),
        ("failed", s["failed"], "bad" if s["failed"] else ""),
        ("error", s["error"], "bad" if s["error"] else ""),
        ("timeout", s["timeout"], "bad" if s["timeout"] else ""),
        ("skipped", s["skipped"], ""),
        # The same counts as the table of broken and flaky tests below.
        (
            "flaky",
            data.get("flaky_count", 0),
            "flaky-count warn" if data.get("flaky_count") else "flaky-count",
        ),
        (
            "broken",
            data.get("broken_count", 0),
            "broken-count bad" if data.get("broken_count") else "broken-count",
        ),
        ("passed on retry", s["flaky"], ""),
        ("pass rate", _pct(s["pass_rate"]), "bad" if failing else "good"),
        ("duration", f"{s['duration']:.1f}s", ""),
    ]
    body = [
        # A CSS badge rather than an emoji: renders the same without colour-emoji fonts.
        f'<h1><span class="badge {"bad" if failing else "good"}">'
        f"{'FAILED' if failing else 'PASSED'}</span> "
        f"Test results: {_e(data['orchestration_id'])}</h1>",
        f'<div class="muted">Categories: {_e(", ".join(data["categories"]) or "none")} · '
        f"{_e(data['generator'])}</div>",
        '<div class="cards">'
        + "".join(
            f'<div class="card {c}"><span class="muted">{_e(k)}</span><b>{_e(v)}</b></div>'
            for k, v, c in cards
        )
        + "</div>",
    ]
    if include_charts:
        body.append(_status_bar(s))
    comparison = data.get("comparison")
    if comparison and comparison["new_failures"]:
        body.append(
            f"<h2>New failures since {_e(comparison['base'])} "
            f"({len(comparison['new_failures'])})</h2><ul>"
        )
        body.extend(f"<li><code>{_e(t)}</code></li>" for t in comparison["new_failures"][:200])
        body.append("</ul>")
    if data["failure_groups"]:
        body.append(f'<h2 id="failures">Failures by category ({failing})</h2>')
        for g in data["failure_groups"]:
            body.append(
                f'<details open><summary><b>{_e(g["name"])}</b> <span class="tag">'
                f"{_e(g['defect_type'])}</span> · {g['count']}</summary>"
                "<table><tr><th>test</th><th>status</th><th>message</th></tr>"
            )
            for f in g["failures"]:
                trace = (
                    f"<details><summary>trace</summary><pre>{_e(f['trace'])}</pre></details>"
                    if f["trace"]
                    else ""
                )
                body.append(
                    f"<tr><td><code>{_e(f['test_id'])}</code></td><td>{_e(f['status'])}</td>"
                    f"<td><pre>{_e(f['message'])}</pre>{trace}</td></tr>"
                )
            body.append("</table>")
            if g["omitted"]:
                body.append(f'<p class="muted">…and {g["omitted"]} more in this category.</p>')
            body.append("</details>")
    if data["flaky"]:
        body.append(
            '<h2 id="flaky">Broken and flaky tests</h2><table><tr><th>test</th><th>verdict</th>'
            '<th class="num">score</th><th>why</th><th>evidence (runs)</th></tr>'
        )
        for v in data["flaky"]:
            body.append(
                f'<tr class="{_e(v["verdict"])}"><td><code>{_e(v["test_id"])}</code></td><td>'
                f"{_e(v['verdict'])}</td>"
                f'<td class="num">{v["score"]:.2f}</td><td>{_e("; ".join(v["reasons"]))}</td>'
                f"<td>{_e(', '.join(v['evidence'][:10]))}</td></tr>"
            )
        body.append("</table>")
    trends = data.get("trends")
    if include_charts and trends is not None:
        points = trends["points"]
        labels = [p["day"] for p in points]
        body.append(
            f'<h2 id="trends">Trends over {trends["days"]} days</h2><p>{_e(trends["direction"])}: '
            f"{_e(trends['explanation'])}</p>"
        )
        rates = [None if p["pass_rate"] is None else p["pass_rate"] * 100 for p in points]
        outages = [i for i, p in enumerate(points) if p.get("outage")]
        body.append(
            _line_chart(
                "Pass rate per day",
                labels,
                [("pass rate", "#1a7f37", rates)],
                "%",
                100.0,
                marks=outages,
            )
        )
        if outages:
            body.append(
                '<p class="muted">Shaded: outage days (most tests failed): '
                + _e(", ".join(labels[i] for i in outages))
                + "</p>"
            )
        body.append("<br>")
        body.append(
            _line_chart(
                "Duration per day (seconds)",
                labels,
                [
                    ("p50", "#0969da", [p["duration_p50"] for p in points]),
                    ("p95", "#bc4c00", [p["duration_p95"] for p in points]),
                ],
                "s",
            )
        )
    if data["slowest"]:
        body.append(
            '<h2 id="slowest">Slowest tests</h2><table><tr><th>test</th><th class="num">'
            "duration</th></tr>"
        )
        for t in data["slowest"]:
            flag = ""
            if t.get("regressed"):
                flag = f' <span class="tag regressed">regressed (was {t["previous"]:.3f}s)</span>'
            body.append(
                f'<tr class="{"regressed" if t.get("regressed") else ""}"><td><code>'
                f'{_e(t["test_id"])}</code>{flag}</td><td class="num">'
                f"{t['duration']:.3f}s</td></tr>"
            )
        body.append("</table>")
    if data.get("suites") is not None:
        body.append(_render_suites(data["suites"]))
    if data.get("tests") is not None:
        body.append(_render_tests(data["tests"]))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src '
        f"'unsafe-inline'; img-src data:; script-src '{_SCRIPT_HASH}'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Test results {_e(data['orchestration_id'])}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main><script>{_SCRIPT}</script></body></html>\n"
    )


#: Filters the per-test views by name and status; allowed by the CSP through its hash only.
_SCRIPT = (
    "(function(){var n=document.getElementById('filter-name'),"
    "s=document.getElementById('filter-status');if(!n||!s)return;"
    "function f(){var q=n.value.toLowerCase(),st=s.value;"
    "document.querySelectorAll('.test').forEach(function(e){"
    "var ok=(!q||e.dataset.name.toLowerCase().indexOf(q)>=0)&&(!st||e.dataset.status===st);"
    "e.style.display=ok?'':'none';});}"
    "n.addEventListener('input',f);s.addEventListener('change',f);})();"
)
_SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()

_STATUS_CLASS = {"passed": "good", "failed": "bad", "error": "bad", "timeout": "bad"}


def _render_suites(root: dict[str, Any]) -> str:
    def node(item: dict[str, Any], depth: int) -> str:
        counts = (
            f'<span class="muted">{item["passed"]} passed · {item["failing"]} failing · '
            f"{item['other']} other</span>"
        )
        children = sorted(item["children"].values(), key=lambda c: c["name"])
        inner = "".join(node(c, depth + 1) for c in children)
        opened = " open" if item["failing"] or depth < 1 else ""
        return (
            f'<details class="suite"{opened}><summary><b>{_e(item["name"])}</b> {counts}'
            f'</summary><div class="indent">{inner}</div></details>'
        )

    tops = sorted(root["children"].values(), key=lambda c: c["name"])
    return (
        '<h2 id="suites-title">Suites</h2><div id="suites">'
        + "".join(node(c, 0) for c in tops)
        + "</div>"
    )


def _render_tests(tests: dict[str, Any]) -> str:
    statuses = sorted({t["status"] for t in tests["shown"]})
    options = "".join(f'<option value="{_e(st)}">{_e(st)}</option>' for st in statuses)
    out = [
        '<h2 id="tests-title">Tests</h2><section id="tests"><div class="filters">'
        '<input id="filter-name" type="search" placeholder="filter by name" '
        'aria-label="filter by name"> <select id="filter-status" aria-label="filter by status">'
        f'<option value="">all statuses</option>{options}</select></div>'
    ]
    for t in tests["shown"]:
        rows = "".join(
            f'<tr class="run"><td>{_e(h["run"])}</td><td><span class="tag '
            f'{_STATUS_CLASS.get(h["status"], "")}">{_e(h["status"])}</span></td></tr>'
            for h in t["history"]
        )
        message = f"<pre>{_e(t['message'])}</pre>" if t["message"] else ""
        out.append(
            f'<details class="test" data-status="{_e(t["status"])}" data-name="'
            f'{_e(t["test_id"])}"><summary><span class="tag {_STATUS_CLASS.get(t["status"], "")}">'
            f"{_e(t['status'])}</span> <code>{_e(t['test_id'])}</code></summary>"
            f'<p class="muted">suite {_e(t["suite"])} · {t["duration"]:.3f}s · attempt '
            f"{t['attempts']}</p>{message}"
            f'<table class="history"><tr><th>run (newest first)</th><th>outcome</th></tr>'
            f"{rows}</table></details>"
        )
    if tests["omitted"]:
        out.append(f'<p class="muted">…and {tests["omitted"]} more tests (passing last).</p>')
    out.append("</section>")
    return "".join(out)
