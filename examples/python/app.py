"""A tiny Python 3 app (stdlib only) for Baton: a per-session counter, a logout, an event stream and a redirect.

It shows that a Baton worker can be any language that serves HTTP on $PORT.
"""

import html
import json
import os
import secrets
import signal
import threading
import time
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GENERATION = os.environ.get("BATON_GENERATION", "")
COOKIE = "pysid"
counts = {}  # session id -> count; lives as long as this process
counts_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive like a real server; every response has a length or is chunked

    def session_id(self):
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        sid = cookie[COOKIE].value if COOKIE in cookie else None
        with counts_lock:
            return sid if sid in counts else None

    def send(self, status, content_type, body, headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        route = {
            "/": self.page,
            "/count": self.count,
            "/logout": self.logout,
            "/events": self.events,
            "/redirect": self.redirect,
        }.get(path)
        if route:
            route()
        else:
            self.send(404, "text/plain", "not found\n")

    def page(self):
        sid = self.session_id()
        with counts_lock:
            count = counts.get(sid, 0)
        self.send(
            200,
            "text/html; charset=utf-8",
            f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Python counter</title></head>
<body>
<h1>Python counter</h1>
<p>Count: <b id="count">{count}</b> <button onclick="fetch('/count').then(r => r.json())
  .then(d => document.getElementById('count').textContent = d.count)">+1</button></p>
<p><a href="/logout">Log out</a></p>
<footer>generation {html.escape(GENERATION or "none")}</footer>
</body></html>
""",
        )

    def count(self):
        sid = self.session_id()
        headers = []
        if sid is None:  # the session starts with the first count, so probes and page views create none
            sid = secrets.token_hex(16)
            headers.append(("Set-Cookie", f"{COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax"))
        with counts_lock:
            counts[sid] = counts.get(sid, 0) + 1
            body = json.dumps({"count": counts[sid], "generation": GENERATION})
        self.send(200, "application/json", body, headers)

    def logout(self):
        sid = self.session_id()
        with counts_lock:
            counts.pop(sid, None)
        self.send(200, "text/plain", "logged out\n", [("Set-Cookie", f"{COOKIE}=; Max-Age=0; Path=/")])

    def events(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for n in range(1, 6):
                data = f"data: {json.dumps({'n': n, 'generation': GENERATION})}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                time.sleep(0.2)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing more to say

    def redirect(self):
        # Absolute, on the Host we were called on: the gateway must rewrite it to the tab's own host.
        host = self.headers.get("Host", "localhost")
        self.send(302, "text/plain", "", [("Location", f"http://{host}/count")])


def main():
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "3000"))
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True  # open event streams must not hold up the exit

    def stop(_signum, _frame):
        # shutdown() waits for serve_forever() to return, so it cannot run on the thread serving it.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"python counter generation {GENERATION or '-'} listening on http://{host}:{port}")
    server.serve_forever(poll_interval=0.1)  # notice a shutdown request quickly
    server.server_close()


if __name__ == "__main__":
    main()
