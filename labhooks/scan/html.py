"""``scan --format html``: one self-contained page to look at instead of read.

Hand-written SVG, not a plotting library: the four figures are rectangles, a polyline
and a table, which take a few kilobytes of markup, while a library that writes
standalone HTML inlines its whole runtime (plotly: over 3 MB of JavaScript per page)
and adds a dependency to a command that otherwise needs none. The page loads nothing
from anywhere (no http(s) resource, no CDN), so it opens offline and can be mailed.

Large histories stay responsive because the page never draws one shape per blob: the
treemap stops at tiles too small to see and adds the rest up into one "others" tile per
folder, and growth is drawn per month (per year past 30 years). Every drawn figure
carries its exact numbers in ``data-`` attributes, which the tests compare with
``--format json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from labhooks.forges import FORGES, GITHUB, Forge
from labhooks.scan.records import BlobRecord, Figures, ScanResult
from labhooks.sizes import format_size, reaches
from labhooks.text import printable

_TREE_W, _TREE_H = 960, 540
_MIN_TILE_AREA = 24 * 24  # smaller tiles are added up into their folder's "others"
_MAX_TILES_PER_FOLDER = 60
_LABEL_H = 14  # a folder's name strip
_HEAD_COLOUR, _HISTORY_COLOUR = "#4e79a7", "#f28e2b"
_GROWTH_W, _GROWTH_H, _AXIS = 960, 300, 70
_FORGE_W = 560


def _shown(text: str) -> str:
    """Text for the page: bytes that were not UTF-8 as ``\\xNN``, control characters escaped."""
    return printable(text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))


def _attr(text: str) -> str:
    return escape(_shown(text), quote=True)


# -- treemap ----------------------------------------------------------------------------


class _Node:
    __slots__ = ("name", "path", "bytes", "head", "children")

    def __init__(self, name: str, path: str):
        self.name, self.path = name, path
        self.bytes = self.head = 0
        self.children: dict[str, _Node] = {}


def _tree(paths: list[tuple[str, int, int]]) -> _Node:
    root = _Node("", "")
    for path, size, head in paths:
        node = root
        node.bytes += size
        node.head += head
        parts = path.split("/") if path else ["(no path)"]
        for depth, part in enumerate(parts):
            node = node.children.setdefault(part, _Node(part, "/".join(parts[:depth + 1])))
            node.bytes += size
            node.head += head
    return root


def _worst(row: list[float], side: float) -> float:
    total = sum(row)
    return max(max(row) * side * side / (total * total), total * total / (side * side * min(row)))


Box = tuple[float, float, float, float]  # x, y, width, height


def squarify(values: Sequence[float], x: float, y: float, w: float, h: float) -> list[Box]:
    """Rectangles for ``values`` (biggest first, all > 0) filling the box, as square as
    the squarified treemap algorithm (Bruls, Huizing, van Wijk 2000) makes them."""
    total = sum(values)
    if w <= 0 or h <= 0 or total <= 0:
        return [(x, y, 0.0, 0.0)] * len(values)
    scaled = [v * w * h / total for v in values]
    rects, i = [], 0
    while i < len(scaled):
        side = min(w, h)
        row = [scaled[i]]
        i += 1
        while i < len(scaled) and _worst(row + [scaled[i]], side) <= _worst(row, side):
            row.append(scaled[i])
            i += 1
        area = sum(row)
        if w >= h:  # a column on the left
            width = area / h
            for a in row:
                rects.append((x, y, width, a / width))
                y += a / width
            y -= h
            x, w = x + width, w - width
        else:  # a row along the top
            height = area / w
            for a in row:
                rects.append((x, y, a / height, height))
                x += a / height
            x -= w
            y, h = y + height, h - height
    return rects


def _tile(out: list[str], kind: str, path: str, size: int, head: int, box, label: str, count: int = 1) -> None:
    x, y, w, h = box
    history = size - head
    what = {"file": "", "folder": f" (folder, {count:,} files)", "others": f" ({count:,} smaller files)"}[kind]
    title = (f"{_shown(label if kind == 'others' else path)}{what}\n{format_size(size)}: "
             f"{format_size(head)} at HEAD, {format_size(history)} in history only")
    out.append(f'<g class="tile" data-kind="{kind}" data-path="{_attr(path)}" data-bytes="{size}" '
               f'data-head-bytes="{head}" data-files="{count}"><title>{escape(title)}</title>')
    # bytes still at HEAD on the left (or top), history-only bytes after them
    share = head / size if size else 0
    if w >= h:
        parts = [(x, y, w * share, h, _HEAD_COLOUR), (x + w * share, y, w * (1 - share), h, _HISTORY_COLOUR)]
    else:
        parts = [(x, y, w, h * share, _HEAD_COLOUR), (x, y + h * share, w, h * (1 - share), _HISTORY_COLOUR)]
    for px, py, pw, ph, colour in parts:
        if pw > 0 and ph > 0:
            out.append(f'<rect x="{px:.1f}" y="{py:.1f}" width="{pw:.1f}" height="{ph:.1f}" fill="{colour}"/>')
    out.append(f'<rect class="edge" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}"/>')
    if w > 40 and h > 13:
        text = _shown(label)
        room = int((w - 6) // 6.5)
        if len(text) > room:
            text = text[: max(room - 1, 1)] + "…"
        out.append(f'<text x="{x + 3:.1f}" y="{y + 11:.1f}">{escape(text)}</text>')
    out.append("</g>")


def _files(node: _Node) -> int:
    return 1 if not node.children else sum(_files(c) for c in node.children.values())


def _lay_out(node: _Node, box, out: list[str]) -> None:
    x, y, w, h = box
    if not node.children:
        _tile(out, "file", node.path, node.bytes, node.head, box, node.name)
        return
    if w < 40 or h < 2 * _LABEL_H + 8:
        _tile(out, "folder", node.path, node.bytes, node.head, box, node.name + "/", _files(node))
        return
    if node.path:
        out.append(f'<g class="folder" data-path="{_attr(node.path)}"><title>{escape(_shown(node.path))}/ '
                   f'{format_size(node.bytes)}</title><rect class="frame" x="{x:.1f}" y="{y:.1f}" '
                   f'width="{w:.1f}" height="{h:.1f}"/><text x="{x + 3:.1f}" y="{y + 11:.1f}">'
                   f'{escape(_shown(node.name))}/</text></g>')
        x, y, w, h = x + 1, y + _LABEL_H, w - 2, h - _LABEL_H - 1
    children = sorted((c for c in node.children.values() if c.bytes > 0), key=lambda c: (-c.bytes, c.name))
    area_per_byte = w * h / node.bytes
    shown: list[_Node] = []
    for child in children:
        if len(shown) >= _MAX_TILES_PER_FOLDER or child.bytes * area_per_byte < _MIN_TILE_AREA:
            break
        shown.append(child)
    rest = children[len(shown):]
    values = [c.bytes for c in shown] + ([sum(c.bytes for c in rest)] if rest else [])
    if not values:
        return
    rects = squarify(values, x, y, w, h)
    for child, rect in zip(shown, rects):
        _lay_out(child, rect, out)
    if rest:
        _tile(out, "others", node.path, values[-1], sum(c.head for c in rest), rects[-1],
              f"{len(rest):,} more in {node.path or 'the top folder'}", sum(_files(c) for c in rest))


def treemap_svg(figures: Figures) -> str:
    root = _tree(figures.paths)
    out = [f'<svg id="treemap" viewBox="0 0 {_TREE_W} {_TREE_H}" width="{_TREE_W}" height="{_TREE_H}" '
           f'data-bytes="{root.bytes}" data-head-bytes="{root.head}" role="img">']
    if root.bytes:
        _lay_out(root, (0, 0, _TREE_W, _TREE_H), out)
    else:
        out.append('<text x="10" y="20">no blob bytes to draw</text>')
    out.append("</svg>")
    return "".join(out)


# -- growth -----------------------------------------------------------------------------


def growth_svg(figures: Figures) -> str:
    periods = figures.periods
    out = [f'<svg id="growth" viewBox="0 0 {_GROWTH_W} {_GROWTH_H}" width="{_GROWTH_W}" '
           f'height="{_GROWTH_H}" role="img">']
    if not periods:
        out.append('<text x="10" y="20">no dated commits add blobs</text></svg>')
        return "".join(out)
    left, top, bottom = _AXIS, 10, _GROWTH_H - 30
    plot_w, plot_h = _GROWTH_W - 2 * _AXIS, bottom - top
    step = plot_w / len(periods)
    most = max(p.bytes for p in periods) or 1
    final = periods[-1].cumulative or 1
    out.append(f'<line class="axis" x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}"/>')
    out.append(f'<text class="axis-label" x="{left - 4}" y="{top + 10}" text-anchor="end">{format_size(most)}</text>')
    out.append(f'<text class="axis-label cumulative" x="{left + plot_w + 4}" y="{top + 10}">'
               f'{format_size(final)}</text>')
    points = []
    for i, period in enumerate(periods):
        bar = period.bytes / most * plot_h
        x = left + i * step
        tops = "; ".join(f"{w.commit.oid[:7]} {_shown(w.commit.subject)} ({format_size(w.bytes)})" for w in period.top)
        title = f"{period.key}: +{format_size(period.bytes)}, {format_size(period.cumulative)} in all"
        if tops:
            title += f"\nadded most: {tops}"
        commits = " ".join(w.commit.oid for w in period.top)
        out.append(f'<g class="period" data-period="{period.key}" data-bytes="{period.bytes}" '
                   f'data-cumulative="{period.cumulative}" data-top-commits="{commits}"><title>{escape(title)}</title>'
                   f'<rect x="{x:.2f}" y="{bottom - bar:.2f}" width="{max(step - 1, 0.5):.2f}" '
                   f'height="{bar:.2f}"/></g>')
        points.append(f"{x + step / 2:.2f},{bottom - period.cumulative / final * plot_h:.2f}")
    out.append(f'<polyline class="cumulative" points="{" ".join(points)}"/>')
    for i in sorted({0, len(periods) // 2, len(periods) - 1}):
        out.append(f'<text class="axis-label" x="{left + i * step + step / 2:.1f}" y="{bottom + 16}" '
                   f'text-anchor="middle">{periods[i].key}</text>')
    out.append("</svg>")
    return "".join(out)


def commits_table(figures: Figures) -> str:
    rows = []
    for rank, weight in enumerate(figures.top_commits, 1):
        c = weight.commit
        rows.append(f'<tr data-commit="{c.oid}" data-bytes="{weight.bytes}" data-blobs="{weight.blobs}">'
                    f'<td class="num">{rank}</td><td class="num">{format_size(weight.bytes)}</td>'
                    f'<td class="num">{weight.blobs:,}</td><td><code title="{c.oid}">{c.oid[:10]}</code></td>'
                    f'<td>{escape(c.date[:10])}</td><td>{escape(_shown(c.author))}</td>'
                    f'<td>{escape(_shown(c.subject))}</td></tr>')
    return ('<table id="top-commits"><thead><tr><th>#</th><th>added</th><th>blobs</th><th>commit</th>'
            f'<th>date</th><th>author</th><th>subject</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


# -- top blobs and forge figures ------------------------------------------------------------


def blobs_table(records: list[BlobRecord]) -> str:
    rows = []
    for rank, r in enumerate(records, 1):
        c = r.commit
        paths = "<br>".join(escape(_shown(p)) for p in r.paths)
        commit = '<td colspan="4">(no commit)</td>'
        if c:
            commit = (f'<td><code title="{c.oid}">{c.oid[:10]}</code></td><td>{escape(c.date[:10])}</td>'
                      f'<td>{escape(_shown(c.author))}</td><td>{escape(_shown(c.subject))}</td>')
        size = "" if r.size is None else str(r.size)
        rows.append(f'<tr data-oid="{r.oid}" data-size="{size}" data-commit="{c.oid if c else ""}" '
                    f'data-at-head="{str(r.at_head).lower()}"><td class="num">{rank}</td>'
                    f'<td class="num" data-sort="{size or -1}">{format_size(r.size)}</td><td>{paths}</td>'
                    f'<td>{"yes" if r.at_head else "no"}</td><td><code title="{r.oid}">{r.oid[:10]}</code></td>'
                    f'{commit}</tr>')
    return ('<table id="top-blobs" class="sortable"><thead><tr><th>#</th><th>size</th><th>paths</th>'
            '<th>at HEAD</th><th>blob</th><th>introduced by</th><th>date</th><th>author</th><th>subject</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def forge_of(result: ScanResult) -> Forge:
    """The forge the scan judged the repository by (chosen as the guard chooses it)."""
    chosen = result.summary.forge
    return FORGES[chosen.key] if chosen else GITHUB


def forge_figures(result: ScanResult) -> list[tuple[str, str, int, int, int | None, str]]:
    """(id, what, this repository's figure, the forge's limit, its warning, why it matters)."""
    summary = result.summary
    largest = max((r.size for r in result.records if isinstance(r, BlobRecord) and r.size is not None), default=0)
    on_disk = summary.pack_bytes + summary.loose_bytes
    forge = forge_of(result)
    rows = [("file", "largest blob", largest, forge.file_limit, forge.file_warning,
             f"{forge.name} refuses a push holding a file this big or bigger, even one deleted later")]
    if forge.push_limit:
        rows.append(("push", "packed repository (a first push sends about this)", on_disk, forge.push_limit, None,
                     f"{forge.name} refuses a single push bigger than this"))
    if forge.repo_recommended:
        rows.append(("repository", "packed repository", on_disk, forge.repo_recommended, None,
                     f"{forge.name} asks repositories to stay under this"))
    if forge.repo_limit:
        rows.append(("repository-limit", "packed repository", on_disk, forge.repo_limit, None,
                     f"{forge.name} strongly recommends, or enforces, staying under this"))
    return rows


def forge_svg(result: ScanResult) -> str:
    rows = forge_figures(result)
    row_h = 46
    out = [f'<svg id="forge" viewBox="0 0 {_FORGE_W + 260} {row_h * len(rows) + 10}" '
           f'width="{_FORGE_W + 260}" height="{row_h * len(rows) + 10}" role="img">']
    for i, (key, what, value, limit, warning, why) in enumerate(rows):
        y = 8 + i * row_h
        scale = _FORGE_W / (max(value, limit) * 1.1 or 1)
        state = "over" if reaches(value, limit) else ("warn" if warning and reaches(value, warning) else "ok")
        out.append(f'<g class="forge {state}" data-figure="{key}" data-value="{value}" data-limit="{limit}">'
                   f'<title>{escape(why)}</title>'
                   f'<text x="0" y="{y + 10}">{escape(what)}: {format_size(value)} of {format_size(limit)}</text>'
                   f'<rect class="bar" x="0" y="{y + 16}" width="{max(value * scale, 1):.1f}" height="14"/>'
                   f'<line class="limit" x1="{limit * scale:.1f}" y1="{y + 12}" x2="{limit * scale:.1f}" '
                   f'y2="{y + 34}"/>'
                   f'<text class="axis-label" x="{limit * scale + 4:.1f}" y="{y + 42}">{escape(forge_of(result).name)} '
                   f'{format_size(limit)}</text>')
        if warning:
            out.append(f'<line class="warning" x1="{warning * scale:.1f}" y1="{y + 12}" '
                       f'x2="{warning * scale:.1f}" y2="{y + 34}"/>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1000px;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
svg text{font:11px system-ui,sans-serif;fill:#111;pointer-events:none}
.tile rect.edge,.folder rect.frame{fill:none;stroke:#fff;stroke-width:1}
.folder rect.frame{fill:#eee;stroke:#999}
.tile:hover rect.edge{stroke:#000;stroke-width:2}
.period rect{fill:#f28e2b}.period:hover rect{fill:#c0392b}
polyline.cumulative{fill:none;stroke:#4e79a7;stroke-width:2}
.axis{stroke:#888}.axis-label{fill:#555}.axis-label.cumulative{fill:#4e79a7}
.forge .bar{fill:#59a14f}.forge.warn .bar{fill:#edc948}.forge.over .bar{fill:#e15759}
.forge line.limit{stroke:#000;stroke-width:2}.forge line.warning{stroke:#999;stroke-dasharray:3 2}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
td.num{text-align:right;white-space:nowrap}th{background:#f4f4f4;cursor:pointer}
.key span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
.note{color:#555}
"""

# Sorting the blobs table is the page's only script; it also marks the page ready, so a
# test (or a person) can tell that it ran to the end without an error.
_SCRIPT = """
(function(){
  var errors=0;window.addEventListener('error',function(){errors++;document.body.dataset.errors=errors;});
  document.querySelectorAll('table.sortable').forEach(function(table){
    table.querySelectorAll('th').forEach(function(th,col){
      th.addEventListener('click',function(){
        var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
        var up=th.dataset.dir!=='up';th.dataset.dir=up?'up':'down';
        rows.sort(function(a,b){
          var x=a.cells[col],y=b.cells[col];
          var p=x&&x.dataset.sort!==undefined?+x.dataset.sort:(x?x.textContent:'');
          var q=y&&y.dataset.sort!==undefined?+y.dataset.sort:(y?y.textContent:'');
          return (p<q?-1:p>q?1:0)*(up?1:-1);});
        rows.forEach(function(r){body.appendChild(r);});});});});
  document.body.dataset.ready='1';
})();
"""


def render_html(result: ScanResult) -> str:
    from labhooks.scan.render import summary_line

    figures = result.figures
    if figures is None:
        raise ValueError("render_html needs a scan made with figures=True")
    summary = result.summary
    revs = " ".join(summary.revs)
    undated = ""
    if figures.undated_bytes:
        undated = (f'<p class="note">{format_size(figures.undated_bytes)} of blobs have no dated commit '
                   "(reached only through a tag of a tree or blob) and are not in this chart.</p>")
    limit = f", blobs of at least {format_size(summary.max)}" if summary.max is not None else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>labhooks scan</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>
<body>
<h1>Where the weight in this history is</h1>
<p id="summary">{escape(summary_line(summary)).replace(chr(10), "<br>")}</p>
<p class="note">Walked: {escape(_shown(revs))}. Sizes are git's object sizes (uncompressed);
the pack on disk is smaller.</p>
<h2>Blob bytes by folder and file</h2>
<p class="key">Each tile is a path's blobs, every version the history holds.
<span style="background:{_HEAD_COLOUR}"></span>still at HEAD
<span style="background:{_HISTORY_COLOUR}"></span>in history only (what a rewrite could remove)</p>
{treemap_svg(figures)}
<h2>Growth: blob bytes added per {"year" if figures.periods and len(figures.periods[0].key) == 4 else "month"}</h2>
<p class="note">Bars: bytes the month's commits introduced (author dates); line: all bytes added so far.
Hover a bar for the commits that added the most.</p>
{growth_svg(figures)}
{undated}
<h3>Commits that added the most</h3>
{commits_table(figures)}
<h2>Biggest blobs{escape(limit)}</h2>
{blobs_table([r for r in result.records if isinstance(r, BlobRecord)])}
<h2>Against {escape(forge_of(result).name)}'s limits</h2>
<p id="forge-why">{escape(result.summary.forge.why if result.summary.forge else "")}</p>
<p class="note">From {escape(forge_of(result).source)}.</p>
{forge_svg(result)}
<script>{_SCRIPT}</script>
</body></html>
"""
