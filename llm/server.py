"""A llama.cpp server for a local model, started and supervised by newsdesk, shared by its processes.

``LocalServer(settings).ensure()`` returns the base URL of a healthy server on 127.0.0.1 serving
``settings.llm.local_model``: it reuses one that another newsdesk process (the app, ``newsdesk chat``,
``newsdesk models serve``) already runs, else starts one on a free port and waits for its health
check. A server this process started stops with it (also when the process is killed: the server
watches its parent). The server is reached through the same OpenAI-compatible client as any other
endpoint, so the local and remote paths are one path.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from settings import Settings
from llm import models
from errors import LocalModelError

STARTUP_SECONDS = 180  # the 1.5B maps 1.1 GB; cold page cache on 2 cores took ~10 s, leave room for busy disks


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def healthy(url: str, alias: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=timeout) as response:
            return any(m.get("id") == alias for m in json.load(response).get("data", []))
    except (OSError, ValueError):
        return False


class LocalServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = models.get_model(settings.llm.local_model)
        self.folder = models.models_dir(settings.llm.models_dir)
        self.state_dir = self.folder / "servers"
        self.state_path = self.state_dir / f"{self.model.name}.json"
        self.log_path = self.state_dir / f"{self.model.name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def alias(self) -> str:
        return self.model.name

    def threads(self) -> int:
        return self.settings.llm.llm_threads or cores()

    def _state(self) -> dict | None:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None

    def running_url(self) -> str | None:
        """The URL of the server for this model that some newsdesk process runs, else None. A server whose
        process lives and whose port accepts connections is running, also when it does not answer its health
        check at once: llama.cpp's server answers one request at a time, and one busy writing an answer for
        another process is busy, not dead (starting a second one would load the model twice)."""
        state = self._state()
        if not state or not _alive(int(state.get("pid", 0))):
            return None
        url = f"http://127.0.0.1:{state['port']}/v1"
        if healthy(url, self.alias):
            return url
        return url if _listening(int(state["port"])) else None

    def ensure(self) -> str:
        url = self.running_url()
        if url:
            return url
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.state_dir / f"{self.model.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one starter at a time; the others then reuse its server
            url = self.running_url()
            if url:
                return url
            return self._start(watch_parent=True)

    def _command(self, path: Path, port: int, watch_parent: int | None) -> list[str]:
        command = [sys.executable, "-m", "llm.server"]
        if watch_parent:
            command += ["--watch-parent", str(watch_parent)]
        threads = str(self.threads())
        return command + [
            "--model", str(path), "--model_alias", self.alias, "--host", "127.0.0.1", "--port", str(port),
            "--n_threads", threads, "--n_threads_batch", threads, "--n_ctx", str(self.settings.llm.local_ctx_tokens),
            # processes share the server: a second question waits its turn instead of cutting the first off
            "--interrupt_requests", "false",
            # logits for the last token only: the server's default keeps them for every prompt token (for
            # logprobs, which newsdesk never asks for), and that made reading a prompt ~1.5x slower
            "--logits_all", "false", "--flash_attn", "true",
            # the KV cache of the previous prompt is reused for the prefix every prompt shares (system
            # prompt + worked example). Not --cache: its saved states hold each prompt's logits over the
            # whole vocabulary (~0.6 MB a token for Qwen), and the server grew to 12.8 GB RSS in one eval run.
        ]

    def _start(self, watch_parent: bool) -> str:
        path = models.ensure(self.model.name, self.folder)
        port = _free_port()
        log = open(self.log_path, "ab")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parent.parent)] +
                                                            [p for p in [os.environ.get("PYTHONPATH")] if p])}
        self.process = subprocess.Popen(self._command(path, port, os.getpid() if watch_parent else None),
                                        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        log.close()
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + STARTUP_SECONDS
        while not healthy(url, self.alias, timeout=1.0):
            if self.process.poll() is not None:
                raise LocalModelError(f"The local model server for {self.model.name} exited at start "
                                      f"(code {self.process.returncode}); its log is {self.log_path}.")
            if time.monotonic() > deadline:
                self.process.kill()
                raise LocalModelError(f"The local model server for {self.model.name} did not answer within "
                                      f"{STARTUP_SECONDS} s; its log is {self.log_path}.")
            time.sleep(0.25)
        self.state_path.write_text(json.dumps({"pid": self.process.pid, "port": port, "model": self.model.name,
                                               "threads": self.threads(), "owner": os.getpid()}))
        if watch_parent:
            atexit.register(self.stop)
        return url

    def serve_forever(self) -> int:
        """``newsdesk models serve``: run the server in the foreground until Ctrl-C or SIGTERM."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        url = self.running_url()
        if url:
            raise LocalModelError(f"A server for {self.model.name} already runs at {url}.")
        url = self._start(watch_parent=False)
        print(f"serving {self.model.title} at {url} (threads {self.threads()}); Ctrl-C stops it", flush=True)

        def stop_on_term(signum, frame):  # a service manager stops it with SIGTERM: the server stops with it
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, stop_on_term)
        try:
            return self.process.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.stop()

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        state = self._state()
        if state and state.get("pid") == process.pid:
            self.state_path.unlink(missing_ok=True)


def _watch_parent(parent: int) -> None:
    """Exit when the process that started this server is gone (kill -9 included)."""
    while True:
        if os.getppid() != parent or not _alive(parent):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
            os._exit(0)
        time.sleep(1.0)


def main(argv: list[str]) -> None:
    """``python -m llm.server [--watch-parent PID] <llama_cpp.server arguments>``."""
    if argv[:1] == ["--watch-parent"]:
        threading.Thread(target=_watch_parent, args=(int(argv[1]),), daemon=True).start()
        argv = argv[2:]
    sys.argv = ["llama_cpp.server"] + argv
    runpy.run_module("llama_cpp.server", run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
