"""FastAPI hello world, served as ``insertion-match serve`` serves the service (the same
uvicorn options: bench/bench_http.py compares the two).

    python bench/hello_app.py PORT
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"message": "Hello World"}


#: The options of ``insertion-match serve`` (service/cli.py: cmd_serve), one worker.
SERVE_OPTIONS = {
    "log_config": None, "access_log": False, "log_level": "info", "server_header": False,
    "timeout_keep_alive": 5, "timeout_graceful_shutdown": 10,
    "h11_max_incomplete_event_size": 16 * 1024,
}

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), **SERVE_OPTIONS)
