#!/usr/bin/env python3
"""A fake OpenAI-compatible teacher for ecom-distill's fault checks (scripts/serve/distill_faults.sh).

Python standard library only. Serves POST /v1/chat/completions and GET /v1/models on 127.0.0.1; prints
"port N" on standard output (flushed) once it listens.

Modes:
  ok            answers UniversalNER's prompt with a fixed labelling: the names of KNOWN found in the passage,
                as Python tuples ("[]" when none)
  refuse        429 rate_limit_error on every request (Retry-After: 0)
  flaky         every other request (the 1st, 3rd, ...) 500 server_error; the others answered as in ok
  garbage       200 with a body that is not JSON
  die-after N   answers N requests as in ok, then exits (later connections are closed unanswered, then refused)

--log FILE appends one JSON line per request: {"n", "status", "passage"}. --delay S waits S seconds before each
answer (a slow teacher, so that a run lasts long enough to be killed part way: scripts/soak.sh).

Example: python3 scripts/serve/fake_endpoint.py --mode flaky --port 0 --log /tmp/requests.jsonl
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KNOWN = {
    "Alice": "person", "Bob": "person", "Carol": "person", "Dave": "person",
    "Paris": "city", "Tokyo": "city", "Berlin": "city",
    "Acme": "organization", "Globex": "organization",
}


def labelling(passage):
    found = [(name, t) for name, t in KNOWN.items() if name in passage]
    return "[" + ", ".join('("%s", "%s")' % pair for pair in found) + "]"


class State:
    def __init__(self, mode, limit, log, delay=0.0):
        self.mode = mode
        self.delay = delay
        self.limit = limit
        self.log = log
        self.lock = threading.Lock()
        self.requests = 0
        self.answered = 0
        self.taken = 0  # die-after: answers promised (taken under the lock before answering)
        self.dying = False


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def send_json(self, status, obj, headers=()):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def error(self, status, kind, message, code=None, headers=()):
            self.send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers)

        def record(self, n, status, passage):
            if state.log:
                with state.lock, open(state.log, "a") as f:
                    f.write(json.dumps({"n": n, "status": status, "passage": passage}) + "\n")

        def do_GET(self):
            if self.path.rstrip("/") == "/v1/models":
                self.send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model", "created": 0, "owned_by": "fake"}]})
            else:
                self.error(404, "invalid_request_error", "Invalid URL (GET %s)" % self.path)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self.error(404, "invalid_request_error", "Invalid URL (POST %s)" % self.path)
                return
            try:
                req = json.loads(raw)
                user = req["messages"][-1]["content"]
            except (ValueError, KeyError, IndexError, TypeError) as e:
                self.error(400, "invalid_request_error", "bad request: %s" % e)
                return
            passage = user.split("\nPassage: ", 1)[-1]
            if state.delay > 0:
                time.sleep(state.delay)
            with state.lock:
                state.requests += 1
                n = state.requests
                # die-after N: exactly N requests are answered, however many arrive at once (a slot is taken
                # here, under the lock, before answering); every later one finds the endpoint dead.
                dead = state.mode == "die-after" and (state.dying or state.taken >= state.limit)
                if state.mode == "die-after" and not dead:
                    state.taken += 1
            if dead:
                self.record(n, 0, passage)
                self.close_connection = True
                self.connection.close()
                return
            mode = state.mode
            if mode == "refuse":
                self.record(n, 429, passage)
                self.error(429, "rate_limit_error", "Rate limit reached (fake endpoint)", "rate_limit_exceeded", [("Retry-After", "0")])
                return
            if mode == "flaky" and n % 2 == 1:
                self.record(n, 500, passage)
                self.error(500, "server_error", "The server had an error while processing your request (fake, request %d)." % n)
                return
            if mode == "garbage":
                self.record(n, 200, passage)
                body = b"<html><body>Definitely not JSON</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                return
            answer = labelling(passage)
            self.record(n, 200, passage)
            self.send_json(200, {
                "id": "chatcmpl-fake-%d" % n, "object": "chat.completion", "created": int(time.time()),
                "model": req.get("model", "fake"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": len(user.split()), "completion_tokens": len(answer.split()),
                          "total_tokens": len(user.split()) + len(answer.split())},
            })
            if mode == "die-after":
                with state.lock:
                    state.answered += 1
                    if state.answered >= state.limit and not state.dying:
                        state.dying = True
                        # Exit shortly after the last answer is on its way (the client has read it by then).
                        threading.Timer(0.3, lambda: os._exit(0)).start()

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", required=True, choices=["ok", "refuse", "flaky", "garbage", "die-after"])
    p.add_argument("limit", nargs="?", type=int, help="N for die-after")
    p.add_argument("--port", type=int, default=0, help="port (0: any free one)")
    p.add_argument("--log", help="append one JSON line per request to this file")
    p.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    a = p.parse_args()
    if a.mode == "die-after" and (a.limit is None or a.limit < 1):
        p.error("die-after needs N >= 1")
    state = State(a.mode, a.limit or 0, a.log, a.delay)
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(state))
    print("port %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
