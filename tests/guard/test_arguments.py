"""check-large reads the common argument shapes itself (pre-commit passes thousands of
names); what it makes of them must be exactly what argparse makes of them."""

from __future__ import annotations

import pytest

from labhooks.errors import LabhooksError
from labhooks.guard.main import _plain_arguments, build_parser, parse_arguments

READ_DIRECTLY = [
    [],
    ["a.bin"],
    ["data/big file.h5", "caf\u00e9.csv", "x\ny.bin"],
    ["--max", "10M", "a", "b"],
    ["--max=10M", "--warn", "1M", "a"],
    ["--max=", "a"],
    ["--exclude", "*.csv", "--exclude=*.h5", "x"],
    ["--exclude=a=b", "x"],
    ["--all"],
    ["--all", "--all"],
    ["--push", "--remote", "origin", "--remote-url", "git@github.com:lab/repo.git"],
    ["--pre-receive", "--max", "5M"],
    ["--wide", "f"],
    ["--notebook-warn", "0", "--notebook-max", "5M", "n.ipynb"],
    ["--baseline", "base.txt", "--all"],
    ["--all", "--write-baseline", "base.txt"],
    ["--max", "1M", "--max", "2M", "f"],
]

LEFT_TO_ARGPARSE = [
    ["a", "--all"],  # an option after a file name
    ["--al"],  # an abbreviation
    ["--", "-rf.bin"],
    ["-rf.bin"],
    ["--all", "--push"],
    ["--wide=1"],
    ["--max"],
    ["--max", "-1"],
    ["-h"],
    ["--help"],
    ["--nope", "f"],
]


def _argparse(argv):
    try:
        return vars(build_parser().parse_args(argv))
    except (LabhooksError, SystemExit) as exc:
        return type(exc).__name__


@pytest.mark.parametrize("argv", READ_DIRECTLY, ids=repr)
def test_the_common_shapes_are_read_as_argparse_reads_them(argv):
    plain = _plain_arguments(list(argv))
    assert plain is not None
    assert vars(plain) == _argparse(list(argv))


@pytest.mark.parametrize("argv", LEFT_TO_ARGPARSE, ids=repr)
def test_everything_else_is_argparse_s_to_judge(argv, capsys):
    assert _plain_arguments(list(argv)) is None
    expected = _argparse(list(argv))
    try:
        got = vars(parse_arguments(list(argv)))
    except (LabhooksError, SystemExit) as exc:
        got = type(exc).__name__
    assert got == expected


def test_ten_thousand_names_are_read_without_argparse(monkeypatch):
    def no_argparse():
        raise AssertionError("argparse was built for a plain list of names")

    monkeypatch.setattr("labhooks.guard.main.build_parser", no_argparse)
    names = [f"src/pkg{i % 100}/module_{i}.py" for i in range(10_000)]
    args = parse_arguments(["--max=50M", *names])
    assert args.files == names and args.max == "50M" and args.exclude == []
