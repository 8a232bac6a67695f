"""Options several commands share."""

from __future__ import annotations


def json_option(parser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")
