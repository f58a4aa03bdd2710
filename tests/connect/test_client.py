"""The AnkiConnect client is bounded and plain: the address is loopback unless named, every
request has a timeout and every answer a size cap, no redirect is followed and no proxy
used, and each way an answer can be wrong is one line with its code."""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ankiconnect_server import (
    DRIPS,
    QuietHandler,
    Settings,
    ankiconnect,
    answering,
    dripping,
    own_env,
    serving,
)
from exporter.cli.ankiconnect import client_for
from exporter.connect.address import DEFAULT_URL, Address, parse_address
from exporter.connect.anki_actions import AnkiNote, bank_query, search_text
from exporter.connect.client import Client
from exporter.connect.push import by_question, exported_notes, roots
from exporter.errors import AnkiError
from exporter.package.history import History, Stamp
from helpers import Anki


@pytest.fixture(autouse=True)
def own_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No Anki address or key from the caller's shell; a temp folder of the test's own."""
    return own_env(tmp_path, monkeypatch)


UNSUPPORTED = b'{"result": null, "error": "unsupported action"}'


def scripted(replies: dict[str, bytes]) -> type[Any]:
    """A server answering each action with its reply (others: unsupported action)."""

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.answer(200, replies.get(request["action"], UNSUPPORTED))

    return Handler


def client(url: str, **options: Any) -> Client:
    return Client(parse_address(url), **options)


def code_of(url: str, action: str = "version", **options: Any) -> tuple[str, str]:
    with pytest.raises(AnkiError) as caught:
        client(url, **options).call(action)
    return caught.value.code, str(caught.value)


def test_the_default_address_is_this_machine() -> None:
    """AnkiConnect's own default, 127.0.0.1:8765."""
    address = parse_address(DEFAULT_URL)
    assert address == Address("http", "127.0.0.1", 8765, "/")
    assert address.loopback
    assert str(address) == DEFAULT_URL


@pytest.mark.parametrize(
    ("url", "loopback", "shown"),
    [
        ("http://localhost", True, "http://localhost:8765"),
        ("http://127.8.9.10:9000/", True, "http://127.8.9.10:9000"),
        ("http://[::1]:8765", True, "http://[::1]:8765"),
        ("https://anki.example.org/connect", False, "https://anki.example.org:8765/connect"),
        ("http://192.168.1.20:8765", False, "http://192.168.1.20:8765"),
    ],
)
def test_addresses(url: str, loopback: bool, shown: str) -> None:
    """Host, port (default 8765) and path; loopback only for this machine's addresses."""
    address = parse_address(url)
    assert address.loopback is loopback
    assert str(address) == shown


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://127.0.0.1", "expected http://HOST:PORT"),
        ("127.0.0.1:8765", "expected http://HOST:PORT"),
        ("http://", "expected http://HOST:PORT"),
        ("http://me:pw@127.0.0.1", "a user or password in the address is never sent"),
        ("http://127.0.0.1:8765/?x=1", "an address with '?' or '#'"),
        ("http://127.0.0.1:99999", "the port must be a number up to 65535"),
    ],
)
def test_addresses_refused(url: str, why: str) -> None:
    """Anything but an http(s) address of a host is refused before anything is sent."""
    with pytest.raises(AnkiError, match=re.escape(why)) as caught:
        parse_address(url)
    assert caught.value.code == "anki-url-invalid"


@pytest.mark.parametrize(
    "host",
    [
        "127.1",
        "127.0.0.2",
        "0.0.0.0",
        "0",
        "2130706433",
        "0x7f.1",
        "0177.0.0.1",
        "localhost.",
        "LocalHost",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:2]",
    ],
)
def test_every_spelling_of_this_machine_is_this_machine(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Loopback is told by parsing the address as the resolver does (short and numeric
    IPv4 forms, IPv4-mapped IPv6, the unspecified address, a trailing dot), not by its
    spelling: no false 'not on this machine' note."""
    assert parse_address(f"http://{host}:8765").loopback
    client_for(f"http://{host}:8765", None)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "host",
    [
        "128.0.0.1",
        "10.1",
        "[::2]",
        "[::ffff:10.0.0.1]",
        "localhost.example.org",
        "127.0.0.1.nip.io",
    ],
)
def test_other_machines_stay_other_machines(host: str) -> None:
    """Addresses that only look like this machine's are not loopback."""
    assert not parse_address(f"http://{host}:8765").loopback


def test_another_machine_is_named_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """An address that is not this machine works only when named, and is said (nothing is
    sent yet: making the client connects to nothing)."""
    made = client_for("http://192.168.1.20:8765", "")
    assert made.key is None
    assert (
        "note: Anki at http://192.168.1.20:8765 is not on this machine" in capsys.readouterr().err
    )
    client_for(DEFAULT_URL, None)
    assert capsys.readouterr().err == ""


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        yield sock.getsockname()[1]


def test_every_request_has_a_timeout(silent_port: int) -> None:
    """A server that never answers is a timeout, not a hang."""
    code, message = code_of(f"http://127.0.0.1:{silent_port}", timeout=0.2)
    assert code == "anki-timeout"
    assert message.endswith(
        "did not answer 'version' within 0.2 s: is a dialog open in Anki? Close it and try again"
    )


def test_a_slow_drip_is_a_timeout_too() -> None:
    """The timeout bounds the whole answer, not each read."""

    class Drip(QuietHandler):
        def do_POST(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            try:
                for _ in range(20):
                    self.wfile.write(b" " * 10)
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass  # the client gave up, as it should

    with serving(Drip) as url:
        assert code_of(url, timeout=0.3)[0] == "anki-timeout"


@pytest.mark.parametrize("with_length", [True, False])
def test_every_answer_has_a_size_cap(with_length: bool) -> None:
    """An answer over the cap is refused, whether or not it says its length."""
    body = json.dumps({"result": "x" * 5000, "error": None}).encode()
    headers = None if with_length else {"Connection": "close"}
    with serving(answering(200, body, headers)) as url:
        code, message = code_of(url, answer_cap=1000)
        assert code == "anki-answer-too-large"
        assert message == "Anki's answer to 'version' is over 1000 bytes; refused"
        assert client(url, answer_cap=10_000).call("version") == "x" * 5000


def test_redirects_are_not_followed() -> None:
    """A redirect is not AnkiConnect's answer, and its target is never asked."""
    handler = answering(200, b'{"result": 6, "error": null}')
    with serving(handler) as target:
        elsewhere = answering(307, b"", {"Location": target + "/", "Content-Length": "0"})
        with serving(elsewhere) as url:
            code, message = code_of(url)
        assert code == "anki-not-ankiconnect"
        assert "HTTP 307 (redirects are not followed)" in message
    assert elsewhere.asked == ["/"]
    assert handler.asked == []


def test_no_proxy_is_used(monkeypatch: pytest.MonkeyPatch, anki: Anki) -> None:
    """Proxies named in the environment never see the request (nor can reroute it)."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    with ankiconnect(anki.col) as (url, _):
        assert client(url).connect() == 6


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b"<html>hello</html>", "with an answer that is not JSON"),
        (200, b"\xff\xfe", "with an answer that is not JSON"),
        (200, b'{"ok": true}', "with JSON without 'result' and 'error'"),
        (200, b"[" * 100_000 + b"]" * 100_000, "with an answer that is not JSON"),
        (500, b"", "with HTTP 500"),
    ],
)
def test_answers_that_are_not_ankiconnect(status: int, body: bytes, expected: str) -> None:
    """Anything but AnkiConnect's JSON is one line saying so."""
    with serving(answering(status, body)) as url:
        code, message = code_of(url)
    assert code == "anki-not-ankiconnect"
    assert f"answered 'version' {expected}, not as AnkiConnect does" in message


def one_connection(serve: Callable[[socket.socket], None], **options: Any) -> tuple[int, str, str]:
    """``code_of`` a loopback port whose one connection ``serve`` handles (the client made
    with ``options``): the port, the code and the message."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        sock.settimeout(60)  # a client that never connects fails the test, never hangs it
        port = sock.getsockname()[1]

        def accept() -> None:
            conn, _ = sock.accept()
            with conn:
                serve(conn)

        thread = threading.Thread(target=accept)
        thread.start()
        code, message = code_of(f"http://127.0.0.1:{port}", **options)
        thread.join()
    return port, code, message


@pytest.mark.parametrize("where", sorted(DRIPS))
def test_the_timeout_bounds_the_whole_request(where: str) -> None:
    """An answer that trickles in (its status line, headers, a chunk-size line or the
    chunks, a byte at a time, each read well within the timeout) ends at the request's
    timeout, which counts from connecting to the last byte of the body."""
    start, drip = DRIPS[where]
    _, code, message = one_connection(dripping(start, drip), timeout=0.5)
    assert code == "anki-timeout", message
    assert message.endswith(
        "did not answer 'version' within 0.5 s: is a dialog open in Anki? Close it and try again"
    )


def test_garbage_that_is_not_http() -> None:
    """A server speaking something other than HTTP."""

    def reply(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    _, code, message = one_connection(reply)
    assert code == "anki-not-ankiconnect"
    assert "no valid HTTP answer" in message


def test_a_bare_number_for_version_is_an_old_ankiconnect() -> None:
    """Releases before the {result, error} answers give the bare value: too old."""
    with serving(answering(200, b"4")) as url:
        code, message = code_of(url)
    assert code == "anki-connect-old"
    assert "speaks version 4 of its API; push needs 6" in message


def test_a_forbidden_answer_is_a_refused_permission() -> None:
    """HTTP 403, as AnkiConnect's origin check answers: where to allow this program."""
    with serving(answering(403, b"")) as url:
        code, message = code_of(url)
    assert code == "anki-permission-refused"
    assert "(webCorsOriginList)" in message


@pytest.mark.parametrize(
    ("error", "code", "expected"),
    [
        ("collection is not available", "anki-failed", "has no profile open: open your profile"),
        ("unsupported action", "anki-connect-old", "does not know the action 'version'"),
        (
            "boom\n  Traceback: deep\n",
            "anki-failed",
            "Anki could not version: boom Traceback: deep",
        ),
    ],
)
def test_errors_anki_reports(error: str, code: str, expected: str) -> None:
    """AnkiConnect's error messages, each on one line with what to do."""
    body = json.dumps({"result": None, "error": error}).encode()
    with serving(answering(200, body)) as url:
        got, message = code_of(url)
    assert got == code
    assert expected in message
    assert "\n" not in message


def test_an_unknown_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host name that does not resolve is named (the resolver answers as for any name
    under .invalid, without asking the machine's DNS)."""
    resolve = socket.getaddrinfo

    def unknown(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "no-such-host.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    code, message = code_of("http://no-such-host.invalid:8765")
    assert code == "anki-unreachable"
    assert "cannot find the host 'no-such-host.invalid'" in message


def test_the_handshake_checks_what_it_is_told(anki: Anki) -> None:
    """requestPermission must answer granted or denied, and version a number."""
    for body in (
        b'{"result": "yes", "error": null}',
        b'{"result": {"permission": "?"}, "error": null}',
    ):
        with serving(answering(200, body)) as url, pytest.raises(AnkiError) as caught:
            client(url).connect()
        assert caught.value.code == "anki-not-ankiconnect"
    with ankiconnect(anki.col, Settings(missing=frozenset({"requestPermission"}))) as (url, s):
        assert client(url).connect() == 6
        assert s.asked == ["requestPermission", "version"]


def test_version_must_be_a_number() -> None:
    """An older add-on without requestPermission whose version is not a number."""
    replies = {"version": b'{"result": "six", "error": null}'}
    with (
        serving(scripted(replies)) as url,
        pytest.raises(AnkiError, match="'version' with an answer that is not a number"),
    ):
        client(url).connect()


FOUND = b'{"result": [1, 2], "error": null}'
ENTRY = {
    "noteId": 1,
    "mod": 5,
    "modelName": "Interview Question",
    "tags": [],
    "cards": [11],
    "fields": {
        n: {"value": "x", "order": 0} for n in ("Question", "Answer", "Difficulty", "Role", "ID")
    },
}


def infos(*entries: object) -> bytes:
    return json.dumps({"result": list(entries), "error": None}).encode()


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        ({"findNotes": b'{"result": [1, "2"], "error": null}'}, "a list of note ids"),
        ({"findNotes": FOUND, "notesInfo": infos(ENTRY)}, "does not match the notes asked"),
        ({"findNotes": FOUND, "notesInfo": infos(ENTRY, 7)}, "an entry that is not an object"),
        (
            {"findNotes": FOUND, "notesInfo": infos(ENTRY, {**ENTRY, "tags": "a b"})},
            "an entry without",
        ),
    ],
)
def test_answers_of_the_wrong_shape(replies: dict[str, bytes], expected: str) -> None:
    """findNotes and notesInfo answers are checked before anything is read from them."""
    from exporter.connect.anki_actions import bank_notes

    with serving(scripted(replies)) as url, pytest.raises(AnkiError, match=expected) as caught:
        bank_notes(client(url), ["Deck"])
    assert caught.value.code == "anki-not-ankiconnect"


def test_notes_deleted_meanwhile_or_of_another_type_are_left_out() -> None:
    """notesInfo's {} (a note deleted since findNotes) and notes of another note type."""
    from exporter.connect.anki_actions import bank_notes, note_ids

    other = {**ENTRY, "noteId": 2, "modelName": "Basic"}
    replies = {
        "findNotes": b'{"result": [3, 1, 2, 1], "error": null}',
        "notesInfo": infos(ENTRY, other, {}),
    }
    with serving(scripted(replies)) as url:
        (only,) = bank_notes(client(url), ["Deck"])
        assert (only.id, only.mod, only.cards) == (1, 5, (11,))
        assert note_ids(client(url), []) == []


def test_an_export_answer_that_is_not_true_or_false() -> None:
    """exportPackage answers true or false, nothing else."""
    from exporter.connect.anki_actions import export_deck

    replies = {"exportPackage": b'{"result": "ok", "error": null}'}
    with (
        serving(scripted(replies)) as url,
        pytest.raises(AnkiError, match="not true or false"),
    ):
        export_deck(client(url), "Deck", Path("x.apkg"))


def test_a_reset_connection() -> None:
    """A connection reset while waiting for the answer: said, with how to start Anki."""

    def reset(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    port, code, message = one_connection(reset)
    assert code == "anki-unreachable"
    assert message == (
        f"cannot talk to Anki at http://127.0.0.1:{port} (Connection reset by peer): start "
        "Anki with the AnkiConnect add-on (code 2055492159)"
    )


def test_search_terms_are_escaped() -> None:
    """Wildcards, quotes and backslashes of deck names are taken literally by Anki."""
    assert search_text('a_b*"c\\d') == 'a\\_b\\*\\"c\\\\d'
    assert bank_query(["B", "A", "B"]) == '"note:Interview Question*" ("deck:A" OR "deck:B")'


def note(nid: int, qid: str, mod: int = 1) -> AnkiNote:
    fields = {"Question": "Q?", "Answer": "A.", "Difficulty": "easy", "Role": "R", "ID": qid}
    return AnkiNote(nid, mod, fields, (), (nid * 10,))


def test_one_note_per_question() -> None:
    """Two notes with one ID (a copy made in Anki): the one the last build made, else the
    older; notes with no ID are questions written in Anki, no question's."""
    history = History(Stamp("t", 1), {"a": Stamp("f", 1, id=20)})
    found = by_question(
        [note(10, "a"), note(20, "a"), note(30, "b"), note(5, "b"), note(7, "")], history
    )
    assert {q: n.id for q, n in found.items()} == {"a": 20, "b": 5}
    assert {q: n.id for q, n in by_question([note(20, "a"), note(10, "a")], None).items()} == {
        "a": 10
    }
    assert note(1, "<b>a&amp;b</b>&nbsp;").question_id == "a&b"


def test_export_roots() -> None:
    """A deck inside another is exported with it, not again."""
    assert roots(["A::B", "A", "C::D", "c::d::e", "Ab"]) == ["A", "Ab", "C::D"]


def test_an_export_anki_did_not_write(tmp_path: Path, anki: Anki) -> None:
    """Anki says it exported, but the file is not there (a sandboxed Anki): said."""
    from helpers import build_deck, make_bank

    package = build_deck(make_bank(tmp_path / "c"), output=tmp_path / "d.apkg").output
    anki.import_package(package)
    with ankiconnect(anki.col) as (url, _):
        made = client(url)

        class Lying(Client):  # says it exported, writes nothing
            def call(self, action: str, params: Any = None, *, slow: bool = False) -> object:
                if action == "exportPackage":
                    return True
                return super().call(action, params, slow=slow)

        with pytest.raises(AnkiError, match="does Anki run in a sandbox") as caught:
            exported_notes(Lying(made.address), ["Interview Questions::Tester"])
        assert caught.value.code == "anki-failed"

        class Gone(Client):  # the deck was deleted between the search and the export
            def call(self, action: str, params: Any = None, *, slow: bool = False) -> object:
                if action == "exportPackage":
                    return False
                return super().call(action, params, slow=slow)

        assert exported_notes(Gone(made.address), ["Interview Questions::Tester"]) == ()


def test_an_import_anki_did_not_do(tmp_path: Path) -> None:
    """importPackage answering false (no collection open) is said."""
    from exporter.connect.anki_actions import import_package

    with serving(answering(200, b'{"result": false, "error": null}')) as url:
        with pytest.raises(AnkiError, match="did not import") as caught:
            import_package(client(url), tmp_path / "deck.apkg")
        assert caught.value.code == "anki-failed"
