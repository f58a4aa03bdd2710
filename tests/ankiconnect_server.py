"""A stand-in for the AnkiConnect add-on (FooSoft/anki-connect, ``plugin/__init__.py`` and
``plugin/web.py``), which CI cannot install: its HTTP and JSON protocol, version 6, over a
real ``anki`` collection, doing for each action what the add-on does on Anki 26.x.

What it stands in for, and how faithfully:

- **The web layer** (``web.py``): ``POST`` of ``{action, version, params, key}``, answered HTTP
  200 with ``{"result": …, "error": …}``; an empty body gets ``AnkiConnect v.6``; a request
  the origin check refuses gets HTTP 403 with an empty body, except ``requestPermission``,
  which the web layer passes on with ``allowed`` and ``origin`` added to its params. A
  client that sends no ``Origin`` header (as ours) is always allowed by the real add-on:
  ``refuse=True`` stands in for a configuration that refuses it anyway.
- **The handler** (``AnkiConnect.handler``): the key check (``valid api key must be
  provided`` unless the key equals the configured ``apiKey``, ``requestPermission`` exempt),
  ``unsupported action`` for an action it does not have (``missing`` removes actions, as
  older releases lack them), every exception turned into ``{"result": null, "error":
  str(e)}``.
- **Two releases**, chosen with ``release``: ``"current"``, the add-on as AnkiWeb ships it
  since it left GitHub (``notesInfo`` gives each note's ``mod`` and ``profile``), and
  ``"4064fa1"``, its last commit on GitHub, which many people still run (``notesInfo``
  without ``mod`` or ``profile``: ``plugin/__init__.py`` at that commit; every other action
  push asks is the same there). ``RELEASES`` names both; the push tests run against each.
- **The actions** ``version``, ``requestPermission`` (granted, or denied as when the user
  clicks *No* in its prompt), ``deckNames``, ``findNotes``, ``notesInfo``, ``importPackage`` (the
  add-on's own ``AnkiPackageImporter(collection, path).run()``, which on 26.x is Anki's
  shim calling ``import_anki_package`` with ``merge_notetypes``, ``with_scheduling`` and
  ``with_deck_configs``), ``exportPackage`` (``AnkiPackageExporter`` with ``did`` and
  ``includeSched``: Anki's legacy-format export of one deck and its subdecks), ``suspend``,
  ``unsuspend``, ``addTags``, ``removeTags`` and ``sync`` (only counted: there is no AnkiWeb).

Not stood in for: Anki's GUI (the add-on runs requests on its main thread; here one thread
serves one request at a time, the same order of events), the permission prompt itself,
media actions and everything push does not ask.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from exporter.cli.ankiconnect import KEY_ENV, URL_ENV

# Resolved once here: Anki prints its deprecation notice on each lookup of these names.
_IMPORTER: Any = importlib.import_module("anki.importing").AnkiPackageImporter
_EXPORTER: Any = importlib.import_module("anki.exporting").AnkiPackageExporter


RELEASES = ("current", "4064fa1")  # the add-on on AnkiWeb today; its last GitHub commit
_default_release = ["current"]  # what Settings() models when no release is named


def default_release(name: str) -> None:
    """Make ``Settings()`` model release ``name`` (one of ``RELEASES``) from now on."""
    assert name in RELEASES, name
    _default_release[0] = name


@dataclass
class Settings:
    """How the stand-in add-on is configured, and what it was asked."""

    api_key: str | None = None  # its config's apiKey
    api_version: int = 6  # what ``version`` answers (5 and below: an old release)
    refuse: bool = False  # the origin check refuses this client
    missing: frozenset[str] = frozenset()  # actions this release does not have
    release: str = field(default_factory=lambda: _default_release[0])  # one of RELEASES
    note_mod: bool | None = None  # notesInfo reports each note's mod (None: as the release)
    asked: list[str] = field(default_factory=list)  # every action, in order
    searches: list[str] = field(default_factory=list)  # every findNotes query, in order
    exported: list[str] = field(default_factory=list)  # every deck exportPackage was asked
    paths: list[tuple[str, int]] = field(default_factory=list)  # (path, its folder's mode)
    synced: int = 0

    def __post_init__(self) -> None:
        assert self.release in RELEASES, self.release
        if self.note_mod is None:
            self.note_mod = self.release == "current"


class AnkiConnect:
    """The add-on's handler and actions over ``col`` (a real ``anki.collection.Collection``)."""

    def __init__(self, col: Any, settings: Settings) -> None:
        self.col = col
        self.settings = settings

    def handler(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("action", "")
        params = request.get("params", {})
        key = request.get("key")
        self.settings.asked.append(name)
        try:
            if key != self.settings.api_key and name != "requestPermission":
                raise Exception("valid api key must be provided")
            method = getattr(self, f"act_{name}", None)
            if method is None or name in self.settings.missing:
                raise Exception("unsupported action")
            return {"result": method(**params), "error": None}
        except Exception as exc:
            return {"result": None, "error": str(exc)}

    def act_version(self) -> int:
        return self.settings.api_version

    def act_requestPermission(self, origin: str, allowed: bool) -> dict[str, Any]:
        if not allowed:
            return {"permission": "denied"}  # the user answered No to the prompt
        return {
            "permission": "granted",
            "requireApikey": bool(self.settings.api_key),
            "version": self.settings.api_version,
        }

    def act_deckNames(self) -> list[str]:
        return [d.name for d in self.col.decks.all_names_and_ids()]

    def act_findNotes(self, query: str | None = None) -> list[int]:
        self.settings.searches.append(query or "")
        return [] if query is None else [int(n) for n in self.col.find_notes(query)]

    def act_notesInfo(self, notes: list[int]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for nid in notes:
            try:
                note = self.col.get_note(nid)
            except Exception:  # anki.errors.NotFoundError: the add-on answers {} for it
                result.append({})
                continue
            model = note.note_type()
            fields = {
                info["name"]: {"value": note.fields[info["ord"]], "order": info["ord"]}
                for info in model["flds"]
            }
            entry: dict[str, Any] = {
                "noteId": note.id,
                "tags": note.tags,
                "fields": fields,
                "modelName": model["name"],
                "cards": [card.id for card in note.cards()],
            }
            if self.settings.note_mod:
                entry["mod"] = note.mod
            if self.settings.release == "current":
                entry["profile"] = "User 1"
            result.append(entry)
        return result

    def act_importPackage(self, path: str) -> bool:
        self.settings.paths.append((path, os.stat(os.path.dirname(path)).st_mode & 0o777))
        _IMPORTER(self.col, path).run()
        self.col.models._clear_cache()
        return True

    def act_exportPackage(self, deck: str, path: str, includeSched: bool = False) -> bool:
        self.settings.exported.append(deck)
        found = self.col.decks.by_name(deck)
        if found is None:
            return False
        exporter = _EXPORTER(self.col)
        exporter.did = found["id"]
        exporter.includeSched = includeSched
        exporter.exportInto(path)
        self.settings.paths.append((path, os.stat(os.path.dirname(path)).st_mode & 0o777))
        return True

    def act_suspend(self, cards: list[int], suspend: bool = True) -> bool:
        cards = [c for c in cards if (self.col.get_card(c).queue == -1) != suspend]
        if not cards:
            return False
        if suspend:
            self.col.sched.suspend_cards(cards)
        else:
            self.col.sched.unsuspend_cards(cards)
        return True

    def act_unsuspend(self, cards: list[int]) -> None:
        self.act_suspend(cards, False)

    def act_addTags(self, notes: list[int], tags: str, add: bool = True) -> None:
        if add:
            self.col.tags.bulk_add(notes, tags)
        else:
            self.col.tags.bulk_remove(notes, tags)

    def act_removeTags(self, notes: list[int], tags: str) -> None:
        self.act_addTags(notes, tags, False)

    def act_sync(self) -> None:
        self.settings.synced += 1


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing, with one way to answer."""

    def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        """HTTP ``status`` with ``headers`` (default: only Content-Length) and ``body``."""
        self.send_response(status)
        sent = {"Content-Length": str(len(body))} if headers is None else headers
        for name, value in sent.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet, as the add-on


def _handler_class(addon: AnkiConnect) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        """The add-on's web layer: JSON in, JSON out, the origin check, HTTP 403."""

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            allowed = not addon.settings.refuse
            if not body:
                self._send(200, b"AnkiConnect v.6")
                return
            try:
                request = json.loads(body.decode("utf-8"))
            except ValueError:
                self._send(200, json.dumps(None).encode())
                return
            if not allowed and request.get("action") != "requestPermission":
                self._send(403, b"")
                return
            if request.get("action") == "requestPermission":
                params = request.setdefault("params", {})
                params["allowed"] = allowed
                params["origin"] = self.headers.get("Origin", "")
            self._send(200, json.dumps(addon.handler(request)).encode("utf-8"))

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/json")
            self.send_header("Access-Control-Allow-Origin", "http://localhost")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def answering(status: int, body: bytes, headers: dict[str, str] | None = None) -> type[Any]:
    """A server that is not AnkiConnect, answering every POST with ``status`` and ``body``
    (Content-Length unless a header list is given without it: then the body ends with the
    connection); the paths it was asked are its ``asked``."""
    seen: list[str] = []

    class Handler(QuietHandler):
        asked = seen

        def do_POST(self) -> None:
            seen.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.answer(status, body, headers)
            self.close_connection = True

    return Handler


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` serving on a free loopback port in a thread, one request at a time; its URL."""
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def ankiconnect(col: Any, settings: Settings | None = None) -> Iterator[tuple[str, Settings]]:
    """The stand-in add-on over ``col``: its URL and its settings (changeable meanwhile)."""
    chosen = settings or Settings()
    with serving(_handler_class(AnkiConnect(col, chosen))) as url:
        yield url, chosen


def own_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A test's environment of its own: no Anki address or key from the caller's shell
    (INTERVIEW_DECK_ANKI_URL, INTERVIEW_DECK_ANKI_KEY), and TMPDIR, where Anki's exports
    go, in the test's folder rather than the shared system one; that folder."""
    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.delenv(KEY_ENV, raising=False)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return temp


DRIPS = {
    # the status line, then the headers one byte at a time, never ending
    "headers": (b"HTTP/1.1 200 OK\r\n", b"X" * 500),
    # a chunked answer whose first chunk-size line never ends
    "chunk-size": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"0" * 500),
    # a chunked answer of one-byte chunks, never the last
    "chunks": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"1\r\n \r\n" * 100,
    ),
    # a status line that never ends
    "status": (b"", b"HTTP/1.1 200 OK " + b"x" * 500),
}


def dripping(start: bytes, drip: bytes) -> Callable[[socket.socket], None]:
    """A server that sends ``start``, then ``drip`` a byte every 20 ms, each byte well
    within any read timeout, until the client hangs up (a client that does not is told by
    the drip running out, in about ten seconds: the test then fails, never hangs)."""

    def serve(conn: socket.socket) -> None:
        conn.recv(65536)
        try:
            conn.sendall(start)
            for i in range(len(drip)):
                conn.sendall(drip[i : i + 1])
                with contextlib.suppress(BlockingIOError):
                    if conn.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b"":
                        return  # the client closed
                time.sleep(0.02)
        except OSError:
            return  # the client gave up, as it should

    return serve


@contextlib.contextmanager
def raw_serving(serve: Callable[[socket.socket], None]) -> Iterator[str]:
    """A loopback port whose connections ``serve`` handles, one at a time, in a thread (no
    HTTP server in between: it may send anything, as slowly as it likes); its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.05)
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                serve(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        done.set()
        thread.join()
        listener.close()
