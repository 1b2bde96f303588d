"""``python -m analysis.reports JOB.json``: one job of a batch, in its own process."""
import sys

from .batch import worker_main

if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1]))
