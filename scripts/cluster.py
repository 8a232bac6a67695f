"""`make cluster`: the hosts of a shared-catalog deployment, as processes on this machine.

    python scripts/cluster.py [--folder DIR | --seed FILE] [--feed URL] [--data DIR] [--key] [--llm none|local]

On 127.0.0.1 and free ports it starts a PostgreSQL server (the catalog), a Chroma server (the vectors), one
writer (``newsdesk watch`` on a folder) and two readers (``newsdesk serve``), each newsdesk process with a
home of its own as separate machines have. It prints where each listens and the environment a further host
sets, then waits. Ctrl-C or SIGTERM stops them in reverse order (readers, writer, Chroma, PostgreSQL) and
removes the temporary folder; when a process dies early it says which, shows the end of its log and stops
the rest. docs/guides/cluster.md maps it to real hosts.

The children run in sessions of their own, so a Ctrl-C in the terminal reaches this script only and the
stop order is this script's. Each child also gets SIGTERM when this script dies, so none outlives it.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from rich.console import Console

REPO = Path(__file__).resolve().parent.parent
DEMO_ARTICLE = REPO.parent / "shared" / "datasets" / "seed" / "000_0854de60a5b65581.txt"  # the Makefile's default
PG_BIN = Path("/usr/lib/postgresql/15/bin")  # Debian's PostgreSQL 15
COLLECTION = "cluster"
START_SECONDS = 120  # the longest any one process may take to be ready (a reader loads the embedder on 2 cores)

console = Console(highlight=False, soft_wrap=True)  # soft wrap: a URL is never broken across lines


class Stop(Exception):
    """A signal to stop everything (SIGINT or SIGTERM), raised where the script happens to be."""


class ChildDied(Exception):
    """A child exited while it should be running."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Runs in each child before exec: SIGTERM when this script dies, whatever kills it."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not glibc: the children still stop on Ctrl-C and SIGTERM, only not on kill -9


class Child:
    """One long-running process with its log; ``stop`` sends ``stop_signal`` and waits, then kills."""

    def __init__(self, name: str, command: list[str], log: Path, env: dict, cwd: Path,
                 stop_signal: int = signal.SIGTERM, user: str | None = None) -> None:
        self.name, self.log, self.stop_signal = name, log, stop_signal
        with open(log, "ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=env, cwd=cwd, start_new_session=True, user=user, group=user,
                                            preexec_fn=_die_with_parent)

    @property
    def pid(self) -> int:
        return self.process.pid

    def check(self) -> None:
        if self.process.poll() is not None:
            raise ChildDied(self.name)

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, wait: float = 20) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(wait)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def wait_for(what: str, ready, children: list[Child], seconds: float = START_SECONDS):
    """Polls ``ready()`` until it returns something true; every child must stay alive meanwhile."""
    deadline = time.monotonic() + seconds
    while True:
        for child in children:
            child.check()
        result = ready()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} was not ready within {seconds:.0f} s")
        time.sleep(0.3)


def http_json(url: str, timeout: float = 5) -> dict | None:
    """The JSON of a 200 answer to a GET, or None for anything else (refused, not yet up, an error status)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read())
    except (OSError, ValueError):  # URLError, HTTPError, timeouts and a body that is not JSON
        return None


class Cluster:
    """The processes, the folders and the ports; ``start()`` brings them up, ``stop()`` takes them down."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.root = Path(tempfile.mkdtemp(prefix="newsdesk-cluster-"))
        self.as_root = os.geteuid() == 0
        self.data = Path(args.data).resolve() if args.data else self.root
        self.pg_data = self.data / "postgres"
        self.chroma_data = self.data / "chroma"
        self.folder = Path(args.folder).resolve() if args.folder else self.data / "articles"
        self.pg_port, self.chroma_port = free_port(), free_port()
        self.reader_ports = [free_port(), free_port()]
        self.catalog_url = f"postgresql://postgres@127.0.0.1:{self.pg_port}/newsdesk"  # trust auth: no password
        self.children: list[Child] = []
        self.key: str | None = None

    # --- environments ---------------------------------------------------------------------------------
    def shared_env(self) -> dict[str, str]:
        """What every newsdesk host of this cluster sets: one catalog, one Chroma server, one collection."""
        return {"NEWSDESK_CATALOG_URL": self.catalog_url, "NEWSDESK_CHROMA_HOST": "127.0.0.1",
                "NEWSDESK_CHROMA_PORT": str(self.chroma_port), "NEWSDESK_COLLECTION": COLLECTION,
                "NEWSDESK_LLM": self.args.llm}

    def host_env(self, home: Path) -> dict[str, str]:
        """A newsdesk process's environment: nothing NEWSDESK_* of the caller's, this repository's code first."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        return env | self.shared_env() | {"NEWSDESK_HOME": str(home)}

    def home(self, name: str) -> Path:
        """A host's home (caches, keys, the local model's server): never shared, so always temporary."""
        path = self.root / "homes" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def newsdesk(self, name: str, home: Path, *arguments: str) -> Child:
        # cwd is the host's home, so no .env of the caller's directory is read
        child = Child(name, [sys.executable, "-m", "cli", *arguments], self.root / "logs" / f"{name}.log",
                      self.host_env(home), home)
        self.children.append(child)
        return child

    # --- PostgreSQL and Chroma ------------------------------------------------------------------------
    def _as_postgres(self, path: Path) -> None:
        """initdb and postgres refuse root: as root they run as the postgres user, which must own its folder."""
        if self.as_root:
            shutil.chown(path, "postgres", "postgres")

    def start_postgres(self) -> Child:
        pg_bin = Path(self.args.pg_bin)
        user = "postgres" if self.as_root else None
        if not (self.pg_data / "PG_VERSION").exists():
            self.pg_data.mkdir(parents=True, exist_ok=True)
            self._as_postgres(self.pg_data)
            with console.status("initdb: a fresh PostgreSQL data folder ..."):
                made = subprocess.run([str(pg_bin / "initdb"), "-D", str(self.pg_data), "-U", "postgres", "-A",
                                       "trust", "-E", "UTF8", "--locale", "C", "--no-sync"], capture_output=True,
                                      text=True, user=user, group=user, cwd=self.pg_data, timeout=START_SECONDS)
            if made.returncode != 0:
                raise RuntimeError(f"initdb failed: {made.stderr.strip() or made.stdout.strip()}")
        # TCP on 127.0.0.1 only, no Unix socket (its folder would have to be the postgres user's)
        child = Child("PostgreSQL", [str(pg_bin / "postgres"), "-D", str(self.pg_data), "-h", "127.0.0.1",
                                     "-p", str(self.pg_port), "-k", "", "-c", "max_connections=100"],
                      self.root / "logs" / "postgres.log", {**os.environ, "LC_ALL": "C"}, self.root,
                      stop_signal=signal.SIGINT, user=user)  # SIGINT: PostgreSQL's fast shutdown
        self.children.append(child)
        return child

    def start_chroma(self) -> Child:
        self.chroma_data.mkdir(parents=True, exist_ok=True)
        chroma = Path(sys.executable).parent / "chroma"
        child = Child("Chroma", [str(chroma), "run", "--path", str(self.chroma_data), "--host", "127.0.0.1",
                                 "--port", str(self.chroma_port)], self.root / "logs" / "chroma.log",
                      {**os.environ, "ANONYMIZED_TELEMETRY": "False"}, self.root)
        self.children.append(child)
        return child

    def _postgres_ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.catalog_url.rsplit("/", 1)[0] + "/postgres", autocommit=True,
                                 connect_timeout=2) as connection:
                if not connection.execute("SELECT 1 FROM pg_database WHERE datname = 'newsdesk'").fetchone():
                    connection.execute("CREATE DATABASE newsdesk")
            return True
        except psycopg.OperationalError:
            return False

    def _listening(self, port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    # --- the whole ------------------------------------------------------------------------------------
    def start(self) -> None:
        os.chmod(self.root, 0o711)  # the postgres user passes through to its own folder
        (self.root / "logs").mkdir()
        self.prepare_folder()
        started = time.monotonic()
        postgres = self.start_postgres()
        chroma = self.start_chroma()
        with console.status("PostgreSQL and Chroma are starting ..."):
            wait_for("PostgreSQL", self._postgres_ready, [postgres, chroma])
            wait_for("Chroma", lambda: self._listening(self.chroma_port), [postgres, chroma])
        console.print(f"[green]ok[/] PostgreSQL and Chroma ({time.monotonic() - started:.1f} s)")

        feeds = [f"--feed={url}" for url in self.args.feed]
        writer = self.newsdesk("writer", self.home("writer"), "watch", str(self.folder), *feeds)
        if self.args.key:
            self.create_key()
        readers = [self.newsdesk(f"reader {n}", self.home(f"reader-{n}"), "serve", "--port", str(port),
                                 "--log-level", "warning") for n, port in enumerate(self.reader_ports, 1)]
        with console.status("the writer's first sync and the readers are starting ..."):
            wait_for("the writer", lambda: "watching " in writer.tail(50), self.children)
            for reader, port in zip(readers, self.reader_ports):
                wait_for(reader.name, lambda: http_json(f"http://127.0.0.1:{port}/readyz"), self.children)
        console.print(f"[green]ok[/] the writer and two readers ({time.monotonic() - started:.1f} s)")

    def prepare_folder(self) -> None:
        """The watched folder: the one given, else (when new) one seeded with the demo article."""
        if self.args.folder or self.folder.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            return
        self.folder.mkdir(parents=True)
        for seed in self.args.seed:
            shutil.copy(seed, self.folder / Path(seed).name)

    def create_key(self) -> None:
        """One read-only key, valid on both readers: each keeps keys in its own home, so both get the file."""
        first, second = self.home("reader-1"), self.home("reader-2")
        made = subprocess.run([sys.executable, "-m", "cli", "keys", "create", "cluster", "--read-only"],
                              env=self.host_env(first), cwd=first, capture_output=True, text=True, timeout=120)
        if made.returncode != 0:
            raise RuntimeError(f"newsdesk keys create failed: {made.stderr.strip()}")
        self.key = made.stdout.strip()
        shutil.copy2(first / "api-keys.json", second / "api-keys.json")

    def report(self) -> None:
        """Where each process listens, how to ask, and what a further host sets."""
        console.print()
        rows = [("PostgreSQL", self.catalog_url), ("Chroma", f"http://127.0.0.1:{self.chroma_port}"),
                ("writer", f"newsdesk watch {self.folder}"),
                *((f"reader {n}", f"http://127.0.0.1:{port}") for n, port in enumerate(self.reader_ports, 1))]
        for child, (name, where) in zip(self.children, rows):
            console.print(f"  {name:<11} {where}  (pid {child.pid})", markup=False)
        console.print(f"  folder      {self.folder}  (drop articles here)", markup=False)
        console.print(f"  temporary   {self.root}  (removed on exit)", markup=False)
        if self.args.data:
            console.print(f"  data        {self.data}  (kept)", markup=False)
        auth = f"-H 'Authorization: Bearer {self.key}' " if self.key else ""
        url = f"http://127.0.0.1:{self.reader_ports[0]}"
        console.print("\nAsk a reader (docs at /docs" + (", the key is read-only" if self.key else
                      "; no API keys: the readers serve this machine only") + "):", markup=False)
        console.print(f"  curl -s {url}/v1/search {auth}-H 'Content-Type: application/json' "
                      "-d '{\"query\": \"US troops in South Korea\"}'", markup=False)
        console.print(f"  curl -s {url}/v1/ask {auth}-H 'Content-Type: application/json' "
                      "-d '{\"question\": \"How many US troops are stationed in South Korea?\"}'", markup=False)
        console.print("\nA further reader host sets (NEWSDESK_HOME: a folder of its own) and runs `newsdesk serve`:",
                      markup=False)
        for name, value in self.shared_env().items():
            console.print(f"  export {name}={value}", markup=False)
        console.print("\n[bold]ready[/]: Ctrl-C stops every process and removes the temporary folder")

    def watch(self) -> None:
        """Waits for a signal; a child that exits meanwhile ends the wait."""
        while True:
            for child in self.children:
                child.check()
            time.sleep(0.5)

    def stop(self) -> None:
        """Readers, writer, Chroma, PostgreSQL: each stops after those that use it."""
        for child in reversed(self.children):
            with console.status(f"stopping {child.name} ..."):
                code = child.stop(wait=30 if child.name in ("writer", "PostgreSQL") else 15)
            how = f"on {signal.Signals(-code).name}" if code and code < 0 else f"exit {code}"
            console.print(f"  stopped {child.name} ({how})", markup=False)
        shutil.rmtree(self.root, ignore_errors=True)
        console.print(f"removed {self.root}", markup=False)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", metavar="DIR", help="watch this folder (kept); default: a fresh one seeded with --seed")
    parser.add_argument("--seed", action="append", metavar="FILE",
                        help=f"article copied into the fresh folder (repeatable; default {DEMO_ARTICLE})")
    parser.add_argument("--feed", action="append", default=[], metavar="URL", help="the writer also follows this feed")
    parser.add_argument("--data", metavar="DIR", help="keep PostgreSQL's and Chroma's data (and the fresh folder) "
                                                      "in DIR across runs; default: a temporary folder")
    parser.add_argument("--key", action="store_true", help="create a read-only API key both readers accept")
    parser.add_argument("--llm", choices=["none", "local"], default="none",
                        help="the readers' answerer: none (extractive, the default) or the packaged local model")
    parser.add_argument("--pg-bin", metavar="DIR", default=str(PG_BIN), help=f"PostgreSQL's programs (default {PG_BIN})")
    args = parser.parse_args(argv)
    args.seed = args.seed or [str(DEMO_ARTICLE)]
    missing = [seed for seed in args.seed if not Path(seed).is_file()]
    if missing and not args.folder:
        parser.error(f"no article at {', '.join(missing)}; give --seed FILE or --folder DIR")
    if not (Path(args.pg_bin) / "postgres").exists():
        parser.error(f"no PostgreSQL programs in {args.pg_bin}; give --pg-bin DIR")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)

    def on_signal(signum, frame):
        raise Stop(signal.Signals(signum).name)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    cluster = Cluster(args)
    code = 0
    try:
        cluster.start()
        cluster.report()
        cluster.watch()
    except Stop as stop:
        console.print(f"\n{stop}: stopping the cluster", markup=False)
    except ChildDied as died:
        child = next(c for c in cluster.children if c.name == str(died))
        console.print(f"\n[red]{child.name} exited early (exit {child.process.returncode})[/]; the end of its log:")
        console.print(child.tail(), markup=False)
        code = 1
    except (TimeoutError, RuntimeError, subprocess.SubprocessError, OSError) as error:
        console.print(f"\n[red]the cluster did not start[/]: {error}")
        for child in cluster.children:
            console.print(f"--- {child.name}:\n{child.tail(8)}", markup=False)
        code = 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)  # the stop below runs to its end: no orphan, no leftover folder
        cluster.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
