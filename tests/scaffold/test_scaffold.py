"""The generic renderer, driven with small templates written in each test."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from helpers import labhooks

from labhooks.errors import LabhooksError
from labhooks.scaffold import render as render_module
from labhooks.scaffold.render import (
    _place,
    list_templates,
    render,
    template_info,
    validate_name,
)


@pytest.fixture
def templates(tmp_path, monkeypatch):
    """A templates root of our own; returns a function that writes one template."""
    root = tmp_path / "templates"
    root.mkdir()
    monkeypatch.setattr(render_module, "templates_root", lambda: root)

    def make(name: str, files: dict[str, str | bytes], kind: str = "project") -> Path:
        folder = root / name
        folder.mkdir()
        (folder / "template.yaml").write_text(f"description: test {name}\nkind: {kind}\n")
        for rel, content in files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return folder

    return make


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes); folders as ''/ markers."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        out[rel + ("/" if path.is_dir() else "")] = b"" if path.is_dir() else path.read_bytes()
    return out


def test_renders_names_and_contents_and_copies_the_rest(templates, tmp_path):
    raw = b"\x00\x01 {{ not rendered }} \xff"
    templates("demo", {
        "{{ package }}/__init__.py.jinja": "NAME = {{ name | tojson }}\n",
        "{{ package }}/data/{{ package }}.bin": raw,
        "README.md": "{{ left as is }}\n",
        "notes/{{ name }}.txt.jinja": "by {{ author }}",
    })
    result = render("demo", tmp_path / "out", {"package": "pkg", "name": "Demo", "author": "Ada"})
    out = tmp_path / "out"
    assert (out / "pkg/__init__.py").read_text() == 'NAME = "Demo"\n'
    assert (out / "pkg/data/pkg.bin").read_bytes() == raw
    assert (out / "README.md").read_text() == "{{ left as is }}\n"
    assert (out / "notes/Demo.txt").read_text() == "by Ada"  # no newline added
    assert not (out / "template.yaml").exists()
    assert result.files == sorted(Path(p) for p in ["README.md", "notes/Demo.txt", "pkg/__init__.py", "pkg/data/pkg.bin"])
    assert not list(tmp_path.glob(".labhooks-render-*"))
    assert not list(out.glob(".labhooks-render-*"))


def test_executable_bit_is_kept(templates, tmp_path):
    folder = templates("exe", {"run.sh": "#!/bin/sh\necho hi\n"})
    (folder / "run.sh").chmod(0o755)
    render("exe", tmp_path / "out", {})
    assert os.stat(tmp_path / "out/run.sh").st_mode & stat.S_IXUSR


def test_strict_undefined_in_content_writes_nothing(templates, tmp_path):
    templates("broken", {"a.txt.jinja": "fine {{ name }}\n", "b.txt.jinja": "{{ missing }}\n"})
    with pytest.raises(LabhooksError, match="missing"):
        render("broken", tmp_path / "out", {"name": "x"})
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["templates"]


def test_strict_undefined_in_a_file_name(templates, tmp_path):
    templates("badname", {"{{ nope }}.txt": "x"})
    with pytest.raises(LabhooksError, match="nope"):
        render("badname", tmp_path / "out", {})
    assert not (tmp_path / "out").exists()


def test_dry_run_lists_and_writes_nothing_but_fails_like_the_real_run(templates, tmp_path):
    templates("demo", {"{{ name }}/x.txt.jinja": "{{ name }}", "{{ name }}/sub/y.txt": "y"})
    result = render("demo", tmp_path / "out", {"name": "n"}, dry_run=True)
    assert result.dry_run and result.files == [Path("n/sub/y.txt"), Path("n/x.txt")]
    assert result.folders == [Path("n"), Path("n/sub")]
    assert not (tmp_path / "out").exists()

    templates("late", {"ok.txt": "x", "z.txt.jinja": "{{ undefined_late }}"})
    with pytest.raises(LabhooksError, match="undefined_late"):
        render("late", tmp_path / "out2", {}, dry_run=True)


@pytest.mark.parametrize(
    "hostile",
    ["../x", "../../etc/passwd", "..", ".", "a/b", "a\\b", "x\x00y", "x\ny", "bell\x07", "", " lead",
     "\u202etxt.exe", "x" * 256],
)
def test_hostile_rendered_names_are_refused(templates, tmp_path, hostile):
    templates("demo", {"keep.txt": "y", "{{ name }}/f.txt": "x"})
    with pytest.raises(LabhooksError) as info:
        render("demo", tmp_path / "out", {"name": hostile})
    assert "\n" not in info.value.message  # one line, the name shown escaped
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "x").exists()


@pytest.mark.parametrize("good", ["name", "my_pkg-2", "Ünïcode", "file.tar.gz", "x" * 255])
def test_ordinary_names_pass(good):
    assert validate_name(good) == good


def test_never_overwrites_and_refuses_before_writing(templates, tmp_path):
    templates("demo", {"a.txt": "new a", "b/c.txt": "new c"})
    out = tmp_path / "out"
    (out / "b").mkdir(parents=True)
    (out / "b/c.txt").write_text("mine")
    before = tree(out)
    with pytest.raises(LabhooksError, match="already exists"):
        render("demo", out, {})
    assert tree(out) == before  # a.txt was not written either


def test_a_file_where_a_folder_must_go_is_refused(templates, tmp_path):
    templates("demo", {"a.txt": "a", "b/c.txt": "c"})
    out = tmp_path / "out"
    out.mkdir()
    (out / "b").write_text("a file, not a folder")
    before = tree(out)
    with pytest.raises(LabhooksError, match="not a folder"):
        render("demo", out, {})
    assert tree(out) == before


def test_non_empty_target_refused_unless_allowed(templates, tmp_path):
    templates("demo", {"a.txt": "a"})
    out = tmp_path / "out"
    out.mkdir()
    (out / "other.txt").write_text("other")
    with pytest.raises(LabhooksError, match="not empty"):
        render("demo", out, {}, allow_existing_dir=False)
    assert tree(out) == {"other.txt": b"other"}
    render("demo", out, {}, allow_existing_dir=True)
    assert tree(out) == {"a.txt": b"a", "other.txt": b"other"}


def test_two_files_rendering_to_one_path_are_refused(templates, tmp_path):
    templates("clash", {"{{ a }}.txt": "1", "{{ b }}.txt": "2"})
    with pytest.raises(LabhooksError, match="two files"):
        render("clash", tmp_path / "out", {"a": "same", "b": "same"})


def _fail_on_call(monkeypatch, number: int, action):
    """Make the ``number``-th placement of a file run ``action(final)`` first."""
    real = _place
    calls = {"n": 0}

    def place(staged, final):
        calls["n"] += 1
        if calls["n"] == number:
            action(final)
        return real(staged, final)

    monkeypatch.setattr(render_module, "_place", place)


def test_failure_mid_way_removes_everything_it_wrote(templates, tmp_path, monkeypatch):
    templates("demo", {"a.txt": "a", "sub/b.txt": "b", "sub/deep/c.txt": "c"})

    def disk_full(final):
        raise OSError(errno.ENOSPC, "No space left on device", str(final))

    _fail_on_call(monkeypatch, 3, disk_full)
    with pytest.raises(LabhooksError, match="No space left on device; nothing was written"):
        render("demo", tmp_path / "new/out", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["templates"]  # not even new/


def test_failure_mid_way_in_an_existing_folder_keeps_what_was_there(templates, tmp_path, monkeypatch):
    templates("demo", {"a.txt": "a", "sub/b.txt": "b", "z.txt": "z"})
    out = tmp_path / "book"
    out.mkdir()
    (out / "mine.txt").write_text("mine")
    before = tree(out)

    def disk_full(final):
        raise OSError(errno.ENOSPC, "No space left on device", str(final))

    _fail_on_call(monkeypatch, 2, disk_full)
    with pytest.raises(LabhooksError):
        render("demo", out, {})
    assert tree(out) == before


def test_a_file_appearing_meanwhile_is_not_overwritten_nor_removed(templates, tmp_path, monkeypatch):
    templates("demo", {"a.txt": "ours a", "b.txt": "ours b"})
    out = tmp_path / "out"
    out.mkdir()

    def someone_else_writes(final):
        Path(final).write_text("theirs")

    _fail_on_call(monkeypatch, 2, someone_else_writes)
    with pytest.raises(LabhooksError, match="appeared while writing"):
        render("demo", out, {})
    assert tree(out) == {"b.txt": b"theirs"}


def test_unknown_template_lists_the_known_ones(templates):
    templates("alpha", {"x": "x"})
    with pytest.raises(LabhooksError, match="alpha"):
        render("beta", "/nonexistent/out", {})
    with pytest.raises(LabhooksError):
        template_info("../alpha")


def test_list_templates_by_kind(templates):
    templates("p", {"x": "x"}, kind="project")
    templates("m", {"x": "x"}, kind="minute")
    assert list_templates() == ["m", "p"]
    assert list_templates("minute") == ["m"]
    assert template_info("m")["description"] == "test m"


def test_shipped_minute_and_book_templates_are_registered():
    assert {"minute-paper", "minute-tool"} <= set(list_templates("minute"))
    assert "book" in list_templates("book")


@pytest.mark.slow
def test_templates_ship_in_the_wheel(tmp_path, repo_root):
    """Build the wheel, install it into a fresh venv, and scaffold from the installed copy."""
    import shutil
    import subprocess
    import sys

    pytest.importorskip("hatchling", reason="building the wheel offline needs hatchling installed")
    source = tmp_path / "src"
    source.mkdir()
    # only what the wheel is built from (benchmark work folders may be large)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (repo_root / name).is_file():
            shutil.copy2(repo_root / name, source / name)
    for name in ("labhooks", "templates", "hooks"):
        if (repo_root / name).is_dir():
            shutil.copytree(repo_root / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q", "-w", str(wheels), str(source)],
        capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("labhooks-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    probe = subprocess.run(
        [str(python), "-c", "from labhooks.scaffold.render import templates_root; print(templates_root())"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    assert str(venv) in probe.stdout  # the installed copy, not the source tree
    made = labhooks("new-book", "book", "--author", "Ada", python=python, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    for rel in (".gitignore", ".github/workflows/book.yml", ".pre-commit-config.yaml", "_quarto.yml"):
        assert (tmp_path / "book" / rel).is_file(), rel
    added = labhooks("new-minute", "Deep Sets", "--kind", "paper", python=python, cwd=tmp_path / "book")
    assert added.returncode == 0, added.stderr
    assert (tmp_path / "book/papers/deep_sets/.gitkeep").is_file()
