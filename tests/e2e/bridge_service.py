"""A misbehaving bridge answer service for the bridge end-to-end tests (stdlib only, run as a script).

One job: answer ``POST /v1/question`` the way a control file says - properly, slowly, with garbage,
with HTTP 500, with a schema-invalid answer or with bytes that are not HTTP at all - and record
every question and ``POST /v1/commit`` notification it receives, so a test in another network
namespace can steer it and read what reached it through files only.

    python bridge_service.py --listen 127.0.0.1:8068 --control mode.json --record DIR

``mode.json`` (re-read on every question; replace it atomically)::

    {"mode": "ok" | "slow" | "garbage" | "not-http" | "status-500" | "invalid",
     "delay": 5.0,                                  # seconds "slow" waits before answering
     "hosts": {"02:6b:00:00:0a:02": {"action": "assign", "client_ip": "10.67.0.50", ...}}}

Clients not in ``hosts`` get ``{"action": "none"}``. Every question is appended to
``DIR/questions.jsonl`` as ``{"mode": ..., "question": {...}}`` and every notification to
``DIR/commits.jsonl``, one JSON document per line, written whole before the reply goes out.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

INVALID_ANSWER = {"action": "assign", "client_ip": "10.67.0.300", "lease_time": -5}
GARBAGE_BODY = b'<html><body>{"action": "assign", oops</body></html>\x00\xff'
NOT_HTTP = b"SSH-2.0-OpenSSH_9.2 this is not an HTTP response\r\n\r\n"


class Recorder:
    """Appends JSON lines to files in one directory (one lock for every writer thread)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lock = threading.Lock()

    def add(self, name: str, document: Any) -> None:
        line = json.dumps(document, separators=(",", ":")) + "\n"
        with self.lock, open(self.directory / f"{name}.jsonl", "a", encoding="utf-8") as out:
            out.write(line)
            out.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real answer service
    control: Path
    recorder: Recorder

    def log_message(self, format: str, *args: Any) -> None:
        print(f"{self.address_string()} {format % args}", flush=True)

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/v1/commit":
            self.recorder.add("commits", json.loads(body))
            self._send(204, b"")
            return
        if self.path != "/v1/question":
            self._send(404, b'{"error": "no such path"}')
            return
        control = json.loads(self.control.read_text(encoding="utf-8"))
        mode = control.get("mode", "ok")
        question = json.loads(body)
        self.recorder.add("questions", {"mode": mode, "question": question})
        answer = control.get("hosts", {}).get(question.get("client_mac", ""), {"action": "none"})
        try:
            if mode == "ok":
                self._send(200, json.dumps(answer).encode())
            elif mode == "slow":
                time.sleep(float(control.get("delay", 5.0)))
                self._send(200, json.dumps(answer).encode())
            elif mode == "garbage":
                self._send(200, GARBAGE_BODY)
            elif mode == "not-http":
                self.wfile.write(NOT_HTTP)
                self.close_connection = True
            elif mode == "status-500":
                self._send(500, b'{"error": "database is on fire"}')
            elif mode == "invalid":
                self._send(200, json.dumps(INVALID_ANSWER).encode())
            else:
                raise ValueError(f"unknown mode {mode!r}")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the DHCP server gave up waiting (mode "slow")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:8068")
    parser.add_argument("--control", type=Path, required=True)
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    args.record.mkdir(parents=True, exist_ok=True)
    Handler.control = args.control
    Handler.recorder = Recorder(args.record)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    print(f"listening on {args.listen}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
