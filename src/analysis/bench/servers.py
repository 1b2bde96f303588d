"""Engines started on this machine for tests and benchmarks: a throwaway PostgreSQL server, a Spark
standalone cluster (master + one worker) with an optional Spark Connect server, all on 127.0.0.1,
and the resident memory and CPU time of their process trees.

:class:`SparkCluster` starts the scripts and jars the installed pyspark ships
(``pyspark/bin/spark-class`` and ``spark-submit``; the Connect server's jar is bundled from
pyspark 4.0 on), each as its own process in its own process group, on free ports. Readiness is
awaited by polling the port and the process's log against a deadline (no fixed sleeps);
:meth:`SparkCluster.stop` ends the process groups it started, by their ids, and checks that they
are gone. :class:`PostgresServer` runs ``scripts/pg.sh`` (Debian's PostgreSQL binaries) in a
folder of its own. :class:`TreeSampler` adds up the resident memory (RSS and PSS, from ``/proc``)
and CPU time of process trees while a run goes on.

Used by tests/test_engines.py (through tests/spark_cluster.py) and by ``sales-analysis bench
--variants reports``::

    with SparkCluster(tmp_dir) as cluster:
        cluster.master_url    # spark://127.0.0.1:PORT
        cluster.connect_url   # sc://127.0.0.1:PORT
        cluster.pids()        # the processes it started (master, worker, Connect server)

    with PostgresServer(tmp_dir) as pg:
        pg.url                # postgresql://sa@127.0.0.1:PORT/sales
        pg.pids()             # the postmaster (its backends are its children)
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Seconds a process may take to come up on a loaded 2-core machine (a JVM start, the Connect
#: server's session) before the start counts as failed.
START_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 30.0

CONNECT_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def spark_home() -> Path:
    """The Spark distribution inside the installed pyspark package (bin/, jars/)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def connect_jar() -> Path | None:
    """The Spark Connect server jar pyspark ships (pyspark >= 4.0), or None."""
    jars = sorted((spark_home() / "jars").glob("spark-connect_*.jar"))
    return jars[0] if jars else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the kernel picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Proc:
    """One started process: its Popen (leader of its own process group) and its log file."""

    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:
            return ""


@dataclass
class SparkCluster:
    """A standalone master, one worker and (optionally) a Spark Connect server, on loopback.

    Parameters
    ----------
    root : path
        A folder for logs, the worker's work dir and Spark's scratch space.
    cores, memory : int, str
        The worker's resources. Two cores: the Connect server is one application holding one
        (``spark.cores.max=1``), a report run by a driver of its own is another.
    with_connect : bool
        Also start a Spark Connect server (needs pyspark >= 4.0, whose wheel bundles its jar).
    """

    root: Path
    cores: int = 2
    memory: str = "2g"
    with_connect: bool = True
    procs: list[Proc] = field(default_factory=list)
    master_port: int = 0
    connect_port: int = 0

    # ------------------------------------------------------------------ URLs

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def connect_url(self) -> str:
        return f"sc://127.0.0.1:{self.connect_port}"

    # ------------------------------------------------------------------ start / stop

    def env(self) -> dict[str, str]:
        home = spark_home()
        env = dict(os.environ)
        env.update(
            SPARK_HOME=str(home),
            SPARK_LOCAL_IP="127.0.0.1",
            SPARK_LOCAL_DIRS=str(self.root / "local"),
            SPARK_LOG_DIR=str(self.root / "logs"),
            SPARK_PID_DIR=str(self.root),
            # Python on the executors, should a query need one: this interpreter (pandas, pyarrow)
            PYSPARK_PYTHON=sys.executable,
            PYSPARK_DRIVER_PYTHON=sys.executable,
        )
        env.pop("SPARK_CONF_DIR", None)
        env.pop("PYSPARK_SUBMIT_ARGS", None)
        return env

    def _spawn(self, name: str, argv: list[str]) -> Proc:
        log = self.root / "logs" / f"{name}.log"
        with open(log, "wb") as fh:
            popen = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=self.env(), cwd=self.root, start_new_session=True)
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def _await(self, proc: Proc, port: int, pattern: str, timeout: float = START_TIMEOUT_S) -> None:
        """Poll until ``port`` accepts connections and the log matches ``pattern``; else raise."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        delay = 0.05
        while True:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
            if (port == 0 or port_open(port)) and rx.search(proc.tail(10**6)):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{proc.name} not ready after {timeout:g} s:\n{proc.tail()}")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def start(self) -> "SparkCluster":
        home = spark_home()
        for d in ("logs", "local", "work"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        spark_class = str(home / "bin" / "spark-class")
        try:
            self.master_port = free_port()
            master = self._spawn("master", [
                spark_class, "org.apache.spark.deploy.master.Master",
                "--host", "127.0.0.1", "--port", str(self.master_port), "--webui-port", str(free_port()),
            ])
            self._await(master, self.master_port, r"I have been elected leader|New state: ALIVE")
            worker = self._spawn("worker", [
                spark_class, "org.apache.spark.deploy.worker.Worker", self.master_url,
                "--host", "127.0.0.1", "--webui-port", str(free_port()),
                "--cores", str(self.cores), "--memory", self.memory, "--work-dir", str(self.root / "work"),
            ])
            self._await(worker, 0, r"Successfully registered with master")
            if self.with_connect:
                if connect_jar() is None:
                    raise RuntimeError(f"pyspark at {home} ships no Spark Connect server jar (pyspark >= 4.0 does)")
                self.connect_port = free_port()
                server = self._spawn("connect", [
                    str(home / "bin" / "spark-submit"), "--class", CONNECT_CLASS,
                    "--name", "Spark Connect server", "--master", self.master_url,
                    "--conf", "spark.cores.max=1",
                    "--conf", "spark.executor.memory=512m",
                    "--conf", "spark.driver.memory=1g",
                    "--conf", "spark.driver.host=127.0.0.1",
                    "--conf", "spark.driver.bindAddress=127.0.0.1",
                    "--conf", "spark.ui.enabled=false",
                    "--conf", "spark.sql.session.timeZone=UTC",
                    "--conf", "spark.sql.shuffle.partitions=8",
                    "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
                    "--conf", f"spark.connect.grpc.binding.port={self.connect_port}",
                ])
                self._await(server, self.connect_port, r"Spark Connect server started")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every process group this cluster started (newest first) and check each is gone."""
        errors = []
        for proc in reversed(self.procs):
            pgid = proc.popen.pid  # start_new_session: the leader's pid is the group's id
            for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, STOP_TIMEOUT_S)):
                try:
                    os.killpg(pgid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.popen.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    continue
                if not _group_alive(pgid, wait):
                    break
            if proc.popen.poll() is None or _group_alive(pgid, 0):
                errors.append(f"{proc.name} (process group {pgid})")
        self.procs.clear()
        if errors:
            raise RuntimeError("Spark processes still running after stop: " + ", ".join(errors))

    def pids(self) -> list[int]:
        """Ids of the processes started (master, worker, Connect server); executors are the worker's children."""
        return [p.popen.pid for p in self.procs if p.popen.poll() is None]

    def __enter__(self) -> "SparkCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _group_alive(pgid: int, wait: float) -> bool:
    """True while any process of group ``pgid`` exists (waits up to ``wait`` s for it to empty)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.1)



# --------------------------------------------------------------------------- PostgreSQL


def pg_script() -> Path:
    """``scripts/pg.sh`` of the checkout this package runs from."""
    path = Path(__file__).resolve().parents[3] / "scripts" / "pg.sh"
    if not path.exists():
        raise RuntimeError(f"scripts/pg.sh not found at {path}: run the benchmark from a checkout of the project")
    return path


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL server (``scripts/pg.sh``) in ``root`` on a free loopback port.

    ``root`` must be a folder the server's user can enter: as root, pg.sh runs the server as the
    ``postgres`` user and hands it the folder, so a folder made by :func:`tempfile.mkdtemp`
    directly under /tmp (not inside another root-only folder) works.
    """

    root: Path
    port: int = 0
    url: str = ""

    @property
    def data(self) -> Path:
        return Path(self.root) / "data"

    def start(self) -> "PostgresServer":
        self.port = self.port or free_port()
        proc = subprocess.run(["bash", str(pg_script()), "start", str(self.root), str(self.port)],
                              capture_output=True, text=True, timeout=START_TIMEOUT_S)
        if proc.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
        self.url = proc.stdout.strip().splitlines()[-1]
        return self

    def pids(self) -> list[int]:
        """The postmaster's id (the server's other processes and its backends are its children)."""
        try:
            return [int(self.data.joinpath("postmaster.pid").read_text().split()[0])]
        except (OSError, ValueError, IndexError):
            return []

    def stop(self) -> None:
        subprocess.run(["bash", str(pg_script()), "stop", str(self.root)], capture_output=True, timeout=120)

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --------------------------------------------------------------------------- memory and CPU of process trees

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent id, CPU seconds of the process itself) from /proc/<pid>/stat, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) ": state ppid … utime(12) stime(13)
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) bytes of a process (PSS: shared pages divided among the processes sharing them)."""
    rss = pss = 0
    try:
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss


def process_tree(roots: list[int]) -> dict[int, float]:
    """{pid: own CPU seconds} of ``roots`` and all their descendants now alive."""
    stats = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st:
                stats[int(entry.name)] = st
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = {}, [r for r in roots if r in stats]
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out[pid] = stats[pid][1]
        todo.extend(children.get(pid, []))
    return out


@dataclass
class TreeSampler:
    """Samples process trees every ``interval`` s: the peak of their summed RSS and PSS, and their
    CPU seconds (each process's last-seen user + system time, less what it had at the start; a
    process that ends between two samples loses at most one interval of CPU).

    ``roots`` is a callable returning the current root ids (a report's process, or an engine's
    servers), so that processes started during the run are followed.
    """

    groups: dict[str, Any]
    interval: float = 0.25
    peak_rss: dict[str, int] = field(default_factory=dict)
    peak_pss: dict[str, int] = field(default_factory=dict)
    start_rss: dict[str, int] = field(default_factory=dict)
    procs: dict[str, int] = field(default_factory=dict)
    _cpu0: dict[str, dict[int, float]] = field(default_factory=dict)
    _cpu: dict[str, dict[int, float]] = field(default_factory=dict)
    _stop: Any = None
    _thread: Any = None

    def sample(self) -> None:
        for name, roots in self.groups.items():
            tree = process_tree(list(roots()))
            rss = pss = 0
            for pid in tree:
                r, p = _memory(pid)
                rss, pss = rss + r, pss + p
            if name not in self._cpu0:
                self._cpu0[name] = dict(tree)
                self.start_rss[name] = rss
            self._cpu.setdefault(name, {}).update(tree)
            self.peak_rss[name] = max(self.peak_rss.get(name, 0), rss)
            self.peak_pss[name] = max(self.peak_pss.get(name, 0), pss)
            self.procs[name] = max(self.procs.get(name, 0), len(tree))

    def cpu_s(self, name: str) -> float:
        base = self._cpu0.get(name, {})
        return sum(v - base.get(pid, 0.0) for pid, v in self._cpu.get(name, {}).items())

    def start(self) -> "TreeSampler":
        import threading

        self.sample()
        self._stop = threading.Event()

        def loop() -> None:
            while not self._stop.wait(self.interval):
                self.sample()

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        self.sample()
