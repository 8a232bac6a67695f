"""The Evaluations page: run a suite (evals/) with a progress bar; a run's metrics beside the baselines,
per question type, charts and threshold failures; every question with its gold answer, answer,
quoted citations and retrieved articles; earlier runs, and two runs compared.

Runs are folders under NEWSDESK_HOME/evals/runs (``evals/runs.py``); a finished one holds
summary.json. A run is executed in the session that started it: leaving the page stops it, and an
unfinished run can be resumed. The views of a run are in ``ui/eval_views.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from errors import NewsdeskError, RunInProgress
from evals.runs import (EvalRun, eval_runs_dir, execute_run, list_eval_runs, new_run_dir,
                        resumable_runs, resume_request, run_in_progress, suite_overview)
from settings import Settings
from ui.alerts import eval_error_text, show_error
from ui.eval_views import (eval_charts_section, eval_compare_section, eval_questions_section, eval_summary_section,
                           forget_stale_choice)
from ui.render import escape_md, number, seconds_text
from ui.resources import get_settings

log = logging.getLogger("newsdesk.app")

EVAL_BASELINES = {"bm25": "BM25 alone (fast)", "llamaindex": "llama-index starter (slow)"}
EVAL_SLOW_SUITES = {  # what makes a suite slow, told before it is started
    "realtimeqa": "Slow: it indexes the full corpus (3,827 articles, about 40 minutes the first time) and asks "
                  "every question; set a limit to try it.",
    "realtimeqa-gold": "A few minutes: it indexes the 235 gold articles the first time and asks every question.",
}
BUSY_RUN = "This run is being written by another session right now."


def execute_eval_run(settings: Settings, suite: str, *, mode: str | None, limit: int | None, baselines: list[str],
                     out: Path, answerers: list[str] | None = None, split: str | None = None) -> None:
    """Runs (or resumes) a suite into ``out`` with a progress bar; the outcome is shown after a rerun."""
    if run_in_progress(out):
        st.warning(BUSY_RUN)
        return
    bar = st.progress(0.0, text=f"Starting the {escape_md(suite)} suite…")

    def on_progress(done: int, total: int, label: str) -> None:
        fraction = min(max(done / total if total else 1.0, 0.0), 1.0)
        if label == "indexing corpus":
            text = f"Indexing the suite's corpus: {number(done)} of {number(total)} articles"
        else:
            text = f"{number(done)} of {number(total)} answers: {escape_md(label)}"
        bar.progress(fraction, text=text)

    try:
        run_dir, seconds = execute_run(settings, suite, mode=mode, limit=limit, baselines=baselines, out=out,
                                       answerers=answerers, on_progress=on_progress, split=split)
    except RunInProgress:  # claimed by another session since the check above
        bar.empty()
        st.warning(BUSY_RUN)
        return
    except Exception as error:
        bar.empty()
        if not isinstance(error, (NewsdeskError, OSError, ImportError)):  # a missing dataset or package: no traceback
            log.exception("newsdesk evaluation failed", exc_info=error)
        st.session_state["eval_result"] = {"kind": "error", "summary": eval_error_text(error)}
        return
    bar.empty()
    st.session_state["eval_result"] = {"kind": "success",
                                       "summary": f"Run {run_dir.name} finished in {seconds_text(seconds)}."}
    st.session_state["eval_run"] = run_dir.name
    st.session_state.pop("eval_compare", None)
    st.rerun()


def eval_run_controls(settings: Settings, runs: list[EvalRun]) -> dict | None:
    """The sidebar's "Run a suite" controls; returns what to run when the button is pressed."""
    from evals.suite import list_suites

    st.subheader("Run a suite")
    suites = list_suites()
    if not suites:
        st.error("No suite is declared in evals/suites.")
        return None
    suite_name = st.selectbox("Suite", suites, index=suites.index("seed") if "seed" in suites else 0,
                              key="eval_suite")
    try:
        info = suite_overview(suite_name)
    except Exception as error:  # an unreadable suite file
        st.error(escape_md(eval_error_text(error)), icon=":material/error:")
        return None
    suite = info["suite"]
    st.caption(escape_md(suite.description))
    if info["types"]:
        counts = ", ".join(f"{t} {number(n)}" for t, n in info["types"].items())
        st.caption(escape_md(f"{number(sum(info['types'].values()))} questions ({counts})"))
    if info["missing"]:
        st.error(escape_md(info["missing"]), icon=":material/error:")
    if suite_name in EVAL_SLOW_SUITES:
        st.warning(escape_md(EVAL_SLOW_SUITES[suite_name]), icon=":material/hourglass_top:")

    limit = st.number_input("Questions per type (0 = all)", min_value=0, max_value=100_000, value=0, step=1,
                            key="eval_limit", help="Asks the first N questions of each type, so every type is "
                                                   "still measured (the reindex steps always all run).")
    default_mode = suite.mode or (settings.answer_mode_for(None) if settings.llm.configured else "extractive")
    modes = ["default", "extractive"] + (["llm"] if settings.llm.configured else [])
    labels = {"default": f"Suite default ({default_mode})", "extractive": "Extractive (offline)", "llm": "LLM"}
    mode = st.radio("Answer mode", modes, format_func=labels.get, key="eval_mode")
    if not settings.llm.configured:
        st.caption("No LLM configured: runs answer in the extractive mode.")
    baselines = st.multiselect("Baselines", list(EVAL_BASELINES), format_func=EVAL_BASELINES.get,
                               key="eval_baselines", placeholder="newsdesk alone",
                               help="Peers asked the same questions on the same corpus.")
    if "llamaindex" in baselines:
        st.warning("The llama-index baseline is slow: it builds its own index of the suite's corpus with its "
                   "own splitter and embeds every chunk again.", icon=":material/hourglass_top:")
    st.caption("Keep this page open while a run lasts: leaving it or changing a control stops the run "
               "(an unfinished run can be resumed below).")
    pressed = st.button("Run the suite", key="eval_run_button", type="primary", icon=":material/play_arrow:",
                        disabled=bool(info["missing"]), width="stretch")

    resumable = resumable_runs(runs)
    resume = None
    if resumable:
        with st.expander(f"Unfinished runs ({len(resumable)})"):
            st.caption("Runs that stopped before the end: resuming asks only the questions not answered yet. "
                       "Do not resume a run that is still going on elsewhere (newsdesk eval in a terminal).")
            names = {r.name: r for r in resumable}
            forget_stale_choice("eval_resume", names)
            chosen = st.selectbox("Run", list(names), format_func=lambda n: names[n].label() if n in names else n,
                                  key="eval_resume")
            if st.button("Resume it", key="eval_resume_button", icon=":material/resume:"):
                resume = names[chosen]
    if resume is not None:
        return resume_request(resume)
    if pressed:
        return {"suite": suite_name, "mode": None if mode == "default" else mode, "limit": int(limit),
                "baselines": list(baselines), "answerers": None, "out": new_run_dir(settings, suite_name)}
    return None


def page() -> None:
    settings = get_settings()
    st.title("Evaluations")
    result = st.session_state.pop("eval_result", None)  # the outcome of the last run, shown once
    if result:
        (st.success if result["kind"] == "success" else st.error)(escape_md(result["summary"]))
    progress_area = st.container()

    try:
        runs = list_eval_runs(settings)
    except OSError as error:
        show_error(error)
        runs = []
    with st.sidebar:
        request = eval_run_controls(settings, runs)
    if request is not None:
        with progress_area:
            execute_eval_run(settings, request["suite"], mode=request["mode"], limit=request["limit"],
                             baselines=request["baselines"], out=request["out"], answerers=request.get("answerers"),
                             split=request.get("split"))
            result = st.session_state.pop("eval_result", None)  # a failure: shown here, at once
            if result:
                st.error(escape_md(result["summary"]), icon=":material/error:")

    finished = {r.name: r for r in runs if r.summary is not None}
    st.caption(f"Runs are kept in {escape_md(str(eval_runs_dir(settings)))}.")
    if not finished:
        st.info("No finished run yet: choose a suite in the sidebar and run it (the seed suite takes seconds).",
                icon=":material/monitoring:")
        return
    forget_stale_choice("eval_run", finished)
    name = st.selectbox("Run", list(finished), key="eval_run",
                        format_func=lambda n: finished[n].label() if n in finished else n)
    run = finished[name]
    unreadable = [r.name for r in runs if r.problem]
    if unreadable:
        st.caption(escape_md("Unreadable run folders (not shown): " + ", ".join(unreadable)))

    for title, section, args in (("Summary", eval_summary_section, (run,)), ("Charts", eval_charts_section, (run,)),
                                 ("Questions", eval_questions_section, (run,)),
                                 ("Compare two runs", eval_compare_section, (run, runs))):
        st.subheader(title)
        try:
            section(*args)
        except Exception as error:  # a damaged or hand-edited run folder: one message, the rest still shown
            log.exception("newsdesk UI error in the Evaluations page", exc_info=error)
            st.error(escape_md(f"This part of {run.name} could not be shown: {eval_error_text(error)}"),
                     icon=":material/error:")


if __name__ == "__main__":  # run by st.navigation (app.py) as this page's script
    page()
