"""The one size parser and formatter, and how bad sizes reach the user."""

import pytest
from helpers import labhooks

from labhooks.errors import LabhooksError
from labhooks.sizes import format_size, git_size_arg, parse_size

KiB, MiB, GiB = 1024, 1024**2, 1024**3


@pytest.mark.parametrize(
    "text, expected",
    [
        ("100M", 100 * MiB), ("100m", 100 * MiB), ("100MB", 100 * MiB), ("100MiB", 100 * MiB),
        ("100 MiB", 100 * MiB), ("1.5G", int(1.5 * GiB)), ("500k", 500 * KiB), ("512KiB", 512 * KiB),
        ("1048576", MiB), ("0", 0), ("2T", 2 * 1024**4), ("7b", 7), (" 3M ", 3 * MiB), (4096, 4096),
    ],
)
def test_parse_size_accepts_every_documented_spelling(text, expected):
    assert parse_size(text) == expected


def test_github_limit_is_binary():
    # GitHub's "100.00 MB" limit is 104,857,600 bytes; a decimal reading would be 5% low
    assert parse_size("100MB") == 104_857_600


@pytest.mark.parametrize("junk", ["100Q", "-5M", "", "   ", "M", "1.5", "abc", "10 0M", "100iB", "1e6", None, True])
def test_parse_size_refuses_junk(junk):
    with pytest.raises(LabhooksError) as info:
        parse_size(junk)
    assert info.value.exit_code == 2
    assert "invalid size" in info.value.message


@pytest.mark.parametrize(
    "num, expected",
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (101 * MiB, "101.0 MiB"), (123_456_789, "117.7 MiB"),
     (3 * GiB, "3.0 GiB"), (None, "unknown")],
)
def test_format_size(num, expected):
    assert format_size(num) == expected


def test_git_size_arg_round_trips_through_parse_size():
    for n in (100 * MiB, 3 * GiB, 512 * KiB, 1000, 123_456_789):
        assert parse_size(git_size_arg(n)) == n
    assert git_size_arg(100 * MiB) == "100M"


@pytest.mark.parametrize("option", ["--max", "--warn"])
@pytest.mark.parametrize("junk", ["100Q", "-5M", "", "lots"])
def test_bad_size_option_is_one_line_and_exit_2(repo, option, junk):
    proc = labhooks("check-large", option, junk, cwd=repo.path)
    assert proc.returncode == 2
    err = proc.stderr
    assert err.count("\n") == 1 and err.startswith("labhooks: ")
    assert "Traceback" not in err and proc.stdout == ""
