"""Fixtures of the API tests: a small real index and real uvicorn servers on free 127.0.0.1 ports."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import REPO, ThreadServer, clean_env, free_port, write_feed


@pytest.fixture(scope="session")
def api_index(tmp_path_factory, seed_file, embedder) -> Path:
    """A home holding the seed article and two short ones, built once; tests copy it when they write."""
    from index.sync import Indexer
    from settings import Settings

    base = tmp_path_factory.mktemp("api-index")
    feed = write_feed(base / "articles")
    settings = Settings(_env_file=None, home=base / "home")
    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([seed_file, feed])
    indexer.close()
    return base / "home"


@pytest.fixture
def home(api_index, tmp_path) -> Path:
    """A private copy of the small index (the embedded store and catalog are plain files)."""
    target = tmp_path / "home"
    shutil.copytree(api_index, target)
    return target


@pytest.fixture
def serve(embedder):
    """``serve(settings)`` -> a started server for ``create_app(settings)``, stopped after the test."""
    from api.app import create_app
    from api.service import Service

    started: list[ThreadServer] = []

    def start(settings) -> ThreadServer:
        server = ThreadServer(create_app(settings, service=Service(settings, embedder=embedder))).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class CliServer:
    """``newsdesk serve`` as a subprocess (its log in a file), for what only the real command shows."""

    def __init__(self, home: Path, log: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = open(log, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--port", str(self.port), *args], cwd=REPO,
            stdout=self._log, stderr=subprocess.STDOUT,
            env=clean_env(NEWSDESK_HOME=str(home), NEWSDESK_ANSWER_MODE="extractive", **env))

    def wait_ready(self, timeout: float = 120) -> "CliServer":
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"newsdesk serve exited: {self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("newsdesk serve did not start")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def cli_server(tmp_path):
    servers: list[CliServer] = []

    def start(home: Path, *args: str, **env: str) -> CliServer:
        server = CliServer(home, tmp_path / f"serve-{len(servers)}.log", *args, **env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()

