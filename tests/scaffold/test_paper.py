"""`labhooks new-paper`: a showyourwork paper rendered, built and committed for real.

The rendered paper's own pieces run here: its figure and variable scripts with plain
python, its Snakefile with snakemake, its manuscript with pdflatex through our fallback
style, its pre-commit config through pre-commit. showyourwork itself (conda) does not.
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import yaml

from labhooks.cli import main
from labhooks.scaffold.context import LABHOOKS_REPO
from labhooks.scaffold.paper import (
    SHOWYOURWORK_VERSION,
    TEMPLATE,
    enclosing_repository,
    latex_escape,
    new_paper,
    parse_github,
)
from labhooks.scaffold.render import list_templates, template_dir, template_info
from labhooks.text import single_line

REQUIRED = [
    "showyourwork.yml",
    "environment.yml",
    "Snakefile",
    ".github/workflows/build.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    "README.md",
    "LICENSE",
    "src/tex/ms.tex",
    "src/tex/bib.bib",
    "src/tex/showyourwork.sty",
    "src/tex/labhooks-fallback.sty",
    "src/scripts/paths.py",
    "src/scripts/matplotlibrc",
    "src/scripts/arrhenius_plot.py",
    "src/scripts/activation_energy.py",
    "src/data/.gitignore",
    "src/data/rates.csv",
    "src/static/.gitignore",
    "src/tex/figures/.gitignore",
    "src/tex/output/.gitignore",
]
# Specials of LaTeX, Markdown and YAML at once: it must still compile and render.
HOSTILE_TITLE = r"Rates & yields: 50% of A_1 {#2} ~^ \ $5 end"
AUTHOR = "Zoë Müller"
GITHUB = "my-lab/arrhenius-paper"


def _isolate(mp: pytest.MonkeyPatch, home: Path, mpl_dir: Path) -> None:
    """No personal git config, a known committer, no stray repository variables."""
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text("")
    mp.setenv("HOME", str(home))
    mp.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    mp.setenv("GIT_AUTHOR_NAME", "Test Author")
    mp.setenv("GIT_AUTHOR_EMAIL", "author@example.org")
    mp.setenv("GIT_COMMITTER_NAME", "Test Committer")
    mp.setenv("GIT_COMMITTER_EMAIL", "committer@example.org")
    mp.setenv("MPLCONFIGDIR", str(mpl_dir))
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CONFIG_COUNT", "DISPLAY"):
        mp.delenv(var, raising=False)


@pytest.fixture(scope="module")
def module_env(tmp_path_factory):
    mpl_dir = tmp_path_factory.mktemp("mplconfig")
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, tmp_path_factory.mktemp("home"), mpl_dir)
        yield


@pytest.fixture
def env(module_env, tmp_path):
    """Per test: the module's isolation, a working folder outside any repository."""
    work = tmp_path / "work"
    work.mkdir()
    if enclosing_repository(work) is not None:
        pytest.skip("the temporary folder is inside a git repository")
    return work


def run(cmd, cwd, check=True, **kw):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def git(args, cwd, check=True):
    return run(["git", *args], cwd, check=check)


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (CI installs it)")


def compile_ms(tex_dir: Path) -> subprocess.CompletedProcess:
    """pdflatex, bibtex, pdflatex, pdflatex: the sequence README.md gives."""
    latex = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "ms.tex"]
    run(latex, tex_dir)
    run(["bibtex", "ms"], tex_dir)
    run(latex, tex_dir)
    return run(latex, tex_dir)


def pdf_text(pdf: Path) -> str:
    return run(["pdftotext", "-layout", str(pdf), "-"], pdf.parent).stdout


def expected_activation_energy(csv_path: Path) -> float:
    """An independent fit of the shipped data, not the template's own helper."""
    rows = [
        line.split(",")
        for line in csv_path.read_text().splitlines()
        if line and not line.startswith("#")
    ][1:]
    temperature = np.array([float(r[0]) for r in rows])
    rate = np.array([float(r[1]) for r in rows])
    slope = np.polyfit(1 / temperature, np.log(rate), 1)[0]
    return -slope * 8.314462618 / 1000


def tex_references(ms_tex: str) -> dict[str, list[str]]:
    return {
        "graphics": re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]*)\}", ms_tex),
        "variables": re.findall(r"\\variable\{([^}]*)\}", ms_tex),
        "scripts": re.findall(r"\\script\{([^}]*)\}", ms_tex),
    }


def new_paper_cli(argv, capsys):
    code = main(["new-paper", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture(scope="module")
def built(module_env, tmp_path_factory):
    """One paper made through the CLI, then its scripts run and its manuscript compiled."""
    need("pdflatex")
    need("bibtex")
    need("pdftotext")
    work = tmp_path_factory.mktemp("built")
    if enclosing_repository(work) is not None:
        pytest.skip("the temporary folder is inside a git repository")
    target = work / "arrhenius-paper"
    code = main(
        ["new-paper", str(target), "--title", HOSTILE_TITLE, "--author", AUTHOR, "--github", GITHUB]
    )
    assert code == 0
    rendered = sorted(p.relative_to(target).as_posix() for p in target.rglob("*")
                      if p.is_file() and ".git" not in p.relative_to(target).parts)
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    # Run from an unrelated folder: the scripts must find their folders through paths.py.
    for script in ("arrhenius_plot.py", "activation_energy.py"):
        run([sys.executable, str(target / "src" / "scripts" / script)], elsewhere)
    final = compile_ms(target / "src" / "tex")
    return {"root": target, "rendered": rendered, "latex_log": final.stdout}


# -- the rendered layout ---------------------------------------------------------------


def test_renders_the_showyourwork_layout(built):
    root = built["root"]
    for rel in REQUIRED:
        assert (root / rel).is_file(), rel
    assert not [f for f in built["rendered"] if f.endswith(".jinja")]
    template = template_dir(TEMPLATE)
    rendered_from_jinja = [p.relative_to(template).as_posix()[: -len(".jinja")]
                           for p in template.rglob("*.jinja")]
    assert "src/tex/ms.tex" in rendered_from_jinja
    for rel in rendered_from_jinja:
        text = (root / rel).read_text(encoding="utf-8").replace("${{ github.ref }}", "")
        leftover = re.findall(r"\{\{|\}\}|\{%|%\}", text)
        assert not leftover, f"unrendered jinja in {rel}: {leftover}"
    assert (root / "src" / "data" / "rates.csv").stat().st_size < 4096
    license_text = (root / "LICENSE").read_text()
    assert f"Copyright (c) {datetime.date.today().year} {AUTHOR}" in license_text
    assert HOSTILE_TITLE in (root / "README.md").read_text()
    assert f"github.com/{GITHUB}/actions" in (root / "README.md").read_text()


def test_template_is_a_paper_not_a_project():
    info = template_info(TEMPLATE)
    assert info["kind"] == "paper"
    assert TEMPLATE not in list_templates("project")
    assert TEMPLATE in list_templates("paper")


def test_scripts_write_what_ms_tex_reads(built):
    tex = built["root"] / "src" / "tex"
    refs = tex_references((tex / "ms.tex").read_text())
    assert refs["graphics"] and refs["variables"] and refs["scripts"]
    for graphic in refs["graphics"]:
        assert graphic.startswith("figures/") and graphic.endswith(".pdf")
        assert (tex / graphic).read_bytes().startswith(b"%PDF"), graphic
    for variable in refs["variables"]:
        assert variable.startswith("output/") and variable.endswith(".txt")
        assert (tex / variable).is_file(), variable
    for script in refs["scripts"]:
        assert (built["root"] / "src" / "scripts" / script).is_file(), script
    value = float((tex / "output" / "activation_energy.txt").read_text())
    expected = expected_activation_energy(built["root"] / "src" / "data" / "rates.csv")
    assert value == pytest.approx(expected, abs=0.05)


def test_figure_is_reproducible_byte_for_byte(built, tmp_path):
    figure = built["root"] / "src" / "tex" / "figures" / "arrhenius.pdf"
    first = figure.read_bytes()
    run([sys.executable, str(built["root"] / "src" / "scripts" / "arrhenius_plot.py")], tmp_path)
    assert figure.read_bytes() == first


def test_manuscript_compiles_with_the_fallback_style(built):
    tex = built["root"] / "src" / "tex"
    log = (tex / "ms.log").read_text(errors="replace")
    assert "labhooks-fallback.sty" in log, "plain pdflatex must use our fallback style"
    text = pdf_text(tex / "ms.pdf")
    value = (tex / "output" / "activation_energy.txt").read_text().strip()
    assert re.search(rf"E\s*a\s*= {re.escape(value)} kJ/mol", text), text
    # OT1 fonts build accents from parts: pdftotext gives combining characters.
    flat = unicodedata.normalize("NFC", " ".join(text.split()))
    assert "Rates & yields: 50% of A" in flat and "{#2}" in flat and "$5 end" in flat
    assert AUTHOR in flat
    assert "Arrhenius" in flat and "References" in flat  # bibtex resolved the citations
    assert "??" not in flat
    assert "Figure 1" in flat


def test_missing_outputs_compile_with_a_marker_not_a_crash(module_env, env):
    need("pdflatex")
    need("pdftotext")
    target = env / "draft"
    new_paper(target, title="Draft", author=AUTHOR, git=False)
    run([sys.executable, "src/scripts/arrhenius_plot.py"], target)  # the figure, not the number
    tex = target / "src" / "tex"
    run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "ms.tex"], tex)
    assert "?? kJ/mol" in " ".join(pdf_text(tex / "ms.pdf").split())
    log = (tex / "ms.log").read_text(errors="replace")
    assert "output/activation_energy.txt is missing" in " ".join(log.split())


def test_generated_files_stay_out_of_git(built):
    root = built["root"]
    # After scripts, snakemake-free build and LaTeX: nothing new for git to pick up.
    assert git(["status", "--porcelain"], root).stdout == ""
    ignored = git(["status", "--porcelain", "--ignored"], root).stdout
    for generated in ("src/tex/figures/arrhenius.pdf", "src/tex/output/activation_energy.txt",
                      "src/tex/ms.pdf", "src/tex/ms.aux"):
        assert generated in ignored, generated
    tracked = git(["ls-files"], root).stdout.split()
    assert sorted(tracked) == built["rendered"]
    # None of the shipped files is hidden by the paper's own .gitignore rules.
    check = git(["check-ignore", "--no-index", *tracked], root, check=False)
    assert check.returncode == 1, check.stdout


# -- the workflow and its configuration ----------------------------------------------


def test_snakefile_parses_and_runs_with_plain_snakemake(module_env, env):
    target = env / "snake"
    new_paper(target, title="Snake", author=AUTHOR, git=False)
    output = target / "src" / "tex" / "output" / "activation_energy.txt"
    dry = run([sys.executable, "-m", "snakemake", "-n"], target)
    assert "activation_energy" in dry.stdout + dry.stderr
    assert not output.exists()
    run([sys.executable, "-m", "snakemake", "--cores", "1"], target)
    value = float(output.read_text())
    assert value == pytest.approx(expected_activation_energy(target / "src/data/rates.csv"), abs=0.05)
    # The Snakefile's output is where ms.tex's \variable reads.
    refs = tex_references((target / "src" / "tex" / "ms.tex").read_text())
    assert "output/activation_energy.txt" in refs["variables"]


def test_showyourwork_and_conda_configs_load(built):
    root = built["root"]
    config = yaml.safe_load((root / "showyourwork.yml").read_text())
    assert str(config["version"]) == SHOWYOURWORK_VERSION
    assert config["cache_on_zenodo"] is False
    assert config["ms_name"] == "ms"
    for script, deps in config["dependencies"].items():
        assert (root / script).is_file(), script
        for dep in deps:
            assert (root / dep).is_file(), dep
    environment = yaml.safe_load((root / "environment.yml").read_text())
    assert "conda-forge" in environment["channels"]
    pins = dict(spec.split("=", 1) for spec in environment["dependencies"])
    assert set(pins) >= {"python", "numpy", "matplotlib"}
    assert all(re.fullmatch(r"\d+(\.\d+)+", version) for version in pins.values()), pins


def test_github_workflow_uses_the_showyourwork_action(built):
    workflow = yaml.safe_load((built["root"] / ".github/workflows/build.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    action = [s for s in steps if str(s.get("uses", "")).startswith("showyourwork/showyourwork-action@")]
    assert len(action) == 1
    assert action[0]["with"]["showyourwork-spec"] == f"showyourwork=={SHOWYOURWORK_VERSION}"
    assert workflow["permissions"]["contents"] == "write"
    assert workflow["jobs"]["build"]["concurrency"] == "showyourwork-${{ github.ref }}"


def test_pre_commit_config_validates_and_guards_commits_and_pushes(built):
    config_path = built["root"] / ".pre-commit-config.yaml"
    run([sys.executable, "-m", "pre_commit", "validate-config", str(config_path)], built["root"])
    config = yaml.safe_load(config_path.read_text())
    (repo,) = config["repos"]
    assert repo["repo"] == LABHOOKS_REPO
    assert repo["rev"].startswith("v")
    hooks = {hook["id"]: hook for hook in repo["hooks"]}
    assert hooks["check-large"]["stages"] == ["pre-commit"]
    assert hooks["check-large-push"]["stages"] == ["pre-push"]
    assert set(config["default_install_hook_types"]) == {"pre-commit", "pre-push"}
    # One `pre-commit install` (offline: hooks are fetched on first run) wires both.
    run([sys.executable, "-m", "pre_commit", "install"], built["root"])
    hooks_dir = built["root"] / ".git" / "hooks"
    for hook in ("pre-commit", "pre-push"):
        assert "pre-commit" in (hooks_dir / hook).read_text(), hook


# -- git ------------------------------------------------------------------------------


def test_git_repository_with_one_commit_and_origin(built):
    root = built["root"]
    assert git(["rev-parse", "--show-toplevel"], root).stdout.strip() == str(root.resolve())
    assert git(["rev-list", "--count", "HEAD"], root).stdout.strip() == "1"
    assert git(["branch", "--show-current"], root).stdout.strip() == "main"
    assert git(["log", "-1", "--format=%an|%s"], root).stdout.strip().startswith("Test Author|Start paper: ")
    assert git(["remote", "get-url", "origin"], root).stdout.strip() == f"https://github.com/{GITHUB}.git"
    # Nothing was pushed or fetched: no remote-tracking refs exist.
    assert git(["for-each-ref", "refs/remotes"], root).stdout == ""


def test_no_git_makes_no_repository(module_env, env, capsys):
    target = env / "plain"
    code, out, _ = new_paper_cli([str(target), "--no-git", "--title", "Plain"], capsys)
    assert code == 0
    assert not (target / ".git").exists()
    assert git(["rev-parse", "--git-dir"], target, check=False).returncode != 0
    assert "git:" not in out


def test_inside_an_existing_repository_files_are_left_uncommitted(module_env, env, capsys):
    outer = env / "lab-repo"
    outer.mkdir()
    git(["init", "-q"], outer)
    git(["commit", "-q", "--allow-empty", "-m", "start"], outer)
    code, out, _ = new_paper_cli([str(outer / "papers" / "p1"), "--title", "Inner"], capsys)
    assert code == 0
    assert not (outer / "papers" / "p1" / ".git").exists()
    assert git(["rev-list", "--count", "HEAD"], outer).stdout.strip() == "1"
    assert "?? papers/" in git(["status", "--porcelain"], outer).stdout
    assert "not committed" in out

    before = listing(outer)
    code, _, err = new_paper_cli([str(outer / "p2"), "--github", GITHUB], capsys)
    assert code == 2 and "--github needs a new repository" in err
    assert listing(outer) == before


def test_existing_empty_folder_is_used(module_env, env, capsys):
    target = env / "empty"
    target.mkdir()
    code, _, _ = new_paper_cli([str(target), "--title", "Empty"], capsys)
    assert code == 0
    assert (target / "src" / "tex" / "ms.tex").is_file()
    assert git(["rev-list", "--count", "HEAD"], target).stdout.strip() == "1"


def test_dry_run_writes_nothing(module_env, env, capsys):
    code, out, _ = new_paper_cli([str(env / "dry"), "--dry-run"], capsys)
    assert code == 0
    assert "would write" in out and "src/tex/ms.tex" in out
    assert listing(env) == []


# -- refusals: one line, exit 2, nothing written -------------------------------------


def _assert_refused(code, out, err, work, before):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("labhooks: "), err
    assert "Traceback" not in err
    assert listing(work) == before


@pytest.mark.parametrize(
    "make_argv",
    [
        pytest.param(lambda w: [str(w / "full")], id="non-empty-folder"),
        pytest.param(lambda w: [str(w / "a-file")], id="existing-file"),
        pytest.param(lambda w: [str(w / "x" / "..")], id="dot-dot"),
        pytest.param(lambda w: [str(w) + "/bad\nname"], id="newline-in-name"),
        pytest.param(lambda w: [str(w / " lead")], id="leading-blank"),
        pytest.param(lambda w: [str(w / "ok"), "--github", "not-a-slug"], id="github-no-slash"),
        pytest.param(lambda w: [str(w / "ok"), "--github", "a/b/c"], id="github-three-parts"),
        pytest.param(lambda w: [str(w / "ok"), "--github", "-lab/paper"], id="github-bad-owner"),
        pytest.param(lambda w: [str(w / "ok"), "--github", "lab/.."], id="github-dot-dot"),
        pytest.param(lambda w: [str(w / "ok"), "--github", "lab/my paper"], id="github-blank"),
        pytest.param(lambda w: [str(w / "ok"), "--github", "lab/p", "--no-git"], id="github-no-git"),
        pytest.param(lambda w: [str(w / "ok"), "--title", "two\nlines"], id="title-newline"),
        pytest.param(lambda w: [str(w / "ok"), "--title", ""], id="title-empty"),
        pytest.param(lambda w: [str(w / "ok"), "--author", "bell\x07"], id="author-control"),
        pytest.param(lambda w: [str(w / "ok"), "--title", "abc\u202edcba"], id="title-bidi-override"),
    ],
)
def test_refusals_leave_nothing_behind(module_env, env, capsys, make_argv):
    (env / "full").mkdir()
    (env / "full" / "notes.txt").write_text("keep me\n")
    (env / "a-file").write_text("keep me too\n")
    (env / "x").mkdir()
    before = listing(env)
    code, out, err = new_paper_cli(make_argv(env), capsys)
    _assert_refused(code, out, err, env, before)
    assert (env / "full" / "notes.txt").read_text() == "keep me\n"


def test_missing_git_identity_refuses_before_writing(module_env, env, monkeypatch, capsys):
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    # Without this git may invent user@host from the machine's name and succeed.
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.useConfigOnly")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "true")
    code, out, err = new_paper_cli([str(env / "who")], capsys)
    _assert_refused(code, out, err, env, [])
    assert "--no-git" in err
    code, _, _ = new_paper_cli([str(env / "who"), "--no-git"], capsys)
    assert code == 0 and not (env / "who" / ".git").exists()


@pytest.mark.parametrize("where", ["new-folder", "empty-folder", "new-parents"])
def test_failed_first_commit_rolls_the_render_back(module_env, env, monkeypatch, capsys, where):
    hooks = env.parent / "hooks"
    hooks.mkdir()
    hook = hooks / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'refused by a global hook' >&2\nexit 1\n")
    hook.chmod(0o755)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.hooksPath")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(hooks))
    target = env / "new" / "deeper" / "paper" if where == "new-parents" else env / "rolled-back"
    if where == "empty-folder":
        target.mkdir()
    before = listing(env)
    code, out, err = new_paper_cli([str(target)], capsys)
    _assert_refused(code, out, err, env, before)
    assert "nothing was left" in err and "refused by a global hook" in err
    assert target.is_dir() == (where == "empty-folder")


def test_cli_subprocess_reports_one_line(module_env, env):
    proc = run([sys.executable, "-m", "labhooks", "new-paper", "..", "--no-git"], env, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and proc.stderr.startswith("labhooks: ")
    assert listing(env) == []


# -- unit pieces -----------------------------------------------------------------------


def test_names_with_joiners_are_accepted():
    # A Persian name needs a zero-width non-joiner; refusing it would refuse the person.
    assert single_line("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "author")


def test_latex_escape_covers_every_special():
    escaped = latex_escape("\\&%$#_{}~^")
    assert escaped == r"\textbackslash{}\&\%\$\#\_\{\}\textasciitilde{}\textasciicircum{}"


@pytest.mark.parametrize("slug,expected", [("lab/paper", ("lab", "paper")),
                                           ("My-Lab/paper.v2", ("My-Lab", "paper.v2")),
                                           ("lab/paper.git", ("lab", "paper"))])
def test_parse_github_accepts(slug, expected):
    assert parse_github(slug) == expected


# -- packaging ---------------------------------------------------------------------------


def test_template_files_are_not_ignored_by_this_repository():
    """The template's own .gitignore files must not hide template files from labhooks' git."""
    template = template_dir(TEMPLATE)
    probe = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=template,
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("labhooks is not running from a git checkout")
    files = [str(p) for p in template.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    check = subprocess.run(["git", "check-ignore", "--no-index", *files], cwd=template,
                           capture_output=True, text=True)
    assert check.returncode == 1, f"ignored template files:\n{check.stdout}"
