"""The HTTP API: the second door over the application layer (FastAPI, served by uvicorn)."""
