"""AnkiConnect's protocol (API version 6) over HTTP, bounded and plain.

A request is ``POST {"action", "version", "params", "key"}``; AnkiConnect answers HTTP 200
with ``{"result": …, "error": null}``, or ``{"result": null, "error": "message"}`` when the
action failed (a missing key is the error ``valid api key must be provided``). Every request
has a timeout and every answer a size cap; the answer must be that JSON. The connection is
made with ``http.client`` to the address given and nowhere else: no proxy from the
environment, no redirect followed, no shell. Each failure becomes an ``AnkiError`` whose one
line says what to do.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from exporter.connect.address import Address
from exporter.errors import AnkiError
from exporter.files import MiB

API_VERSION = 6  # the protocol this client speaks; older add-ons answer another shape
ADDON_CODE = "2055492159"  # AnkiConnect on AnkiWeb: Tools -> Add-ons -> Get Add-ons
START = f"start Anki with the AnkiConnect add-on (code {ADDON_CODE})"
UPDATE = "update AnkiConnect in Anki (Tools → Add-ons → Check for Updates) and restart Anki"
CONFIG = "Tools → Add-ons → AnkiConnect → Config"
QUICK = 30.0  # seconds for a question to Anki
SLOW = 600.0  # seconds for an import or export of a whole package
ANSWER_CAP = 64 * MiB  # an answer larger than this is refused (notes are asked in batches)
_NO_KEY = "valid api key must be provided"
_UNSUPPORTED = "unsupported action"
_NO_COLLECTION = "collection is not available"


@dataclass(frozen=True)
class Client:
    """Asks the AnkiConnect at ``address``; ``key`` is its optional API key."""

    address: Address
    key: str | None = None
    timeout: float = QUICK
    slow_timeout: float = SLOW
    answer_cap: int = ANSWER_CAP

    def connect(self) -> int:
        """Make sure AnkiConnect is there, lets us in and is new enough; its API version.
        ``requestPermission`` needs no key and says whether one is required; ``version``
        then proves the key (add-ons from before ``requestPermission`` go straight to it)."""
        try:
            granted = self.call("requestPermission")
        except AnkiError as exc:
            if exc.code not in ("anki-connect-old", "anki-not-ankiconnect"):
                raise
            granted = None  # an add-on older than requestPermission: ``version`` will tell
        if granted is not None:
            if not isinstance(granted, dict) or granted.get("permission") not in (
                "granted",
                "denied",
            ):
                raise self.unexpected("requestPermission", "an unknown answer")
            if granted["permission"] == "denied":
                raise AnkiError(
                    f"AnkiConnect at {self.address} refused this program permission: allow it "
                    f"in {CONFIG} (webCorsOriginList, ignoreOriginList)",
                    code="anki-permission-refused",
                )
            if granted.get("requireApikey") and not self.key:
                raise self._key_error()
        version = self.call("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise self.unexpected("version", "an answer that is not a number")
        if version < API_VERSION:
            raise self.too_old(f"speaks version {version} of its API; push needs {API_VERSION}")
        return version

    def call(
        self, action: str, params: Mapping[str, object] | None = None, *, slow: bool = False
    ) -> object:
        """The ``result`` of ``action`` with ``params`` (``slow``: a package import or export,
        with the longer timeout); ``AnkiError`` for every way it can fail."""
        request: dict[str, object] = {
            "action": action,
            "version": API_VERSION,
            "params": dict(params or {}),
        }
        if self.key:
            request["key"] = self.key
        body = json.dumps(request, ensure_ascii=False).encode("utf-8")
        status, data = self._post(body, action, self.slow_timeout if slow else self.timeout)
        return self._result(action, status, data)

    def _post(self, body: bytes, action: str, timeout: float) -> tuple[int, bytes]:
        """One POST, within ``timeout`` seconds in all (connecting, sending, the status
        line, the headers and the body); the status and at most the cap."""
        address = self.address
        conn = _Connection(address, time.monotonic() + timeout)
        response: http.client.HTTPResponse | None = None
        try:
            conn.request(
                "POST",
                address.path,
                body=body,
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
            response = conn.getresponse()
            length = response.getheader("Content-Length")
            if length is not None and length.isdigit() and int(length) > self.answer_cap:
                raise self._too_large(action)
            chunks: list[bytes] = []
            total = 0
            while True:
                chunk = response.read1(min(1 << 16, self.answer_cap + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > self.answer_cap:
                    raise self._too_large(action)
            return response.status, b"".join(chunks)
        except TimeoutError:
            raise AnkiError(
                f"Anki at {address} did not answer '{action}' within {timeout:g} s: is a "
                "dialog open in Anki? Close it and try again",
                code="anki-timeout",
            ) from None
        except ConnectionRefusedError:
            raise AnkiError(
                f"nothing answers at {address} (Anki is not running, or has no AnkiConnect): "
                f"{START}",
                code="anki-unreachable",
            ) from None
        except socket.gaierror as exc:
            raise AnkiError(
                f"cannot find the host '{address.host}' of {address} ({exc.strerror}): check "
                "--anki-url / INTERVIEW_DECK_ANKI_URL",
                code="anki-unreachable",
            ) from None
        except (http.client.HTTPException, ValueError) as exc:
            what = f"no valid HTTP answer ({type(exc).__name__})"
            raise self.unexpected(action, what) from None
        except OSError as exc:
            raise AnkiError(
                f"cannot talk to Anki at {address} ({exc.strerror or exc}): {START}",
                code="anki-unreachable",
            ) from None
        finally:
            if response is not None:
                response.close()  # an answer that ends with the connection holds its socket
            conn.close()

    def _result(self, action: str, status: int, data: bytes) -> object:
        if status == 403:
            raise AnkiError(
                f"AnkiConnect at {self.address} refused this program (HTTP 403 Forbidden): "
                f"allow it in {CONFIG} (webCorsOriginList)",
                code="anki-permission-refused",
            )
        if status != 200:
            moved = " (redirects are not followed)" if 300 <= status < 400 else ""
            raise self.unexpected(action, f"HTTP {status}{moved}")
        try:
            reply = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise self.unexpected(action, "an answer that is not JSON") from None
        if not isinstance(reply, dict) or not {"result", "error"} <= reply.keys():
            if action == "version" and isinstance(reply, int) and not isinstance(reply, bool):
                raise self.too_old(f"speaks version {reply} of its API; push needs {API_VERSION}")
            raise self.unexpected(action, "JSON without 'result' and 'error'")
        error = reply["error"]
        if error is None:
            return reply["result"]
        message = " ".join(self.unquoted(str(error)).split())[:300]
        if message == _NO_KEY:
            raise self._key_error()
        if message == _UNSUPPORTED:
            raise self.too_old(f"does not know the action '{action}'")
        if message == _NO_COLLECTION:
            raise AnkiError(
                f"Anki at {self.address} has no profile open: open your profile in Anki and "
                "try again",
                code="anki-failed",
            )
        raise AnkiError(f"Anki could not {action}: {message}", code="anki-failed")

    def unquoted(self, text: str) -> str:
        """``text`` (an answer's words, which may quote the request) without the key."""
        if not self.key:
            return text
        for form in (self.key, json.dumps(self.key, ensure_ascii=False)[1:-1]):
            text = text.replace(form, "***")
        return text

    def _key_error(self) -> AnkiError:
        if self.key:
            return AnkiError(
                f"AnkiConnect at {self.address} refused the API key given: use the apiKey "
                f"of its config ({CONFIG})",
                code="anki-key-refused",
            )
        return AnkiError(
            f"AnkiConnect at {self.address} asks for an API key: set INTERVIEW_DECK_ANKI_KEY "
            f"(or pass --anki-key) to the apiKey of its config ({CONFIG})",
            code="anki-key-required",
        )

    def too_old(self, what: str) -> AnkiError:
        """The add-on lacks something push needs: ``what`` it does instead."""
        return AnkiError(
            f"the AnkiConnect at {self.address} is too old: it {what}; {UPDATE}",
            code="anki-connect-old",
        )

    def unexpected(self, action: str, what: str) -> AnkiError:
        """``action`` was answered with ``what``: not AnkiConnect's protocol."""
        return AnkiError(
            f"{self.address} answered '{action}' with {what}, not as AnkiConnect does: is "
            f"another program using that port? {START[0].upper() + START[1:]}",
            code="anki-not-ankiconnect",
        )

    def _too_large(self, action: str) -> AnkiError:
        cap = self.answer_cap
        limit = f"{cap // MiB} MiB" if cap >= MiB else f"{cap} bytes"
        return AnkiError(
            f"Anki's answer to '{action}' is over {limit}; refused",
            code="anki-answer-too-large",
        )


class _Connection(http.client.HTTPConnection):
    """An HTTP(S) connection to ``address`` whose every step, from connecting to the last
    byte of the answer, ends by ``deadline`` (a ``time.monotonic`` value): each connect,
    send and receive is given the time left, so an answer that trickles in a byte at a
    time (status line, headers, chunk sizes or body) is a ``TimeoutError`` at the
    deadline, not a read that never ends. http.client still speaks HTTP; only its socket
    is ours, made in ``connect`` (as a subclass for another transport does)."""

    def __init__(self, address: Address, deadline: float) -> None:
        super().__init__(address.host, address.port)
        self.https = address.scheme == "https"
        self.deadline = deadline

    def connect(self) -> None:
        """Connect (each of the host's addresses in turn, within the time left), for
        https with the TLS handshake, and hand http.client the bounded socket."""
        sock = self._reach()
        if self.https:
            import ssl  # here: AnkiConnect itself speaks plain http

            try:
                sock.settimeout(_left(self.deadline))  # the handshake as a whole, by CPython
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        self.sock = cast("socket.socket", _Bounded(sock, self.deadline))

    def _reach(self) -> socket.socket:
        error: OSError = ConnectionRefusedError(f"{self.host} has no address")
        for family, kind, proto, _, where in socket.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM
        ):
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(_left(self.deadline))
                sock.connect(where)
            except OSError as exc:
                sock.close()
                if isinstance(exc, TimeoutError):
                    raise
                error = exc
                continue
            return sock
        raise error


def _left(deadline: float) -> float:
    """The seconds left until ``deadline``; ``TimeoutError`` once none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


class _Bounded:
    """The part of a socket http.client uses (``sendall``, ``makefile``, ``close``), each
    send and receive given the time left until ``deadline``. As a socket does, it stays
    open while a file made from it is (http.client closes the connection before reading
    an answer that ends with it)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.files = 0
        self.closed = False

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self.sock.settimeout(_left(self.deadline))
            view = view[self.sock.send(view) :]

    def makefile(self, mode: str) -> io.BufferedReader:
        assert mode == "rb"  # http.client reads answers only
        self.files += 1
        return io.BufferedReader(_Reader(self))

    def recv_into(self, buffer: memoryview) -> int:
        self.sock.settimeout(_left(self.deadline))
        return self.sock.recv_into(buffer)

    def close(self, *, file: bool = False) -> None:
        """Close (``file``: a file made from it is closed); the socket once both are."""
        if file:
            self.files -= 1
        else:
            self.closed = True
        if self.closed and not self.files:
            self.sock.close()


class _Reader(io.RawIOBase):
    """The answer's bytes as a raw stream, for http.client's buffered reads."""

    def __init__(self, sock: _Bounded) -> None:
        super().__init__()
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._sock.recv_into(memoryview(buffer).cast("B"))

    def close(self) -> None:
        if not self.closed:
            self._sock.close(file=True)
        super().close()
