"""A throwaway redis-server on a free loopback port, for the tests of the Redis index.

``REDIS_URL`` (set by .ci/run) points the tests at a server already running; otherwise one is started
here when ``redis-server`` is installed, and the tests that need it are skipped when it is not.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(client) -> None:
    """Until the server answers (five seconds at most)."""
    import redis

    for _ in range(100):
        try:
            client.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_server():
    """The URL of a Redis server (database 0) for this test session."""
    redis = pytest.importorskip("redis")
    if os.environ.get("REDIS_URL"):
        _wait(redis.Redis.from_url(os.environ["REDIS_URL"]))
        yield os.environ["REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    folder = tempfile.mkdtemp(prefix="dedup-redis-")
    server = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                               "--appendonly", "no", "--dir", folder], stdout=subprocess.DEVNULL)
    _wait(redis.Redis(port=port))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server, request):
    """A prefix of its own for each test, so tests never see each other's keys."""
    name = "t" + str(abs(hash(request.node.nodeid)))
    yield f"{redis_server}?prefix={name}"
