"""The HTTP API: FastAPI routes that parse, call a service, render."""
