"""Absolute paths of the paper's folders, so scripts work from any working directory.

Scripts import this module (``import paths``); it sits next to them in src/scripts.
"""

from pathlib import Path

root = Path(__file__).resolve().parents[2]
src = root / "src"
data = src / "data"          # inputs: small tracked files, or downloaded/generated ones
static = src / "static"      # figures no script can make
scripts = src / "scripts"    # figure scripts, rule scripts, helpers like this one
tex = src / "tex"            # the manuscript
figures = tex / "figures"    # written by figure scripts, read by \includegraphics
output = tex / "output"      # written by workflow rules, read by \variable
