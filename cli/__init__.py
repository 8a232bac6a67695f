"""The ``newsdesk`` command line: one module per group of commands, composed here.

argparse, not click or typer: it is in the standard library, the commands are a flat list of
sub-commands with plain options, and every option already carries its ``--help`` text, so a
framework would add a dependency without making the code shorter. Errors a person can act on
(``NewsdeskError``) are one sentence on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
from typing import Sequence

from rich.console import Console

from cli import ask, catalog, evals, index, ingest, models, service, stories


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsdesk", description="Cited answers from your news articles.")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (index, catalog, ask, stories, evals, models, ingest, service):
        group.register(sub)
    return parser


def _settings():
    from index.runtime import configure_runtime
    from settings import Settings

    configure_runtime()
    return Settings()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    from errors import NewsdeskError

    try:
        return args.func(args, _settings(), out, err)
    except NewsdeskError as error:
        err.print(f"newsdesk: {error}", markup=False, highlight=False)
        return 2
    except KeyboardInterrupt:
        err.print("newsdesk: interrupted; the next run finishes what this one left")
        return 130
