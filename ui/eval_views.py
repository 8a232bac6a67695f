"""The Evaluations page's views of one run: summary, charts, per-question results, and two runs compared.

Questions, answers, quotes and titles come from the articles: they are shown through ``escape_md``
or in dataframes, like the chat. Each section may raise on a damaged run folder; the page shows
one message for it and goes on with the next section.
"""

from __future__ import annotations

import streamlit as st

from evals.report import expects_refusal
from evals.runs import EvalRun
from ui.alerts import eval_error_text
from ui.render import date_text, escape_md, highlight, link_md, moment_text, number, safe_href, seconds_text, \
    with_markers
from ui.resources import eval_results

EVAL_HEADLINE = [("retrieval.hit@10", "Hit@10"), ("retrieval.mrr@10", "MRR@10"), ("answers.accuracy", "Accuracy"),
                 ("answers.token_f1", "Token F1"), ("answers.judged_correct", "Judged correct"),
                 ("citations.verbatim", "Quotes verbatim"), ("citations.judged_support", "Judged support"),
                 ("refusal.recall", "Refusal recall"),
                 ("counterfactual.repeats_fake", "Repeats the fake")]  # each shown when the run measured it
EVAL_CHARTS = [("metrics_by_type.png", "Metrics by type"), ("latency.png", "Latency"),
               ("comparison.png", "Side by side")]
EVAL_SCORE_COLUMNS = ["accuracy", "token_f1", "judged_correct", "hit@10", "mrr@10", "citation_verbatim",
                      "citation_judged_support", "citation_precision"]
METRIC_FORMAT = "%.4g"  # metrics in tables (st.column_config's printf format)
# the order of metric groups in the tables (as summary.json lists them for one system)
_METRIC_GROUPS = ("questions", "retrieval.", "answers.", "citations.", "counterfactual.", "refusal.", "latency.",
                  "tokens.", "cost.")
# metrics where a smaller value is better (for the comparison's "better"/"worse")
_LOWER_IS_BETTER = ("latency.", "refusal.false_refusal_rate", "counterfactual.repeats_fake", "tokens.", "cost.")


def forget_stale_choice(key: str, options) -> None:
    """Drops a widget's remembered choice that is no longer among its options (another run, a filter)."""
    if key not in st.session_state:
        return
    value = st.session_state[key]
    if isinstance(value, list):
        kept = [v for v in value if v in options]
        if kept != value:
            st.session_state[key] = kept
    elif value is not None and value not in options:
        del st.session_state[key]


def metrics_frame(columns: dict[str, dict]):
    """Metrics as rows, one column per system (or type): numbers, for st.dataframe."""
    import pandas as pd

    names: list[str] = []
    for metrics in columns.values():
        names += [k for k in metrics if k not in names and isinstance(metrics[k], (int, float, type(None)))]
    names.sort(key=lambda n: next((i for i, group in enumerate(_METRIC_GROUPS) if n.startswith(group)),
                                  len(_METRIC_GROUPS)))  # stable: each group keeps the report's order
    rows = [{"metric": name, **{column: metrics.get(name) for column, metrics in columns.items()}} for name in names]
    return pd.DataFrame(rows, columns=["metric", *columns])


def show_metrics_table(columns: dict[str, dict], key: str) -> None:
    frame = metrics_frame(columns)
    config = {"metric": st.column_config.TextColumn("Metric", width="medium")}
    for column in columns:
        config[column] = st.column_config.NumberColumn(column, format=METRIC_FORMAT)
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config, key=key,
                 height=35 * (len(frame) + 1) + 3)  # every metric, no inner scrolling


def record_missed(record: dict) -> bool:
    """Not fully right: a score below 1, or refused when it should answer (or the reverse)."""
    scores = record.get("scores", {})
    if any(isinstance(scores.get(k), (int, float)) and scores[k] < 1 for k in
           ("accuracy", "hit@10", "citation_verbatim")):
        return True
    return bool(scores.get("refused")) != expects_refusal(record)


def eval_summary_section(run: EvalRun) -> None:
    summary = run.summary or {}
    details = [f"suite {summary.get('suite', '?')}", f"{summary.get('mode', '?')} mode",
               f"started {moment_text(summary.get('started'))}"]
    if summary.get("wall_seconds") is not None:
        details.append(seconds_text(summary["wall_seconds"]))
    if run.meta.get("limit"):
        details.append(f"limit {run.meta['limit']} per type")
    if run.meta.get("llm_model"):
        details.append(f"model {run.meta['llm_model']}")
    st.caption(escape_md(" · ".join(details)))

    metrics = summary.get("metrics") or {}
    headline = [(key, label) for key, label in EVAL_HEADLINE if isinstance(metrics.get(key), (int, float))]
    if headline:
        for column, (key, label) in zip(st.columns(len(headline)), headline):
            column.metric(label, number(metrics[key]), help=f"newsdesk, {key}")

    failures = summary.get("failures") or []
    for failure in failures:
        upper = str(failure.get("metric", "")).endswith("false_refusal_rate")
        questions = failure.get("questions") or []
        shown = ", ".join(map(str, questions[:20]))
        if len(questions) > 20:
            shown += f" and {len(questions) - 20} more"
        st.error(escape_md(f"Threshold failed: {failure.get('metric')} = {number(failure.get('value'))} "
                           f"({'at most' if upper else 'at least'} {failure.get('threshold')} required)")
                 + (f"  \nQuestions: {escape_md(shown)}" if shown else ""), icon=":material/rule:")
    if not failures and summary.get("thresholds"):
        met = ", ".join(f"{k} {v}" for k, v in summary["thresholds"].items())
        st.success(escape_md(f"All thresholds met: {met}"), icon=":material/check_circle:")

    left, right = st.columns(2)
    with left:
        st.markdown("**Systems side by side**")
        systems = summary.get("systems") or {}
        if systems:
            show_metrics_table(systems, key="eval_systems_table")
        else:
            st.caption("No results in this run.")
    with right:
        st.markdown("**By question type**")
        by_type = summary.get("by_type") or {}
        if by_type:
            for tab, (system, types) in zip(st.tabs([escape_md(s) for s in by_type]), by_type.items()):
                with tab:
                    show_metrics_table(types, key=f"eval_types_{system}")


def eval_charts_section(run: EvalRun) -> None:
    present = [(name, label) for name, label in EVAL_CHARTS if (run.path / name).is_file()]
    if not present:
        st.caption("This run has no charts.")
        return
    for tab, (name, label) in zip(st.tabs([label for _, label in present]), present):
        with tab:
            st.image(str(run.path / name))  # its own size (800 px): the labels stay readable


def eval_questions_section(run: EvalRun) -> None:
    try:
        records = eval_results(run)
    except Exception as error:
        st.error(escape_md(eval_error_text(error)), icon=":material/error:")
        return
    if not records:
        st.caption("No question was answered in this run.")
        return
    systems = list(dict.fromkeys(r["system"] for r in records))
    types = list(dict.fromkeys(r["type"] for r in records))
    forget_stale_choice("eval_filter_system", systems)
    forget_stale_choice("eval_filter_types", types)
    left, middle, right = st.columns(3)
    system = left.selectbox("System", systems, key="eval_filter_system")
    chosen_types = middle.multiselect("Question types", types, key="eval_filter_types", placeholder="All types")
    outcome = right.selectbox("Outcome", ["all", "missed", "right"], key="eval_filter_outcome",
                              format_func={"all": "All questions", "missed": "Missed (a score below 1 or a wrong "
                                           "refusal)", "right": "Fully right"}.get)
    search = st.text_input("Search the questions", key="eval_filter_search", placeholder="e.g. missile")
    needle = search.strip().lower()
    shown = [r for r in records if r["system"] == system and (not chosen_types or r["type"] in chosen_types)
             and (outcome == "all" or record_missed(r) == (outcome == "missed"))
             and (not needle or needle in str(r.get("question", "")).lower() or needle in str(r.get("id", "")).lower())]
    st.caption(f"{number(len(shown))} of {number(sum(r['system'] == system for r in records))} questions")
    if not shown:
        return
    rows = []
    for r in shown:
        scores = r.get("scores", {})
        row = {"id": r["id"], "type": r["type"], "question": r.get("question", ""),
               "gold": "; ".join(map(str, r.get("gold_answers") or [])) or "(refuse)",
               "answer": r.get("answer", ""), "refused": bool(r.get("refused")),
               "ok": not record_missed(r)}
        row.update({k: scores.get(k) for k in EVAL_SCORE_COLUMNS})
        row["ms"] = (r.get("timings_ms") or {}).get("total")
        rows.append(row)
    config = {"id": st.column_config.TextColumn("Id"), "type": st.column_config.TextColumn("Type"),
              "question": st.column_config.TextColumn("Question", width="large"),
              "gold": st.column_config.TextColumn("Gold"),
              "answer": st.column_config.TextColumn("Answer", width="large"),
              "refused": st.column_config.CheckboxColumn("Refused"), "ok": st.column_config.CheckboxColumn("Right"),
              "ms": st.column_config.NumberColumn("ms", format="%.0f")}
    config.update({k: st.column_config.NumberColumn(k, format="%.2f") for k in EVAL_SCORE_COLUMNS})
    st.dataframe(rows, hide_index=True, width="stretch", column_config=config, key="eval_questions_table")

    index = {r["id"]: r for r in shown}  # ids are unique per system; the choice stays when the system changes
    forget_stale_choice("eval_question", index)
    picked = st.selectbox("Show a question", list(index), key="eval_question",
                          format_func=lambda k: f"{k} — {str(index.get(k, {}).get('question', ''))[:90]}")
    if picked:
        with st.container(border=True):
            render_eval_record(index[picked])


def render_eval_record(record: dict) -> None:
    st.markdown(f"**{escape_md(record.get('question'))}**")
    meta = [record.get("id"), record.get("type"), record.get("system")]
    if record.get("as_of"):
        meta.append(f"as of {record['as_of']}")
    st.caption(escape_md(" · ".join(str(m) for m in meta if m)))
    gold = record.get("gold_answers") or []
    if gold:
        st.markdown("**Gold answer:** " + "; ".join(escape_md(str(g)) for g in gold))
    elif expects_refusal(record):
        st.markdown("**Gold answer:** none: the articles do not answer this, it should be refused.")
    citations = record.get("citations") or []
    st.markdown("**Answer**")
    if record.get("refused"):
        st.warning(escape_md(record.get("answer") or "Refused."), icon=":material/search_off:")
    else:
        st.markdown(with_markers(str(record.get("answer") or ""), {int(c["n"]) for c in citations if "n" in c}))
    scores = record.get("scores") or {}
    shown_scores = " · ".join(f"{k} {number(v)}" for k, v in scores.items())
    timings = record.get("timings_ms") or {}
    shown_timings = " · ".join(f"{k} {v:.0f} ms" for k, v in timings.items() if isinstance(v, (int, float)))
    st.caption(escape_md(f"Scores: {shown_scores}") + ("  \n" + escape_md(f"Time: {shown_timings}")
                                                        if shown_timings else ""))

    gold_ids = set(record.get("gold_article_ids") or [])
    if citations:
        st.markdown("**Citations**")
        for citation in citations:
            with st.container(border=True):
                meta = [escape_md(citation.get("source") or "unknown outlet"),
                        escape_md(date_text(citation.get("published_at")))]
                link = link_md(citation.get("url"))
                if link:
                    meta.append(link)
                if gold_ids:
                    meta.append("gold article" if citation.get("article_id") in gold_ids else "not a gold article")
                st.markdown(f":blue-badge[{int(citation.get('n', 0))}] "
                            f"**{escape_md(citation.get('title') or 'Untitled')}**  \n" + " · ".join(meta))
                st.markdown("> " + highlight(escape_md(str(citation.get("quote") or "").replace("\n", " "))))
    retrieved = record.get("retrieved") or []
    if retrieved:
        st.markdown("**Retrieved articles**")
        rows = [{"rank": i + 1, "title": r.get("title") or "Untitled", "gold": r.get("article_id") in gold_ids,
                 "score": r.get("score"), "link": safe_href(r.get("url")), "id": r.get("article_id")}
                for i, r in enumerate(retrieved)]
        st.dataframe(rows, hide_index=True, width="stretch", key="eval_retrieved_table", column_config={
            "rank": st.column_config.NumberColumn("Rank"),
            "title": st.column_config.TextColumn("Title", width="large"),
            "gold": st.column_config.CheckboxColumn("Gold"),
            "score": st.column_config.NumberColumn("Score", format=METRIC_FORMAT),
            "link": st.column_config.LinkColumn("Link", display_text="open"),
            "id": st.column_config.TextColumn("Id"),
        })


def _change(metric: str, delta: float) -> str:
    if delta == 0:
        return "same"
    better = delta < 0 if metric.startswith(_LOWER_IS_BETTER) else delta > 0
    return "better" if better else "worse"


def eval_compare_section(run: EvalRun, runs: list[EvalRun]) -> None:
    from evals.report import compare

    others = {r.name: r for r in runs if r.summary is not None and r.name != run.name}
    if not others:
        st.caption("Run a suite again to compare two runs.")
        return
    forget_stale_choice("eval_compare", others)
    chosen = st.selectbox("Compare this run with", list(others), index=None, key="eval_compare",
                          format_func=lambda n: others[n].label() if n in others else n,
                          placeholder="Choose another run")
    if not chosen:
        return
    other = others[chosen]
    if (other.summary or {}).get("suite") != (run.summary or {}).get("suite"):
        st.warning("These runs are of different suites: only questions with the same id are compared.")
    try:
        result = compare(run.path, other.path)
    except Exception as error:
        st.error(escape_md(eval_error_text(error)), icon=":material/error:")
        return
    mine = (run.summary or {}).get("metrics") or {}
    theirs = (other.summary or {}).get("metrics") or {}
    rows = [{"metric": k, "this run": mine.get(k), "other run": theirs.get(k), "delta": d, "change": _change(k, d)}
            for k, d in result["deltas"].items()]
    st.caption(escape_md(f"Newsdesk's metrics: {run.name} minus {other.name}."))
    st.dataframe(rows, hide_index=True, width="stretch", key="eval_deltas_table", column_config={
        "metric": st.column_config.TextColumn("Metric", width="medium"),
        "this run": st.column_config.NumberColumn("This run", format=METRIC_FORMAT),
        "other run": st.column_config.NumberColumn("Other run", format=METRIC_FORMAT),
        "delta": st.column_config.NumberColumn("Delta", format="%+.4g"),
        "change": st.column_config.TextColumn("Change"),
    })
    worse = result["worse"]
    if worse:
        st.markdown(f"**Questions that got worse ({len(worse)})**")
        st.dataframe([{"id": w["id"], "question": w["question"], "worse": ", ".join(w["worse"])} for w in worse],
                     hide_index=True, width="stretch", key="eval_worse_table", column_config={
                         "id": st.column_config.TextColumn("Id"),
                         "question": st.column_config.TextColumn("Question", width="large"),
                         "worse": st.column_config.TextColumn("Worse in")})
    else:
        st.success("No question got worse.", icon=":material/check_circle:")
