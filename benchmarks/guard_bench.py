#!/usr/bin/env python3
"""Benchmarks for the large-file guard (not a test: prints figures, asserts nothing).

    python benchmarks/guard_bench.py [--runs 9] [--workdir DIR] [--skip-history] [--skip-push]
                                     [--env-runs 5] [--skip-env]

1. commit mode, 10,000 staged small files: labhooks-check-large vs pre-commit-hooks'
   check-added-large-files, both given every name, as pre-commit would call them (target <= 0.8).
2. push mode, a 500-commit range: labhooks-check-large --push fed a pre-push line vs the raw
   ``git rev-list --objects RANGE | git cat-file --batch-check`` pipeline (target <= 1.3).
3. start-up, nothing to check: ``labhooks check-large``, ``labhooks-check-large`` and the
   launcher the hooks run (hooks/labhooks-check-large) in a clean repository (target <= 150
   ms median), with peak RSS, beside a bare ``python -c pass``.
4. (issue 3) ``check-large --all --max 100M`` on a big synthetic history, with no blob that
   big (target <= 0.25x the raw --all pipeline) and with one (target <= 1.2x).

5. (issue 14) building the hook environment: ``pre-commit install-hooks`` and ``prek
   install-hooks`` with a fresh cache each run, for a config with labhooks' check-large +
   check-large-push against one with pre-commit-hooks' check-added-large-files, both from
   local git repositories (labhooks: a snapshot of this checkout; pre-commit-hooks: its
   sdist from PyPI, committed and tagged), and the cache's size on disk (target: time <=
   1.5x, size <= 60 MB).

Each figure is the median of --runs runs; the runs of two commands being compared are
interleaved in the same process so both see the same machine state.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchutil import compile_labhooks  # noqa: E402
MAKE_HISTORY = HERE.parent.parent / "shared" / "tools" / "make_history.py"
BIN = Path(sys.executable).parent  # console scripts of this interpreter, not pyenv shims


def tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        sys.exit(f"guard_bench: {name} not found (pip install -e . pre-commit-hooks)")
    return found


def timed(cmd, cwd, stdin_bytes: bytes | None = None, shell: bool = False) -> tuple[float, int, int]:
    """(seconds, exit code, peak RSS in KiB of the process tree's largest member)."""
    start = time.perf_counter()
    stdin = subprocess.PIPE if stdin_bytes is not None else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=cwd, shell=shell, stdin=stdin, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    if stdin_bytes is not None:
        proc.stdin.write(stdin_bytes)
        proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, proc.returncode, usage.ru_maxrss


def compare(label: str, ours, theirs, runs: int, target: float | None = None) -> dict:
    """Interleave runs of two (cmd, cwd, stdin, shell) tuples; report medians and the ratio."""
    a, b, rss_a, rss_b, codes = [], [], [], [], set()
    for _ in range(runs):
        t, code, rss = timed(*ours)
        a.append(t), rss_a.append(rss), codes.add(("ours", code))
        t, code, rss = timed(*theirs)
        b.append(t), rss_b.append(rss), codes.add(("theirs", code))
    ma, mb = statistics.median(a), statistics.median(b)
    ratio = ma / mb
    verdict = "" if target is None else (" PASS" if ratio <= target else " FAIL") + f" (target <= {target})"
    print(f"{label}\n  labhooks : median {ma * 1000:8.1f} ms  (min {min(a) * 1000:.1f}, max {max(a) * 1000:.1f}), "
          f"peak RSS {max(rss_a) / 1024:.1f} MiB\n  baseline : median {mb * 1000:8.1f} ms  "
          f"(min {min(b) * 1000:.1f}, max {max(b) * 1000:.1f}), peak RSS {max(rss_b) / 1024:.1f} MiB\n"
          f"  ratio    : {ratio:.3f}{verdict}   exit codes {sorted(codes)}", flush=True)
    return {"ours": ma, "theirs": mb, "ratio": ratio}


def git(*args, cwd, **kw):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, **kw).stdout


def bench_commit(work: Path, runs: int) -> None:
    repo = work / "commit10k"
    if not repo.exists():
        git("init", "-q", str(repo), cwd=work)
        for i in range(10_000):
            d = repo / f"src/pkg{i % 100}"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"module_{i}.py").write_text(f"VALUE = {i}\n" * (1 + i % 20))
        git("add", "-A", cwd=repo)
    names = git("diff", "--cached", "--name-only", "-z", cwd=repo).split("\0")
    names = [n for n in names if n]
    assert len(names) == 10_000
    compare(
        "1. commit mode, 10,000 staged small files (every name on the command line)",
        ([tool("labhooks-check-large"), *names], repo, None, False),
        ([tool("check-added-large-files"), *names], repo, None, False),
        runs, target=0.8,
    )
    # what pre-commit and prek run since the hooks became language: script
    compare(
        "1. commit mode, 10,000 staged small files, through the hooks' launcher (hooks/labhooks-check-large)",
        ([str(HERE.parent / "hooks" / "labhooks-check-large"), *names], repo, None, False),
        ([tool("check-added-large-files"), *names], repo, None, False),
        runs, target=0.8,
    )


def make_history(path: Path, *args: str) -> Path:
    if not path.exists():
        subprocess.run([sys.executable, str(MAKE_HISTORY), str(path), *args], check=True,
                       stdout=subprocess.DEVNULL)
    return path


def bench_push(work: Path, runs: int) -> None:
    guard = tool("labhooks-check-large")
    cases = (
        ("2a. push mode, 500-commit range on top of a pushed history (HEAD~500..HEAD), 5 files/commit",
         "push-history", ("--commits", "3000", "--files-per-commit", "5", "--tree-files", "3000"), True),
        ("2b. push mode, first push of a 500-commit history to an empty remote, 5 files/commit",
         "push-first", ("--commits", "500", "--files-per-commit", "5", "--tree-files", "3000"), False),
        ("2c. push mode, 500-commit range (HEAD~500..HEAD), 60 files/commit in a 30,000-file tree",
         "push-heavy", ("--commits", "1500", "--files-per-commit", "60", "--tree-files", "30000"), True),
    )
    for label, name, spec, incremental in cases:
        repo = make_history(work / name, *spec)
        head = git("rev-parse", "HEAD", cwd=repo).strip()
        base = git("rev-parse", "HEAD~500", cwd=repo).strip() if incremental else "0" * 40
        line = f"refs/heads/main {head} refs/heads/main {base}\n".encode()
        raw = f"git rev-list --objects {head}" + (f" --not {base}" if incremental else "")
        objects = git("rev-list", "--objects", "--count", head, *(["--not", base] if incremental else []), cwd=repo)
        compare(f"{label} [{objects.strip()} objects]",
                ([guard, "--push", "--remote", "origin"], repo, line, False),
                (f"{raw} | git cat-file --batch-check >/dev/null", repo, None, True),
                runs, target=1.3)
        # What a push really pays: the installed hook, which proves most pushes clean with
        # git and awk before any Python starts.
        subprocess.run([tool("labhooks"), "install-hooks"], cwd=repo, check=True, capture_output=True)
        compare(f"{label}, through the installed pre-push hook",
                (["sh", str(repo / ".git" / "hooks" / "pre-push"), "origin", "origin"], repo, line, False),
                (f"{raw} | git cat-file --batch-check >/dev/null", repo, None, True),
                runs, target=1.3)
        # The literal pipeline sizes only the commits: rev-list prints "<oid> <path>" for
        # trees and blobs and cat-file, without %(rest) in its format, reads the whole line
        # as a name and answers "missing". A pipeline that sizes every object, for scale:
        compare(f"{label}, pre-push hook vs a pipeline that sizes every object",
                (["sh", str(repo / ".git" / "hooks" / "pre-push"), "origin", "origin"], repo, line, False),
                (f"{raw} | git cat-file --batch-check='%(objectsize) %(rest)' >/dev/null", repo, None, True),
                runs, target=1.3)
        # the same check without the interpreter's start-up, to show where the time goes
        code = ("import sys,time,statistics;from labhooks.guard import checks;"
                f"line={line!r};ts=[]\n"
                f"for _ in range({runs}):\n"
                " t=time.perf_counter();"
                "checks.check_push(checks.Limits(104857600,52428800,'default'),[],remote='origin',stdin=line);"
                "ts.append(time.perf_counter()-t)\n"
                "print(statistics.median(ts))")
        inproc = float(subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True,
                                      check=True).stdout)
        print(f"  in-process check_push (no interpreter start-up): median {inproc * 1000:.1f} ms", flush=True)


def bench_startup(work: Path, runs: int) -> None:
    repo = work / "startup"
    if not repo.exists():
        git("init", "-q", str(repo), cwd=work)
        (repo / "README.md").write_text("hi\n")
        git("add", "-A", cwd=repo)
        git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "x", cwd=repo)
    launcher = HERE.parent / "hooks" / "labhooks-check-large"
    for label, cmd in (("labhooks check-large", [tool("labhooks"), "check-large"]),
                       ("labhooks-check-large", [tool("labhooks-check-large")]),
                       ("hooks/labhooks-check-large (the pre-commit/prek hooks' launcher)", [str(launcher)])):
        times, rss = [], []
        for _ in range(runs):
            t, code, peak = timed(cmd, repo)
            assert code == 0
            times.append(t), rss.append(peak)
        med = statistics.median(times)
        verdict = "PASS" if med <= 0.150 else "FAIL"
        print(f"3. start-up, nothing to check: {label}\n  median {med * 1000:.1f} ms (min {min(times) * 1000:.1f}, "
              f"max {max(times) * 1000:.1f}), peak RSS {max(rss) / 1024:.1f} MiB  {verdict} (target <= 150 ms)",
              flush=True)
    times = [timed([sys.executable, "-c", "pass"], repo)[0] for _ in range(runs)]
    print(f"  (bare interpreter start-up on this machine: median {statistics.median(times) * 1000:.1f} ms)")


def hooks_repositories(work: Path) -> tuple[Path, Path]:
    """(labhooks snapshot, pre-commit-hooks source), each a local git repository with a tag v-bench."""
    ours, theirs = work / "labhooks-hooks-src", work / "pre-commit-hooks-src"
    if not (ours / ".git").exists():
        listing = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=HERE.parent)
        for rel in filter(None, listing.split("\0")):
            if (HERE.parent / rel).is_file():
                (ours / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(HERE.parent / rel, ours / rel)
        _commit_and_tag(ours)
    if not (theirs / ".git").exists():
        download = work / "pre-commit-hooks-sdist"
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        "-d", str(download), "pre-commit-hooks"], check=True)
        archive = next(download.glob("pre*commit*hooks-*.tar.gz"))
        import tarfile

        with tarfile.open(archive) as tar:
            tar.extractall(download, filter="data")
        unpacked = next(p for p in download.iterdir() if p.is_dir())
        manifest = unpacked / ".pre-commit-hooks.yaml"
        if not manifest.is_file():
            # the sdist leaves the manifest out: this hook's entry as upstream's manifest has it
            # (github.com/pre-commit/pre-commit-hooks, .pre-commit-hooks.yaml)
            print(f"  ({archive.name} has no .pre-commit-hooks.yaml: wrote check-added-large-files' entry "
                  "as upstream's manifest gives it)", flush=True)
            manifest.write_text("- id: check-added-large-files\n  name: check for added large files\n"
                                "  entry: check-added-large-files\n  language: python\n")
        shutil.move(str(unpacked), theirs)
        _commit_and_tag(theirs)
    return ours, theirs


def _commit_and_tag(folder: Path) -> None:
    git("init", "-q", str(folder), cwd=folder.parent)
    git("add", "-A", cwd=folder)
    git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "source", cwd=folder)
    git("tag", "v-bench", cwd=folder)


def folder_size(folder: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(folder)], capture_output=True, text=True, check=True)
               .stdout.split()[0])


def bench_hook_env(work: Path, runs: int) -> None:
    ours, theirs = hooks_repositories(work)
    projects = {}
    for name, source, hooks in (("labhooks", ours, ("check-large", "check-large-push")),
                                ("pre-commit-hooks", theirs, ("check-added-large-files",))):
        project = work / f"hook-env-{name}"
        if not project.exists():
            git("init", "-q", str(project), cwd=work)
        (project / ".pre-commit-config.yaml").write_text(
            f"repos:\n- repo: {source}\n  rev: v-bench\n  hooks:\n" + "".join(f"  - id: {h}\n" for h in hooks))
        projects[name] = project
    version = (theirs / "setup.cfg").read_text().split("version = ", 1)[1].split()[0] \
        if (theirs / "setup.cfg").is_file() else "?"
    print(f"5. hook environment build, fresh cache each run, {runs} runs interleaved "
          f"(pre-commit-hooks {version} from its sdist)", flush=True)
    for runner, home_var in (("pre-commit", "PRE_COMMIT_HOME"), ("prek", "PREK_HOME")):
        command = [tool(runner), "install-hooks"]
        times: dict[str, list[float]] = {name: [] for name in projects}
        sizes: dict[str, int] = {}
        for _ in range(runs):
            for name, project in projects.items():
                home = Path(tempfile.mkdtemp(prefix=f"{runner}-home-", dir=work))
                start = time.perf_counter()
                proc = subprocess.run(command, cwd=project, capture_output=True, text=True,
                                      env={**os.environ, home_var: str(home)})
                times[name].append(time.perf_counter() - start)
                if proc.returncode != 0:
                    sys.exit(f"guard_bench: {runner} install-hooks failed for {name}:\n{proc.stdout}{proc.stderr}")
                sizes[name] = folder_size(home)
                shutil.rmtree(home, ignore_errors=True)
        ours_t, theirs_t = (statistics.median(times[n]) for n in ("labhooks", "pre-commit-hooks"))
        ratio = ours_t / theirs_t
        ok_time, ok_size = ratio <= 1.5, sizes["labhooks"] <= 60 * 1000 * 1000
        print(f"  {runner} install-hooks\n"
              f"    labhooks (check-large, check-large-push): median {ours_t * 1000:8.1f} ms "
              f"(min {min(times['labhooks']) * 1000:.1f}, max {max(times['labhooks']) * 1000:.1f}), "
              f"cache {sizes['labhooks'] / 1e6:.1f} MB {'PASS' if ok_size else 'FAIL'} (target <= 60 MB)\n"
              f"    pre-commit-hooks (check-added-large-files): median {theirs_t * 1000:8.1f} ms "
              f"(min {min(times['pre-commit-hooks']) * 1000:.1f}, max {max(times['pre-commit-hooks']) * 1000:.1f}), "
              f"cache {sizes['pre-commit-hooks'] / 1e6:.1f} MB\n"
              f"    ratio {ratio:.3f} {'PASS' if ok_time else 'FAIL'} (target <= 1.5), "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)


def bench_history(work: Path, runs: int) -> None:
    common = ("--commits", "20000", "--files-per-commit", "5", "--tree-files", "3000")
    clean = make_history(work / "history-clean", *common)
    big = make_history(work / "history-big", *common, "--big", "120@1000")
    count = git("count-objects", "-v", cwd=clean)
    in_pack = count.split()[count.split().index('in-pack:') + 1]
    print(f"4. --all on a synthetic history: 20,000 commits, {in_pack} objects", flush=True)
    raw = "git rev-list --objects --all | git cat-file --batch-check >/dev/null"
    compare("4a. check-large --all --max 100M, no blob that big",
            ([tool("labhooks-check-large"), "--all", "--max", "100M"], clean, None, False),
            (raw, clean, None, True), runs, target=0.25)
    compare("4a. the same through the labhooks command (labhooks check-large --all --max 100M)",
            ([tool("labhooks"), "check-large", "--all", "--max", "100M"], clean, None, False),
            (raw, clean, None, True), runs, target=0.25)
    compare("4b. check-large --all --max 100M, one 120 MB blob buried in history",
            ([tool("labhooks-check-large"), "--all", "--max", "100M"], big, None, False),
            (raw, big, None, True), runs, target=1.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--workdir", type=Path, help="keep the generated repositories here (reused when present)")
    parser.add_argument("--skip-history", action="store_true", help="skip the 20,000-commit --all benchmark")
    parser.add_argument("--skip-push", action="store_true", help="skip the push-mode benchmarks")
    parser.add_argument("--skip-env", action="store_true", help="skip the hook environment build benchmark")
    parser.add_argument("--env-runs", type=int, default=5, help="runs of each hook environment build")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="guard-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    # the hooks' launcher runs whatever python3 is on PATH: make that this interpreter, not
    # a version manager's shim (a pyenv shim alone adds about 70 ms to every run here)
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    python3 = shutil.which("python3")
    git_version = git("--version", cwd=work).strip()
    print(f"guard_bench: {git_version}, Python {sys.version.split()[0]} ({sys.executable}), "
          f"{os.cpu_count()} CPUs, {args.runs} runs each, work dir {work}, "
          f"load average {os.getloadavg()[0]:.2f}\n  {compile_labhooks()}\n  the launcher's python3: {python3}", flush=True)
    bench_startup(work, max(args.runs, 21))
    bench_commit(work, args.runs)
    if not args.skip_push:
        bench_push(work, args.runs)
    if not args.skip_env:
        bench_hook_env(work, args.env_runs)
    if not args.skip_history:
        bench_history(work, max(3, args.runs // 2))
    print(f"guard_bench: done, load average {os.getloadavg()[0]:.2f} (other work on the machine inflates every figure)")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
