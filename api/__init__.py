"""newsdesk as a service: the HTTP API (FastAPI) and the MCP server."""
