"""Notes: a small Python 3 app (stdlib only) that keeps its data the way real apps do, inside its folder.

Sessions and notes live in a SQLite database (notes.sqlite3), uploads in uploads/. baton.json lists both
under "shared", so every generation reads and writes the workspace's own copy.
"""

import html
import json
import os
import secrets
import signal
import sys
import threading
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import store

GENERATION = os.environ.get("BATON_GENERATION", "")
COOKIE = "notesid"
UPLOADS = "uploads"
held = {}  # name -> threading.Event: write transactions held open on purpose (/hold, /release)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def user(self):
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        if COOKIE not in cookie:
            return None
        rows = store.read("SELECT user FROM sessions WHERE sid = ?", (cookie[COOKIE].value,))
        return rows[0][0] if rows else None

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def form(self):
        return {k: v[0] for k, v in parse_qs(self.body().decode()).items()}

    def query(self):
        return {k: v[0] for k, v in parse_qs(self.path.partition("?")[2]).items()}

    def send(self, status, value, headers=()):
        is_html = isinstance(value, str)
        data = (value if is_html else json.dumps(value)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8" if is_html else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, header in headers:
            self.send_header(name, header)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        route = {"/": self.page, "/notes": self.notes, "/info": self.info}.get(self.path.split("?")[0])
        self.send(404, {"error": "not found"}) if route is None else route()

    def do_POST(self):
        route = {
            "/login": self.login,
            "/logout": self.logout,
            "/notes": self.add_note,
            "/upload": self.upload,
            "/burst": self.burst,
            "/hold": self.hold,
            "/release": self.release,
            "/export": self.export,
        }.get(self.path.split("?")[0])
        self.send(404, {"error": "not found"}) if route is None else route()

    def page(self):
        user = self.user()
        notes = "".join(
            f"<li>{html.escape(text)} <small>({html.escape(who)}, generation {gen})</small></li>"
            for who, text, gen in store.read("SELECT user, text, generation FROM notes ORDER BY id")
        )
        account = (
            f'<p>Signed in as {html.escape(user)}. <form method="post" action="/logout"><button>Log out</button></form></p>'
            '<form method="post" action="/notes"><input name="text" required> <button>Add note</button></form>'
            if user
            else '<form method="post" action="/login"><input name="user" placeholder="name" required> <button>Log in</button></form>'
        )
        self.send(
            200,
            f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Notes</title></head>
<body><h1>Notes</h1>{account}<ul>{notes}</ul><footer>generation {html.escape(GENERATION or "none")}</footer></body></html>
""",
        )

    def notes(self):
        rows = store.read("SELECT id, user, text, generation FROM notes ORDER BY id")
        self.send(200, [{"id": i, "user": u, "text": t, "generation": g} for i, u, t, g in rows])

    def info(self):
        self.send(
            200,
            {
                "generation": GENERATION,
                "label": os.environ.get("NOTES_LABEL"),
                "cwd": os.getcwd(),
                "database": os.path.realpath(store.PATH),
                "journal": store.read("PRAGMA journal_mode")[0][0],
                "integrity": store.read("PRAGMA integrity_check")[0][0],
                "user": self.user(),
            },
        )

    def login(self):
        user = self.form().get("user", "").strip()
        if not user:
            return self.send(400, {"error": "a name is needed"})
        sid = secrets.token_hex(16)
        store.write([("INSERT INTO sessions (sid, user) VALUES (?, ?)", (sid, user))])
        self.send(200, {"user": user}, [("Set-Cookie", f"{COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax")])

    def logout(self):
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        if COOKIE in cookie:
            store.write([("DELETE FROM sessions WHERE sid = ?", (cookie[COOKIE].value,))])
        self.send(200, {"user": None}, [("Set-Cookie", f"{COOKIE}=; Max-Age=0; Path=/")])

    def add_note(self):
        user = self.user()
        if user is None:
            return self.send(401, {"error": "log in first"})
        text = self.form().get("text", "")
        store.write([("INSERT INTO notes (user, text, generation) VALUES (?, ?, ?)", (user, text, GENERATION))])
        self.send(201, {"user": user, "text": text, "generation": GENERATION})

    def upload(self):
        name = os.path.basename(self.query().get("name", ""))
        if not name:
            return self.send(400, {"error": "?name= is needed"})
        os.makedirs(UPLOADS, exist_ok=True)
        with open(os.path.join(UPLOADS, name), "wb") as f:
            f.write(self.body())
        self.send(201, {"saved": f"{UPLOADS}/{name}"})

    def burst(self):
        """n notes, each its own transaction: two generations doing this at once are concurrent writers."""
        q = self.query()
        for i in range(int(q.get("n", "100"))):
            store.write([("INSERT INTO notes (user, text, generation) VALUES (?, ?, ?)", ("burst", f"{q.get('tag', '')}{i}", GENERATION))])
        self.send(200, {"written": int(q.get("n", "100"))})

    def hold(self):
        """Opens a write transaction and keeps it open until /release: its journal or WAL file exists meanwhile."""
        name = self.query().get("name", "hold")
        started, release = threading.Event(), threading.Event()
        held[name] = release

        def run():
            db = store.connect()
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO notes (user, text, generation) VALUES ('hold', ?, ?)", (name, GENERATION))
            started.set()
            release.wait()
            db.execute("COMMIT")
            db.close()

        threading.Thread(target=run, daemon=True).start()
        started.wait()
        self.send(200, {"holding": name})

    def release(self):
        event = held.pop(self.query().get("name", "hold"), None)
        if event:
            event.set()
        self.send(200, {"released": event is not None})

    def export(self):
        """Writes a CSV next to the code: a file that is not shared data, so it goes with the snapshot."""
        os.makedirs("exports", exist_ok=True)
        rows = store.read("SELECT id, user, text FROM notes ORDER BY id")
        with open("exports/notes.csv", "w") as f:
            f.writelines(f"{i},{u},{t}\n" for i, u, t in rows)
        self.send(201, {"saved": "exports/notes.csv", "rows": len(rows)})


def main():
    store.init()
    if sys.argv[1:] == ["init"]:  # like "flask init-db": create the database, then exit
        return
    server = ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "3000"))), Handler)
    server.daemon_threads = True

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"notes generation {GENERATION or '-'} on port {server.server_address[1]}, database {os.path.realpath(store.PATH)}")
    server.serve_forever(poll_interval=0.1)
    server.server_close()


if __name__ == "__main__":
    main()
