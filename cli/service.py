"""`newsdesk serve`, `newsdesk mcp` and `newsdesk keys`: newsdesk as a service."""

from __future__ import annotations

import json

from rich.console import Console

from cli.options import json_option


def cmd_serve(args, settings, out: Console, err: Console) -> int:
    import os

    import uvicorn

    from api.app import check_bind, create_app
    from api.service import Service

    service_settings = settings.service
    host = args.host or service_settings.api_host
    port = args.port or service_settings.api_port
    workers = args.workers or service_settings.api_workers
    service = Service(settings)
    note = check_bind(host, service)
    if note:
        err.print(note, markup=False, highlight=False)
    err.print(f"newsdesk API on http://{host}:{port} (docs at /docs, MCP at /mcp), {workers} worker(s)",
              markup=False, highlight=False)
    if workers == 1:
        uvicorn.run(create_app(settings, service=service, host=host), host=host, port=port, log_level=args.log_level)
    else:
        # each worker builds its own app from the environment: pass on what this command was given
        os.environ.setdefault("NEWSDESK_HOME", str(settings.index.home))
        os.environ["NEWSDESK_API_HOST"] = host
        uvicorn.run("api.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level=args.log_level)
    return 0


def cmd_mcp(args, settings, out: Console, err: Console) -> int:
    from api.mcp_server import build_mcp
    from api.service import Service

    service = Service(settings)
    try:
        build_mcp(service).run("stdio")
    finally:
        service.close()
    return 0


def cmd_keys(args, settings, out: Console, err: Console) -> int:
    from api.keys import KeyStore

    store = KeyStore(settings.index.home)
    if args.action == "create":
        if not args.name:
            err.print("newsdesk keys create: give the key a NAME")
            return 2
        key = store.create(args.name, read_only=args.read_only)
        kind = "read-only" if args.read_only else "read-write"
        err.print(f"Created the {kind} key '{args.name}'. It is shown this once; newsdesk keeps only its hash:",
                  markup=False, highlight=False)
        print(key)
        return 0
    if args.action == "revoke":
        if not args.name:
            err.print("newsdesk keys revoke: give the key's NAME")
            return 2
        store.revoke(args.name)
        out.print(f"Revoked the key '{args.name}'.", markup=False, highlight=False)
        return 0
    keys = [k.public() for k in store.keys()]
    if args.json:
        print(json.dumps(keys))
        return 0
    if not keys:
        out.print("No API keys: `newsdesk serve` listens on 127.0.0.1 only. Create one with `newsdesk keys create NAME`.",
                  markup=False, highlight=False)
    for k in keys:
        state = f"revoked {k['revoked']}" if k["revoked"] else "active"
        out.print(f"{k['name']}  {'read-only' if k['read_only'] else 'read-write'}  created {k['created']}  {state}",
                  markup=False, highlight=False)
    return 0


def register(sub) -> None:
    """Adds the serve, mcp and keys commands."""
    p = sub.add_parser("serve", help="the HTTP API (OpenAI-compatible chat, articles, MCP at /mcp)")
    p.add_argument("--host", help="interface to listen on (default NEWSDESK_API_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default NEWSDESK_API_PORT, 8700)")
    p.add_argument("--workers", type=int, help="worker processes (default NEWSDESK_API_WORKERS, 1)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn's log level (default info)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("mcp", help="the MCP server over stdio (for Claude Desktop and other MCP clients)")
    p.set_defaults(func=cmd_mcp)

    p = sub.add_parser("keys", help="API keys: create NAME [--read-only], list, revoke NAME")
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("name", nargs="?", help="the key's name (create, revoke)")
    p.add_argument("--read-only", action="store_true", help="the key can ask and search, not add, remove or sync")
    json_option(p, "the keys (list)")
    p.set_defaults(func=cmd_keys)
