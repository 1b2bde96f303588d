"""``python -m analysis.bench KIND DIR … OUT_JSON``: one benchmark run in a process of its own
(started by :func:`analysis.bench.main`; not a command for users)."""
import sys

from . import _child

_child(sys.argv[1:])
