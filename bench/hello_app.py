"""FastAPI hello world, served as ``insertion-match serve`` serves the service (the same
uvicorn options: bench/bench_http.py compares the two).

With a sample answer (``SAMPLE.json``, a real ``POST /v1/recommendations`` answer), the app also
serves the **payload floor**: ``POST /v1/recommendations`` that validates the request body with
the service's own model (``RecommendationRequest``) and answers the sample, serialised again
from the service's response model at each request, without ranking, key or audit: what FastAPI
costs for this request and this answer, nothing of the service's own work.

    python bench/hello_app.py PORT [SAMPLE.json]
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"message": "Hello World"}


def add_payload_floor(sample_path: str) -> None:
    from fastapi import Response

    from insertion_match.service.schemas import RecommendationRequest, RecommendationResponse

    with open(sample_path, encoding="utf-8") as fh:
        sample = RecommendationResponse.model_validate_json(fh.read())

    @app.post("/v1/recommendations")
    async def floor(body: RecommendationRequest) -> Response:
        return Response(sample.model_dump_json(), media_type="application/json")


#: The options of ``insertion-match serve`` (service/cli.py: cmd_serve), one worker.
SERVE_OPTIONS = {
    "log_config": None, "access_log": False, "log_level": "info", "server_header": False,
    "timeout_keep_alive": 5, "timeout_graceful_shutdown": 10,
    "h11_max_incomplete_event_size": 16 * 1024,
}

if __name__ == "__main__":
    if len(sys.argv) > 2:
        add_payload_floor(sys.argv[2])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), **SERVE_OPTIONS)
