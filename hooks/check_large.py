# The guard straight from the clone pre-commit or prek made of this repository, started
# by hooks/labhooks-check-large (python3 -E -S: nothing from site-packages, which the
# guard does not need, is ever looked at or paid for at start-up).
#
# Written to parse under any Python, so that an old python3 on PATH gets one clear line
# rather than a syntax error.
import os
import sys

MINIMUM = (3, 10)

if sys.version_info < MINIMUM:
    sys.stderr.write(
        "labhooks: the check-large hook needs Python %d.%d or newer; python3 on PATH is %s (%s): "
        "put a newer python3 first on PATH, or pip install labhooks and use its hooks as "
        "language: system\n" % (MINIMUM + (sys.version.split()[0], sys.executable)))
    sys.exit(2)

HOOKS = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(HOOKS)
# Only this clone's labhooks, whatever the folder a hook runs in holds (a clone of
# labhooks itself, say): python put this script's folder on the path, and run by hand
# without -E, PYTHONPATH may name the current folder.
CWD = os.path.realpath(os.getcwd())
sys.path[:] = [ROOT] + [p for p in sys.path if p not in ("", ".") and os.path.realpath(p) not in (HOOKS, CWD)]

from labhooks.__main__ import check_large  # noqa: E402

sys.exit(check_large())
