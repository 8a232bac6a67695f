"""`newsdesk eval` and `bench`: evaluation suites and benchmarks that print figures."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from cli.options import json_option


def cmd_eval(args, settings, out: Console, err: Console) -> int:
    if args.suite == "stories":
        return _stories_suite(args, settings)
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
    if args.home:
        settings = settings.updated(home=args.home)
    run = SuiteRun(settings, args.suite, mode=args.mode, limit=args.limit, out=args.out, baselines=baselines,
                   on_progress=update, answerers=answerers, judge=judge, split=args.split)
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


def _stories_suite(args, settings) -> int:
    from evals.story_report import format_report, run

    home = (args.home or settings.index.home) / "evals" / "corpora" / "articles"  # archive-qa's index of the corpus
    figures = run(home, settings, args.split or "all")
    print(json.dumps(figures, indent=2) if args.json else format_report(figures))
    return 0


def cmd_bench(args, settings, out: Console, err: Console) -> int:
    if args.bench == "stories":
        from evals.bench.stories import format_stories_bench, run_stories_bench

        home = (args.home or settings.index.home) / "evals" / "corpora" / "articles"
        figures = run_stories_bench(settings, home, sample=args.sample,
                                    on_progress=lambda text: err.print(text, markup=False, highlight=False))
        print(json.dumps(figures, indent=2) if args.json else format_stories_bench(figures))
        return 0
    if args.bench == "load":
        from evals.bench.load import run_load

        figures = run_load(settings, askers=args.askers, questions=args.questions, mode=args.mode)
    elif args.bench == "answer":
        from evals.bench.answer import run_answer_bench

        figures = run_answer_bench(settings, systems=args.systems, questions=args.questions,
                                   unanswerable=args.unanswerable, budgets=args.budgets,
                                   on_progress=lambda text: err.print(text, markup=False, highlight=False))
        if not args.json:
            print(_format_answer_bench(figures))
            return 0
    elif args.bench == "api":
        from evals.bench.api import format_api_bench, run_api_bench

        figures = run_api_bench(settings, chat_clients=args.chat_clients, stream_clients=args.stream_clients,
                                search_clients=args.search_clients, requests=args.requests, phase_s=args.phase_seconds,
                                writers=args.writers, write_interval_s=args.write_interval, work=args.work,
                                server_workers=args.server_workers, cpu_searches=args.cpu_searches,
                                postgres=args.postgres, pg_bin=args.pg_bin,
                                on_progress=lambda text: err.print(text, markup=False, highlight=False))
        if not args.json:
            print(format_api_bench(figures))
            return 0
    elif args.bench == "fresh":
        from evals.bench.fresh import run_fresh

        figures = run_fresh(settings, minutes=args.minutes, rate=args.rate, base=args.base, work=args.work,
                            drain_seconds=args.drain_seconds, question_interval=args.question_interval, console=err)
    elif args.bench == "scale":
        from evals.bench.scale import run_scale

        figures = run_scale(settings, sizes=args.sizes, console=err, work=args.work, keep=args.keep,
                            queries_only=args.queries_only)
    else:
        from evals.bench.index import run_index_benchmark

        figures = run_index_benchmark(settings, full=args.full, sample=args.sample, console=err)
    print(json.dumps(figures, indent=2) if args.json else _format_bench(figures))
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


def _numbers(value: str) -> list[int]:
    return [int(x) for x in value.split(",")]


def register(sub) -> None:
    p = sub.add_parser("eval", help="run an evaluation suite (evals/suites/NAME.toml)")
    p.add_argument("--suite", required=True, help="seed, realtimeqa, realtimeqa-gold, realtimeqa-llm, "
                                                  "rgb-counterfactual, reindex, archive-qa, archive-dev, stories, stories-latest")
    p.add_argument("--home", type=Path, help="the newsdesk home whose evals/corpora holds the suite's index (built "
                                             "once, reused by later runs; default NEWSDESK_HOME)")
    p.add_argument("--split", choices=["odd", "even"], help="only the questions with odd (tuning) or even "
                                                           "(held-out) ids")
    p.add_argument("--limit", type=int, help="at most N questions of each type")
    p.add_argument("--mode", choices=["llm", "extractive"], help="answerer (default: the suite's, else llm when "
                                                                 "configured)")
    p.add_argument("--out", type=Path, help="run directory (an existing one is resumed)")
    json_option(p, "the run's summary")
    p.add_argument("--compare", type=Path, metavar="RUN_DIR", help="print deltas against an earlier run")
    p.add_argument("--baseline", help="also run peers: bm25, llamaindex, or all (comma-separated)")
    p.add_argument("--answerers", help="newsdesk systems side by side, comma-separated: extractive, "
                                       "local:qwen2.5-coder-0.5b, local:qwen2.5-coder-1.5b, remote:MODEL")
    p.add_argument("--judge", metavar="SPEC", help="grade answers and citation support with an LLM judge, "
                                                   "e.g. local:qwen2.5-coder-1.5b (slow: outside CI)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="benchmarks that print figures")
    bench = p.add_subparsers(dest="bench", required=True)
    b = bench.add_parser("index", help="indexing throughput, no-op and one-change re-index, peak RSS, disk size")
    b.add_argument("--full", action="store_true", help="all 3,827 RealTime QA articles (about 30 minutes)")
    b.add_argument("--sample", type=int, default=1000, help="non-gold articles added to the 235 gold ones")
    json_option(b, "the figures")
    b = bench.add_parser("load", help="concurrent askers against the index in NEWSDESK_HOME: throughput, p50/p95, errors")
    b.add_argument("--askers", type=int, default=50, help="concurrent threads (default 50)")
    b.add_argument("--questions", type=int, default=500, help="questions asked in all (default 500)")
    b.add_argument("--mode", choices=["llm", "extractive"], default="extractive", help="answerer (default extractive)")
    json_option(b, "the figures")
    b = bench.add_parser("answer", help="extractive and the local models on the same questions: accuracy, refusals, "
                                        "time to first source, first token and whole answer")
    b.add_argument("--systems", type=lambda v: v.split(","), default=None,
                   help="comma-separated: extractive, local:qwen2.5-coder-0.5b, local:qwen2.5-coder-1.5b (default: all)")
    b.add_argument("--questions", type=int, default=12, help="open RealTime QA questions (a fixed shuffle)")
    b.add_argument("--unanswerable", type=int, default=4, help="unanswerable questions added")
    b.add_argument("--budgets", type=_numbers, default=None,
                   help="evidence token budgets to compare for the local models (default: NEWSDESK_LOCAL_EVIDENCE_TOKENS)")
    json_option(b, "the figures")
    b = bench.add_parser("scale", help="generated corpora of 10k/30k/100k articles: indexing, disk, RSS, query latency; "
                                       "with NEWSDESK_CATALOG_URL set, the same queries on a copy in that PostgreSQL "
                                       "catalog and Chroma server beside SQLite's")
    b.add_argument("--sizes", type=_numbers, default=[10_000, 30_000, 100_000],
                   help="corpus sizes, comma-separated (default 10000,30000,100000)")
    b.add_argument("--work", type=Path, help="folder for the generated corpora (reused) and indexes (default: a new one)")
    b.add_argument("--keep", action="store_true", help="keep each size's index in --work")
    b.add_argument("--queries-only", action="store_true", help="measure queries on the indexes kept in --work")
    json_option(b, "the figures")
    b = bench.add_parser("fresh", help="a stream of arriving articles: arrival -> answerable by keyword and -> "
                                       "embedded (p50/p95), query p95 quiet and under the stream, queue drained")
    b.add_argument("--minutes", type=float, default=10.0, help="length of the stream (default 10)")
    b.add_argument("--rate", type=float, default=1.0, help="articles a second (default 1)")
    b.add_argument("--base", type=int, default=3827, help="RealTime QA articles in the base index (default all 3,827)")
    b.add_argument("--work", type=Path, help="folder that keeps the base index between runs (default: a new one)")
    b.add_argument("--drain-seconds", type=float, default=300.0, help="how long to wait for the queue to drain")
    b.add_argument("--question-interval", type=float, default=0.0,
                   help="seconds from one question's start to the next's during the stream (default 0: back to back)")
    json_option(b, "the figures")
    b = bench.add_parser("api", help="the HTTP API on 127.0.0.1 (a copy of the index): search, chat and streaming "
                                     "clients with writers adding articles, on SQLite and on PostgreSQL: CPU per "
                                     "search, throughput, p50/p95 and errors against the CPU bound")
    b.add_argument("--chat-clients", type=int, default=50, help="concurrent chat clients, extractive (default 50)")
    b.add_argument("--stream-clients", type=int, default=20, help="concurrent streaming clients (default 20)")
    b.add_argument("--search-clients", type=int, default=20, help="concurrent /v1/search clients (default 20)")
    b.add_argument("--requests", type=int, default=200, help="requests per phase at most (default 200)")
    b.add_argument("--phase-seconds", type=float, default=120.0, help="no request starts later in a phase (default 120)")
    b.add_argument("--writers", type=int, default=2, help="clients adding articles during the answer phases (default 2)")
    b.add_argument("--write-interval", type=float, default=2.0, help="seconds between one writer's articles (default 2)")
    b.add_argument("--server-workers", type=int, default=1,
                   help="uvicorn worker processes of the SQLite deployment's server (default 1)")
    b.add_argument("--cpu-searches", type=int, default=40,
                   help="searches, one at a time, that measure the CPU a search costs (default 40)")
    b.add_argument("--no-postgres", dest="postgres", action="store_false",
                   help="skip the PostgreSQL deployment (two servers on a PostgreSQL catalog and a Chroma server)")
    b.add_argument("--pg-bin", type=Path, help="folder of PostgreSQL's binaries (default: Debian's PostgreSQL 15)")
    b.add_argument("--work", type=Path, help="folder for the index copy (default: the system's temporary folder)")
    json_option(b, "the figures")
    b = bench.add_parser("stories", help="stories on a copy of the corpus index: grouped from scratch, an arriving "
                                         "article assigned (p50/p95), timelines of the largest stories")
    b.add_argument("--home", type=Path, help="the newsdesk home whose evals/corpora/articles holds the corpus index "
                                             "(`newsdesk eval --suite archive-qa` builds it; default NEWSDESK_HOME)")
    b.add_argument("--sample", type=int, default=100, help="arriving articles timed (default 100)")
    json_option(b, "the figures")
    for parser in bench.choices.values():
        parser.set_defaults(func=cmd_bench)
