"""Real ``redis-server`` processes for a scenario, on free loopback ports.

Each runs with its own temp dir (``--save ""``; AOF on where a scenario
restarts Redis) and is stopped after the scenario (SHUTDOWN NOSAVE, then
terminate). :func:`redis_available` tells the ``@redis`` hook whether to skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from support.servers import free_port


def redis_available() -> bool:
    """Whether ``redis-server`` and ``redis-cli`` are installed."""
    return shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None


class RedisProcess:
    """One ``redis-server --daemonize no`` on 127.0.0.1:``port``."""

    def __init__(
        self, *, appendonly: bool = False, cluster: bool = False, password: str | None = None
    ) -> None:
        self.port = free_port()
        while cluster and self.port > 55_000:  # its bus listens on port + 10000
            self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="planstream-redis-"))
        self.appendonly = appendonly
        self.cluster = cluster
        self.password = password
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0" if not self.cluster else self.node_url

    @property
    def node_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.dir), "--save", "", "--daemonize", "no"]
        args += ["--appendonly", "yes" if self.appendonly else "no"]
        if self.password is not None:
            args += ["--requirepass", self.password]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while self.cli("PING") != "PONG":
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)

    def cli(self, *command: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", str(self.port), *self._auth(), *command],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return done.stdout.strip()

    def _auth(self) -> list[str]:
        return ["--no-auth-warning", "-a", self.password] if self.password is not None else []

    def stop(self) -> None:
        """Stop it (the data stays in its dir for a restart with AOF)."""
        if self.process is None:
            return
        process, self.process = self.process, None
        process.terminate()  # SIGTERM: Redis flushes the AOF and exits
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def wait_port_free(self) -> None:
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.05)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_redis(context: Any, **options: Any) -> RedisProcess:
    """A started Redis, stopped and removed after the scenario."""
    server = RedisProcess(**options)
    server.start()
    cleanups: list[Any] = getattr(context, "redis_cleanups", [])
    context.redis_cleanups = cleanups
    cleanups.append(server.cleanup)
    return server


def start_cluster(context: Any, masters: int = 3) -> list[RedisProcess]:
    """A real Redis Cluster of ``masters`` masters, no replicas."""
    nodes = [start_redis(context, cluster=True) for _ in range(masters)]
    addresses = [f"127.0.0.1:{node.port}" for node in nodes]
    subprocess.run(
        ["redis-cli", "--cluster", "create", *addresses, "--cluster-yes"],
        capture_output=True,
        timeout=60,
        check=True,
    )
    deadline = time.monotonic() + 30
    while not all("cluster_state:ok" in node.cli("CLUSTER", "INFO") for node in nodes):
        if time.monotonic() > deadline:
            raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")
        time.sleep(0.1)
    return nodes
