"""What a person sees of ``labhooks scan``: tables under a real pseudo-terminal, the HTML
page parsed and opened in a real headless Chromium, and the figures scan shares with
check-large and clean-large."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from helpers import MiB, Repo, in_terminal, labhooks

from labhooks.fit import ELLIPSIS
from labhooks.sizes import format_size

LONG_DIR = "data/experiments/2024-spring/run-with-a-rather-long-name/checkpoints"
TOP_PATH = f"{LONG_DIR}/weights.bin"


def commit_on(repo: Repo, message: str, date: str, author: str = "Lab Tester <tester@lab.invalid>") -> str:
    repo.git("add", "-A")
    repo.git("commit", "-q", "--allow-empty", "-m", message, "--author", author,
             env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    return repo.rev("HEAD")


@pytest.fixture
def lab(repo: Repo) -> Repo:
    """Three months of a lab's history: a big checkpoint under a long path (kept), a dump
    added and deleted again, a blob under two paths, many small files in folders."""
    repo.write("README.md", "# lab\n")
    for i in range(30):
        repo.write(f"src/pkg{i % 3}/mod{i}.py", f"value = {i}\n" * (i + 1))
    repo.big(TOP_PATH, 3 * MiB, seed=1)
    commit_on(repo, "first import of the training code and weights", "2024-01-15T10:00:00+00:00")
    repo.big("data/raw/dump.csv", 2 * MiB, seed=2)
    repo.big("data/raw/extra.csv", 512 * 1024, seed=3)
    commit_on(repo, "add the raw dump", "2024-01-20T10:00:00+00:00", "Other Person <other@lab.invalid>")
    (repo.path / "data/raw/dump.csv").unlink()
    repo.write("src/pkg0/mod0.py", "value = 'changed'\n")
    commit_on(repo, "drop the dump", "2024-03-02T10:00:00+00:00")
    repo.write("backup/weights-copy.bin", (repo.path / TOP_PATH).read_bytes())
    repo.big("data/raw/extra.csv", 700 * 1024, seed=4)
    commit_on(repo, "back up the weights and redo the extra table", "2024-03-09T10:00:00+00:00")
    return repo


def scan_json(repo: Repo, *args: str) -> tuple[list[dict], dict]:
    proc = labhooks("scan", "--format", "json", *args, cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    return records[:-1], records[-1]


# -- tables under a pseudo-terminal ------------------------------------------------------


def _cells(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(line.rstrip())


@pytest.mark.parametrize("columns", [60, 80, 120])
@pytest.mark.parametrize("colour", ["rich", "plain"])
def test_blob_table_fits_the_terminal(lab, columns, colour):
    env = {"NO_COLOR": "" if colour == "rich" else "1"}
    out = in_terminal(lab, columns, "scan", "--no-progress", env=env)
    lines = out.splitlines()
    assert lines, out
    assert all(_cells(line) <= columns for line in lines), "\n".join(x for x in lines if _cells(x) > columns)
    records, _ = scan_json(lab)
    top = records[0]
    assert top["paths"][0] == TOP_PATH
    row = next(line for line in lines if line.lstrip().startswith("1 "))
    assert format_size(top["size"]) in row
    assert "weights.bin" in row and "+1 more" in row  # the file name survives, the copy is counted
    if TOP_PATH not in row:  # shortened in the middle: its start and its end, an ellipsis between
        head, _, tail = row[:row.index("  +1 more")].rsplit("  ", 1)[-1].partition(ELLIPSIS)
        assert head and tail and TOP_PATH.startswith(head) and TOP_PATH.endswith(tail), row
    if columns < 120:
        assert "not shown at this width:" in out
    assert "blobs: " in out  # the summary, wrapped to fit too


def test_a_real_terminal_size_is_used_without_columns(lab):
    out = in_terminal(lab, 70, "scan", "--no-progress", env={"COLUMNS": "", "NO_COLOR": "1"})
    assert max(map(_cells, out.splitlines())) <= 70


@pytest.mark.parametrize("by", ["path", "dir", "author"])
def test_group_tables_fit_the_terminal(lab, by):
    out = in_terminal(lab, 60, "scan", "--no-progress", "--by", by, env={"NO_COLOR": ""})
    assert all(_cells(line) <= 60 for line in out.splitlines()), out
    groups, _ = scan_json(lab, "--by", by)
    assert format_size(groups[0]["bytes"]) in out


def test_wide_shows_every_value_in_full(lab):
    records, _ = scan_json(lab)
    out = in_terminal(lab, 60, "scan", "--no-progress", "--wide", env={"NO_COLOR": "1"})
    assert records[0]["oid"] in out and records[0]["commit"]["oid"] in out
    assert ", ".join(records[0]["paths"]) in out
    assert "not shown at this width" not in out


# -- the HTML page -------------------------------------------------------------------------


class Page(HTMLParser):
    """Every element with its attributes, and the text of table rows."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def having(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def html_page(repo: Repo, tmp_path, *args: str) -> tuple[str, Page]:
    target = tmp_path / "report.html"
    proc = labhooks("scan", "--format", "html", "-o", str(target), *args, cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    text = target.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    return text, page


def test_html_treemap_holds_the_json_figures(lab, tmp_path):
    _, page = html_page(lab, tmp_path)
    groups, summary = scan_json(lab, "--by", "path", "--top", "0")
    by_path = {g["key"]: g for g in groups}
    tiles = page.having("g", **{"class": "tile"})
    assert sum(int(t["data-bytes"]) for t in tiles) == summary["blob_bytes"]
    assert sum(int(t["data-head-bytes"]) for t in tiles) == sum(g["head_bytes"] for g in groups)
    assert sum(int(t["data-files"]) for t in tiles) == len([g for g in groups if g["bytes"]])
    kinds = {t["data-kind"] for t in tiles}
    assert {"file", "others"} <= kinds  # the many small files are added up, not drawn one each
    for tile in tiles:
        if tile["data-kind"] == "file":
            group = by_path[tile["data-path"]]
            assert (int(tile["data-bytes"]), int(tile["data-head-bytes"])) == (group["bytes"], group["head_bytes"])
        else:
            prefix = tile["data-path"] + "/" if tile["data-path"] else ""
            under = [g for g in groups if g["key"].startswith(prefix)]
            assert int(tile["data-bytes"]) <= sum(g["bytes"] for g in under)
    top = next(t for t in tiles if t["data-path"] == TOP_PATH)
    assert int(top["data-head-bytes"]) == int(top["data-bytes"]) == 3 * MiB  # still at HEAD
    dump = next(t for t in tiles if t["data-path"] == "data/raw/dump.csv")
    assert int(dump["data-head-bytes"]) == 0  # history only
    svg = page.having("svg", id="treemap")[0]
    assert int(svg["data-bytes"]) == summary["blob_bytes"]


def test_html_growth_and_tables_hold_the_json_figures(lab, tmp_path):
    _, page = html_page(lab, tmp_path)
    blobs, summary = scan_json(lab, "--top", "0")
    per_month: dict[str, int] = {}
    per_commit: dict[str, int] = {}
    month_of: dict[str, str] = {}
    for blob in blobs:
        commit, month = blob["commit"]["oid"], blob["commit"]["date"][:7]
        per_month[month] = per_month.get(month, 0) + blob["size"]
        per_commit[commit] = per_commit.get(commit, 0) + blob["size"]
        month_of[commit] = month
    periods = page.having("g", **{"class": "period"})
    assert [p["data-period"] for p in periods] == ["2024-01", "2024-02", "2024-03"]  # the empty month too
    assert {p["data-period"]: int(p["data-bytes"]) for p in periods} == {"2024-02": 0, **per_month}
    assert int(periods[-1]["data-cumulative"]) == summary["blob_bytes"]
    for period in periods:
        if period["data-top-commits"]:
            first = period["data-top-commits"].split()[0]
            in_month = [b for c, b in per_commit.items() if month_of[c] == period["data-period"]]
            assert per_commit[first] == max(in_month)
    commit_rows = [a for t, a in page.elements if t == "tr" and "data-commit" in a and "data-blobs" in a]
    assert [int(r["data-bytes"]) for r in commit_rows] == sorted(per_commit.values(), reverse=True)
    for row in commit_rows:
        assert int(row["data-bytes"]) == per_commit[row["data-commit"]]

    top, _ = scan_json(lab)  # the default --top, as the page shows it
    rows = [a for t, a in page.elements if t == "tr" and "data-oid" in a]
    assert [(r["data-oid"], int(r["data-size"]), r["data-commit"], r["data-at-head"]) for r in rows] == [
        (b["oid"], b["size"], b["commit"]["oid"], str(b["at_head"]).lower()) for b in top]

    forge = {g["data-figure"]: g for g in page.having("g") if "data-figure" in g}
    assert int(forge["file"]["data-value"]) == top[0]["size"]
    assert int(forge["file"]["data-limit"]) == 100 * MiB
    assert int(forge["push"]["data-value"]) == summary["pack_bytes"] + summary["loose_bytes"]


def test_html_is_self_contained(lab, tmp_path):
    text, page = html_page(lab, tmp_path)
    assert not re.search(r"https?://", text)
    for _, attrs in page.elements:
        assert not ({"src", "href", "xlink:href"} & set(attrs)), attrs
    assert "@import" not in text and "url(" not in text
    assert page.having("script") and page.having("style")


def test_html_with_max_and_to_stdout(lab, tmp_path):
    proc = labhooks("scan", "--format", "html", "--max", "1M", cwd=lab.path)
    assert proc.returncode == 0, proc.stderr
    page = Page()
    page.feed(proc.stdout)
    blobs, summary = scan_json(lab, "--max", "1M")
    rows = [a["data-oid"] for t, a in page.elements if t == "tr" and "data-oid" in a]
    assert rows == [b["oid"] for b in blobs]
    # the treemap still draws the whole history's weight
    assert int(page.having("svg", id="treemap")[0]["data-bytes"]) == summary["blob_bytes"]


def test_output_file_is_kept_unless_forced(lab, tmp_path):
    target = tmp_path / "report.html"
    target.write_text("keep me")
    proc = labhooks("scan", "--format", "html", "-o", str(target), cwd=lab.path)
    assert proc.returncode == 2 and "exists" in proc.stderr and "Traceback" not in proc.stderr
    assert target.read_text() == "keep me"
    proc = labhooks("scan", "--format", "html", "-o", str(target), "--force", cwd=lab.path)
    assert proc.returncode == 0 and target.read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "work"]  # no scratch file left
    bad = labhooks("scan", "--format", "html", "--by", "ext", cwd=lab.path)
    assert bad.returncode == 2 and "--by" in bad.stderr
    missing = labhooks("scan", "-o", str(tmp_path / "no-such-folder" / "r.json"), "--format", "json", cwd=lab.path)
    assert missing.returncode == 2 and "no folder" in missing.stderr


def _chromium(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
    return subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                           "--v=0", "--no-first-run", *args], capture_output=True, text=True, timeout=timeout)


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                    reason="needs the chromium browser binary (Debian package chromium, installed by .ci/install)")
def test_html_renders_in_headless_chromium(lab, tmp_path):
    html_page(lab, tmp_path)
    url = (tmp_path / "report.html").as_uri()
    shot = tmp_path / "report.png"
    proc = _chromium(f"--screenshot={shot}", "--window-size=1100,2400", url)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", proc.stderr
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
    assert _console(proc.stderr) == []
    dom = _chromium("--dump-dom", url)
    assert _console(dom.stderr) == []
    assert 'data-ready="1"' in dom.stdout and "data-errors" not in dom.stdout
    assert dom.stdout.count('class="tile"') >= 3
    # The same checks see a page whose script fails.
    broken = tmp_path / "broken.html"
    broken.write_text((tmp_path / "report.html").read_text().replace("document.body.dataset.ready='1'",
                                                                       "noSuchFunction()"))
    failed = _chromium("--dump-dom", broken.as_uri())
    assert 'data-ready="1"' not in failed.stdout and _console(failed.stderr)


# -- one truth with the guard and clean-large ------------------------------------------------


def _clean_plan(repo: Repo, limit: str) -> tuple[str, list[str]]:
    plan = labhooks("clean-large", "--max", limit, "--dry-run", "--backend", "filter-repo", cwd=repo.path)
    assert plan.returncode == 0, plan.stderr
    return plan.stdout, [line for line in plan.stdout.splitlines() if " added in " in line]


def test_scan_check_large_and_clean_large_agree(lab):
    lab.big("just-over.bin", 1 * MiB + 1, seed=7)
    lab.big("just-under.bin", 1 * MiB - 1, seed=8)
    commit_on(lab, "edge cases", "2024-04-01T10:00:00+00:00")
    blobs, summary = scan_json(lab, "--max", "1M")
    assert {b["paths"][0] for b in blobs} == {"just-over.bin", TOP_PATH, "data/raw/dump.csv"}

    guard = labhooks("check-large", "--all", "--max", "1M", "--warn", "0", cwd=lab.path)
    assert guard.returncode == 1, guard.stderr
    findings = [line for line in guard.stdout.splitlines() if " (introduced in " in line]
    assert len(findings) == len(blobs) == summary["over_max"]["blobs"]

    text, planned = _clean_plan(lab, "1M")
    assert len(planned) == len(blobs)
    assert f"{len(blobs)} blob(s) over {format_size(MiB)}" in text
    for blob in blobs:
        size, commit = format_size(blob["size"]), blob["commit"]["oid"][:10]
        paths = ", ".join(blob["paths"])
        # the same size, the same paths (first one first) and the same introducing commit
        mine = [line for line in findings if f"{paths}  {size}  (introduced in {commit} " in line]
        assert len(mine) == 1, (blob, findings)
        theirs = [line for line in planned if line.split()[2] == blob["oid"][:10]]
        assert len(theirs) == 1, (blob, planned)
        assert f"{size}  {blob['oid'][:10]}  {paths}  added in {commit} " in theirs[0]


def test_a_blob_of_exactly_size_is_over_size_for_all_three(lab):
    lab.big("exact.bin", 1 * MiB, seed=7)
    commit_on(lab, "exactly one MiB", "2024-04-01T10:00:00+00:00")
    blobs, summary = scan_json(lab, "--max", "1M")
    assert "exact.bin" in {b["paths"][0] for b in blobs}
    guard = labhooks("check-large", "--all", "--max", "1M", "--warn", "0", cwd=lab.path)
    assert len([line for line in guard.stdout.splitlines() if line.startswith("  exact.bin  ")]) == 1
    _, planned = _clean_plan(lab, "1M")
    assert len([line for line in planned if "  exact.bin  added in " in line]) == 1
    assert len(planned) == len(blobs) == summary["over_max"]["blobs"]


# -- the repository's size against its forge ---------------------------------------------

FORGE_REMOTES = [
    pytest.param({}, "github", "no remote on a forge labhooks knows", id="no-remote"),
    pytest.param({"remote.origin.url": "git@github.com:lab/project.git"}, "github", "remote origin is github.com",
                 id="github"),
    pytest.param({"remote.origin.url": "https://gitlab.com/lab/project.git"}, "gitlab",
                 "remote origin is gitlab.com", id="gitlab"),
    pytest.param({"remote.hub.url": "https://huggingface.co/lab/model"}, "huggingface", "remote hub is huggingface.co",
                 id="huggingface"),
    pytest.param({"remote.origin.url": "https://user@bitbucket.org/lab/project.git"}, "bitbucket",
                 "remote origin is bitbucket.org", id="bitbucket"),
    pytest.param({"remote.origin.url": "https://git.lab.example.org/project.git"}, "github",
                 "no remote on a forge labhooks knows", id="unknown-host"),
    pytest.param({"remote.origin.url": "git@github.com:lab/project.git", "labhooks.forge": "gitlab"}, "gitlab",
                 "git config labhooks.forge", id="configured"),
]


@pytest.mark.parametrize("config,key,why", FORGE_REMOTES)
def test_scan_reports_the_repository_against_its_forge(lab, tmp_path, config, key, why):
    from labhooks.forges import FORGES

    for name, value in config.items():
        lab.git("config", name, value)  # never contacted: the scan only reads the URL
    forge = FORGES[key]
    _, summary = scan_json(lab)
    packed = summary["pack_bytes"] + summary["loose_bytes"]
    assert summary["forge"] == {"key": key, "name": forge.name, "why": why, "repo_bytes": packed,
                                "recommended": forge.repo_recommended, "limit": forge.repo_limit,
                                "verdict": "under"}
    text = labhooks("scan", "--no-progress", cwd=lab.path).stdout
    line = next(x for x in text.splitlines() if x.startswith("repository: "))
    assert f"repository: {format_size(packed)} packed" in line and forge.name in line and why in line
    for figure in (forge.repo_recommended, forge.repo_limit):
        if figure:
            assert format_size(figure) in line
    if not (forge.repo_recommended or forge.repo_limit):
        assert "gives no figure" in line
    _, page = html_page(lab, tmp_path)
    drawn = {g["data-figure"]: int(g["data-limit"]) for g in page.having("g") if "data-figure" in g}
    assert drawn["file"] == forge.file_limit
    assert drawn.get("repository") == forge.repo_recommended
    assert drawn.get("repository-limit") == forge.repo_limit
    assert drawn.get("push") == forge.push_limit


def test_forge_verdicts_follow_the_size_rule():
    from labhooks.scan.records import ForgeSize

    def verdict(size: int) -> str:
        return ForgeSize("github", "GitHub", "", size, 1024, 5 * 1024).verdict

    assert [verdict(n) for n in (1023, 1024, 5 * 1024 - 1, 5 * 1024)] == [
        "under", "over recommended", "over recommended", "over limit"]
