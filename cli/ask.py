"""`newsdesk ask` and `chat`: a question in, a cited answer (or an honest refusal) out."""

from __future__ import annotations

import json

from rich.console import Console

from cli.options import json_option
from rag.types import first_per_article

NEAREST_SHOWN = 5  # closest articles listed under a refusal, as in the app


def _print_answer(answer, out: Console, streamed: bool) -> None:
    from rich.markup import escape

    if not streamed:
        style = "yellow" if answer.refused else ""
        out.print(escape(answer.answer), style=style or None, highlight=False)
    if answer.refused:
        if answer.retrieved:
            out.print("\n[bold]Closest articles:[/]")
            for e in first_per_article(answer.retrieved, NEAREST_SHOWN):
                date = e.published_at.date().isoformat() if e.published_at else "date unknown"
                out.print(f"  - {escape(e.title)} ({escape(e.source or 'unknown outlet')}, {date})", highlight=False)
        for note in answer.notes:  # e.g. "N new articles are not yet in semantic search"
            out.print(f"[dim]({escape(note)})[/]")
        return
    out.print("\n[bold]Sources[/]")
    for c in answer.citations:
        date = c.published_at[:10] if c.published_at else "date unknown"
        out.print(f"  [{c.n}] {escape(c.title)} ({escape(c.source or 'unknown outlet')}, {date})", highlight=False)
        if c.url:
            out.print(f"      {escape(c.url)}", highlight=False)
        out.print(f"      \"{escape(c.quote)}\"", style="italic", highlight=False)
        if c.also_reported_by:  # wire copies folded into this source (rag.wire)
            out.print(f"      [dim]{escape(also_reported_text(c))}[/]", highlight=False)
    for note in answer.notes:
        out.print(f"[dim]({escape(note)})[/]")


def also_reported_text(citation) -> str:
    """"also reported by: apnews.com, kjzz.org; also at: URL" (the same outlet's other URLs as "also at")."""
    outlets = list(dict.fromkeys(r.source or "unknown outlet" for r in citation.also_reported_by
                                 if not citation.source or r.source != citation.source))
    urls = [r.url for r in citation.also_reported_by if citation.source and r.source == citation.source and r.url]
    parts = (["also reported by: " + ", ".join(outlets)] if outlets else []) + \
        (["also at: " + ", ".join(urls)] if urls else [])
    return "; ".join(parts)


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

    llm = desk.settings.answer_mode_for(options.get("mode")) == "llm"
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
    mode = desk.settings.answer_mode_for(args.mode)
    model = f", {settings.llm.name}" if mode == "llm" else ""
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


def _answer_options(p) -> None:
    json_option(p, "the answer")
    p.add_argument("--k", type=int, default=None, help="evidence chunks (default NEWSDESK_TOP_K, 8)")
    p.add_argument("--since", help="only articles published on or after this date")
    p.add_argument("--until", help="only articles published on or before this date")
    p.add_argument("--source", action="append", help="only this outlet (repeatable), e.g. cnn.com")
    p.add_argument("--as-of", dest="as_of", help="answer as of this date: later articles are ignored and "
                                                "'this week' means the week before it")
    p.add_argument("--mode", choices=["llm", "extractive"], help="answerer (default: llm when configured)")


def register(sub) -> None:
    p = sub.add_parser("ask", help="answer one question with cited sources")
    p.add_argument("question", help="the question, in quotes")
    _answer_options(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="an interactive conversation with follow-up questions")
    _answer_options(p)
    p.set_defaults(func=cmd_chat)
