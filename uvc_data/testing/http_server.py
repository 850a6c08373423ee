"""A local JSON endpoint for tests: a request handler that reads and answers JSON, and a server on 127.0.0.1 on a
free port, run on a daemon thread for the length of a `with` block (the captioner and LLM-judge endpoint tests)."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator


class JsonHandler(BaseHTTPRequestHandler):
    """Subclass and write `do_POST` with `read_json()` and `send_json(...)`; request lines are not logged."""

    def read_json(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"null")

    def send_json(self, obj: Any, status: int = 200) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_chat_reply(self, text: str) -> None:
        """An OpenAI-compatible chat completion whose message is `text`."""
        self.send_json({"choices": [{"message": {"content": text}}]})

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler], path: str = "/v1") -> Iterator[str]:
    """Serve `handler` on 127.0.0.1 (a free port, one thread per request); yields the base URL + `path`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{path}"
    finally:
        server.shutdown()
        server.server_close()
