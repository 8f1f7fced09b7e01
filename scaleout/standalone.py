"""A Spark standalone cluster on this machine (one master, N workers on 127.0.0.1) for tests and benchmarks.

The pip package has no ``sbin/start-master.sh``; the master and workers are started the way those scripts start
them, ``spark-class org.apache.spark.deploy.master.Master`` / ``...deploy.worker.Worker``, each in its own process
group so that stopping the cluster stops exactly the processes it started. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LocalCluster", "local_cluster"]


@dataclass
class LocalCluster:
    """A running cluster: ``master_url`` for ``SparkOptions(master=...)``, ``web_url`` for its JSON status."""

    master_url: str
    web_url: str
    log_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def status(self) -> dict[str, Any]:
        """The master's status (workers, running and completed applications)."""
        with urllib.request.urlopen(f"{self.web_url}/json/", timeout=5) as response:
            return dict(json.load(response))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _spark_class() -> Path:
    import pyspark

    script = Path(pyspark.__file__).parent / "bin" / "spark-class"
    if not script.exists():
        raise FileNotFoundError(f"spark-class not found next to pyspark: {script}")
    return script


def _wait(condition: Any, timeout: float, what: str, cluster: LocalCluster) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in cluster.processes:
            if process.poll() is not None:
                raise RuntimeError(f"{what}: a cluster process exited ({process.returncode}); see {cluster.log_dir}")
        try:
            if condition():
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what}: not ready after {timeout:.0f} s; see the logs in {cluster.log_dir}")


def _stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


@contextmanager
def local_cluster(
    workers: int = 2,
    *,
    cores_per_worker: int = 1,
    memory_per_worker: str = "2g",
    timeout: float = 90.0,
    log_dir: Path | None = None,
) -> Iterator[LocalCluster]:
    """Start a master and ``workers`` workers on 127.0.0.1, wait until all workers registered, stop them after."""
    logs = log_dir or Path(tempfile.mkdtemp(prefix="dancu-spark-cluster-"))
    logs.mkdir(parents=True, exist_ok=True)
    port, web_port = _free_port(), _free_port()
    environment = {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_MASTER_HOST": "127.0.0.1",
        "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable),
        "SPARK_WORKER_DIR": str(logs / "work"),
    }
    cluster = LocalCluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{web_port}", logs)
    command = [str(_spark_class())]

    def launch(name: str, arguments: list[str]) -> None:
        log = (logs / f"{name}.log").open("wb")
        cluster.processes.append(
            subprocess.Popen(
                [*command, *arguments], stdout=log, stderr=subprocess.STDOUT, env=environment, start_new_session=True
            )
        )

    try:
        launch(
            "master",
            ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
             "--webui-port", str(web_port)],
        )  # fmt: skip
        _wait(lambda: cluster.status().get("status") == "ALIVE", timeout, "Spark master", cluster)
        for number in range(workers):
            launch(
                f"worker-{number}",
                ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", str(cores_per_worker),
                 "--memory", memory_per_worker, "--webui-port", str(_free_port()), "--work-dir",
                 str(logs / f"work-{number}"), cluster.master_url],
            )  # fmt: skip
        _wait(lambda: int(cluster.status().get("aliveworkers", 0)) >= workers, timeout, "Spark workers", cluster)
        yield cluster
    finally:
        for process in reversed(cluster.processes):
            _stop(process, timeout=30)
