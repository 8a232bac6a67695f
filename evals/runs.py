"""The store of evaluation runs: run folders under NEWSDESK_HOME/evals/runs, and running a suite into one.

A run folder holds run.json (what was asked for), results.jsonl (one record per answer) and, once
finished, summary.json and the reports (evals/report.py). While a run is being written, the folder
also holds ``running.json``: the process (host and pid) writing it. A folder whose marker names a
live process is "in progress": not offered for resuming, and not started a second time. A marker
left by a process that died is stale and ignored (and replaced by the next run into that folder).

Nothing here is Streamlit's: the app's Evaluations page shows these runs and calls ``execute_run``;
the command line can use the same functions.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from errors import RunInProgress

if TYPE_CHECKING:
    from settings import Settings

RUNNING_MARKER = "running.json"


@dataclass
class EvalRun:
    """A run directory: finished when summary.json is there (``summary``), else unfinished."""

    path: Path
    meta: dict
    summary: dict | None = None
    problem: str | None = None  # summary.json or run.json that could not be read

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def systems(self) -> list[str]:
        if self.summary:
            return list(self.summary.get("systems", {}))
        return list(self.meta.get("systems", []))

    @property
    def in_progress(self) -> bool:
        return run_in_progress(self.path)

    def label(self) -> str:
        """Plain text for a select box (option labels are never Markdown)."""
        parts = [self.name, str((self.summary or self.meta).get("mode") or "?") + " mode", " + ".join(self.systems)]
        if self.meta.get("limit"):
            parts.append(f"limit {self.meta['limit']} per type")
        if self.summary:
            questions = self.summary.get("metrics", {}).get("questions")
            if questions is not None:
                parts.append(f"{questions} questions")
            failures = len(self.summary.get("failures") or [])
            parts.append(f"{failures} threshold(s) failed" if failures else "thresholds met")
        return " · ".join(parts)


def eval_runs_dir(settings: Settings) -> Path:
    return settings.index.home / "evals" / "runs"


def _read_json(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data


def list_eval_runs(settings: Settings) -> list[EvalRun]:
    """Every run directory under home/evals/runs, newest first."""
    folder = eval_runs_dir(settings)
    if not folder.is_dir():
        return []
    runs = []
    for path in folder.iterdir():
        if not path.is_dir() or not ((path / "summary.json").exists() or (path / "run.json").exists()):
            continue
        run = EvalRun(path, {})
        try:
            if (path / "run.json").exists():
                run.meta = _read_json(path / "run.json")
            if (path / "summary.json").exists():
                run.summary = _read_json(path / "summary.json")
        except (OSError, ValueError) as error:
            run.problem = str(error)
        runs.append(run)

    def started(run: EvalRun) -> str:
        return str((run.summary or run.meta).get("started") or "")

    return sorted(runs, key=lambda r: (started(r), r.name), reverse=True)


def resumable_runs(runs: list[EvalRun]) -> list[EvalRun]:
    """Unfinished runs that can be resumed: readable, of a known suite, and not being written now."""
    return [r for r in runs if r.summary is None and r.meta.get("suite") and r.problem is None and not r.in_progress]


def resume_request(run: EvalRun) -> dict:
    """The arguments of ``execute_run`` that resume ``run`` as it was started (suite, mode, limit, systems)."""
    from evals.runner import BASELINES

    meta = run.meta
    return {"suite": meta["suite"], "mode": meta.get("mode"), "limit": meta.get("limit"),
            "baselines": [s for s in meta.get("systems", []) if s in BASELINES],
            "answerers": list((meta.get("answerers") or {}).values()) or None, "out": run.path,
            "split": meta.get("split")}


def eval_results(run: EvalRun) -> list[dict]:
    """The run's per-question records (results.jsonl)."""
    from evals.report import load_results

    return load_results(run.path)


def suite_overview(name: str) -> dict:
    """The suite's description, its questions per type, and what is missing to run it (or None)."""
    from evals.suite import cases_for, corpus_paths, load_suite
    from evals.datasets import datasets_dir

    suite = load_suite(name)
    info = {"suite": suite, "types": {}, "missing": None}
    try:
        cases = cases_for(suite)
        missing = [str(p) for p in corpus_paths(suite) if not p.exists()]
        if suite.corpus == "reindex" and not (datasets_dir() / "seed").is_dir():
            missing.append(str(datasets_dir() / "seed"))
        if missing:
            raise FileNotFoundError(", ".join(missing))
        for case in cases:
            info["types"][case.type] = info["types"].get(case.type, 0) + 1
    except OSError as error:
        detail = error.filename or str(error)
        info["missing"] = (f"The data of the suite “{name}” is missing ({detail}). The datasets are read from "
                           f"{datasets_dir()}; set NEWSDESK_DATASETS to their folder.")
    return info


def new_run_dir(settings: Settings, suite: str) -> Path:
    """A folder name for a new run of ``suite`` (not created), unique under home/evals/runs."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = eval_runs_dir(settings) / f"{suite}-{stamp}"
    path, counter = base, 2
    while path.exists():
        path = base.with_name(f"{base.name}-{counter}")
        counter += 1
    return path


# --- runs in progress ----------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except (OSError, OverflowError):
        return False
    return True


def run_in_progress(path: Path) -> bool:
    """Whether a live process is writing the run folder ``path`` (its marker names one).

    A marker from another host cannot be checked and counts as live; an unreadable one, or one
    whose process has ended, is stale."""
    try:
        marker = _read_json(path / RUNNING_MARKER)
        pid = int(marker["pid"])
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if marker.get("host") != socket.gethostname():
        return True
    return _alive(pid)


@contextmanager
def claim_run(out: Path) -> Iterator[None]:
    """Marks ``out`` (created if needed) as being written by this process while the block runs.

    Raises ``RunInProgress`` when a live process holds it already. The marker is created whole
    and atomically (a hard link of a written file), so two sessions cannot both claim a folder."""
    out.mkdir(parents=True, exist_ok=True)
    marker = out / RUNNING_MARKER
    draft = out / f".running-{uuid.uuid4().hex}.part"
    draft.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}),
                     encoding="utf-8")
    try:
        for _attempt in range(2):
            try:
                os.link(draft, marker)
                break
            except FileExistsError:
                if run_in_progress(out):
                    raise RunInProgress(f"The run {out.name} is being written by another process.") from None
                marker.unlink(missing_ok=True)  # stale: its process has ended
        else:
            raise RunInProgress(f"The run {out.name} is being written by another process.")
    finally:
        draft.unlink(missing_ok=True)
    try:
        yield
    finally:
        marker.unlink(missing_ok=True)


Progress = Callable[[int, int, str], None]


def execute_run(settings: Settings, suite: str, *, mode: str | None = None, limit: int | None = None,
                baselines: list[str] | None = None, out: Path, answerers: list[str] | None = None,
                on_progress: Progress | None = None, split: str | None = None) -> tuple[Path, float]:
    """Runs (or resumes) ``suite`` into the folder ``out``; returns (the run folder, seconds it took).

    The folder is claimed while the run lasts (``RunInProgress`` if it is taken). A run that fails
    before writing anything leaves no empty folder behind; the error is raised as it came."""
    from evals.runner import SuiteRun

    try:
        with claim_run(out):
            runner = SuiteRun(settings, suite, mode=mode, limit=limit or None, out=out, baselines=baselines or [],
                              on_progress=on_progress, answerers=answerers, split=split)
            started = time.perf_counter()
            run_dir = runner.run()
            return run_dir, time.perf_counter() - started
    except RunInProgress:
        raise
    except Exception:
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # failed before asking anything: leave no empty run folder behind
        raise
