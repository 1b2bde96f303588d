"""A throwaway Spark standalone cluster (master + one worker) and a Spark Connect server on 127.0.0.1.

The code lives in :mod:`analysis.bench.servers` (the benchmark starts the same cluster); this
module keeps the name tests/test_engines.py imports. Runnable by hand (starts everything, prints
the URLs, stops on Enter)::

    python tests/spark_cluster.py /tmp/sa-spark
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from analysis.bench.servers import (  # noqa: F401  (re-exported for tests/test_engines.py)
    CONNECT_CLASS, START_TIMEOUT_S, STOP_TIMEOUT_S, Proc, SparkCluster, connect_jar, free_port, port_open,
    spark_home,
)

if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="sa-spark-"))
    with SparkCluster(root) as c:
        print(f"master:  {c.master_url}\nconnect: {c.connect_url}\nlogs:    {root / 'logs'}")
        input("Enter stops the cluster. ")
