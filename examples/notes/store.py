"""The notes app's data: one SQLite database (users' sessions and notes), opened per request."""

import os
import sqlite3

PATH = os.environ.get("NOTES_DB", "notes.sqlite3")
# "wal" or "delete" (SQLite's default rollback journal); set in baton.json's env.
JOURNAL = os.environ.get("NOTES_JOURNAL", "delete")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, user TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notes (
  id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, text TEXT NOT NULL, generation TEXT NOT NULL
);
"""


def connect():
    # Autocommit mode: every write below takes the write lock up front (BEGIN IMMEDIATE), so that a busy
    # database waits for the other writer (up to the timeout) instead of failing.
    db = sqlite3.connect(PATH, timeout=30, isolation_level=None)
    db.execute(f"PRAGMA journal_mode={JOURNAL}")
    return db


def init():
    db = connect()
    db.executescript(SCHEMA)
    db.close()


def write(statements):
    """Runs (sql, params) pairs in one transaction."""
    db = connect()
    try:
        db.execute("BEGIN IMMEDIATE")
        for sql, params in statements:
            db.execute(sql, params)
        db.execute("COMMIT")
    finally:
        db.close()


def read(sql, params=()):
    db = connect()
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()
