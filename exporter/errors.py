"""Problems a user can cause, as values: each names a file, a line and a stable code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from exporter.codes import known


@dataclass(frozen=True, order=True)
class ContentError:
    """One problem at ``path:line[:column]``; line 0 means the file as a whole. ``code``
    names the kind of problem (see ``exporter.codes``); it takes no part in ordering."""

    path: str
    line: int
    column: int
    message: str
    code: str = field(compare=False, kw_only=True)

    def __post_init__(self) -> None:
        known(self.code)

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, order=True)
class ContentWarning:
    """Something at ``path:line`` worth fixing that does not stop a build."""

    path: str
    line: int
    message: str
    code: str = field(compare=False, kw_only=True)

    def __post_init__(self) -> None:
        known(self.code)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: warning: {self.message}"


class ExporterError(Exception):
    """Base of every error a user can cause; the CLI turns these into exit code 1.
    ``code`` names the kind of problem: the class's own, or one given when raised."""

    code = "error"

    def __init__(self, *args: object, code: str | None = None) -> None:
        super().__init__(*args)
        if code is not None:
            self.code = known(code)


class ContentErrors(ExporterError):
    """Every problem found in the content, sorted by path and line."""

    code = "content"

    def __init__(self, errors: Iterable[ContentError]) -> None:
        self.errors: tuple[ContentError, ...] = tuple(sorted(set(errors)))
        super().__init__("\n".join(str(e) for e in self.errors))


class OutputError(ExporterError):
    """The output path cannot be written (a folder, no permission, disk full...)."""

    code = "output-unusable"


class PackageReadError(ExporterError):
    """A file given to ``inspect`` is not a readable Anki package."""

    code = "package-unreadable"


class SelectionError(ExporterError):
    """The build's filters leave nothing to build."""

    code = "selection-empty"


class WorkerLost(ExporterError):
    """A worker process of a big build stopped without finishing (killed, out of memory)."""

    code = "worker-lost"
