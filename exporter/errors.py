"""Problems a user can cause, as values: each names a file, a line and a stable code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class ContentError:
    """One problem at ``path:line[:column]``; line 0 means the file as a whole. ``code``
    names the kind of problem (see ``exporter.errors``); it takes no part in ordering."""

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
    """Every problem found in the content, sorted by path and line; and the ``warnings``
    found in the same run (reported with them, never held back until the errors are fixed)."""

    code = "content"

    def __init__(
        self, errors: Iterable[ContentError], warnings: Iterable[ContentWarning] = ()
    ) -> None:
        self.errors: tuple[ContentError, ...] = tuple(sorted(set(errors)))
        self.warnings: tuple[ContentWarning, ...] = tuple(sorted(set(warnings)))
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


class AnkiError(ExporterError):
    """The running Anki could not be reached or asked (``push``, ``pull --from-anki``):
    one line saying what to do."""

    code = "anki-failed"


CODES: dict[str, str] = {
    # Finding and reading the content files
    "source-missing": "A path given (or a file in a folder) does not exist or cannot be reached.",
    "source-not-a-file": "A source is a device, FIFO or socket, not a file or folder.",
    "folder-without-yaml": "A folder given holds no .yaml or .yml file.",
    "folder-unreadable": "A content folder cannot be listed.",
    "folder-linked": "A link to a folder inside a content folder (not followed).",
    "file-unreadable": "A content file cannot be read (too large, not regular, I/O error).",
    "not-utf8": "A file is not UTF-8 (e.g. UTF-16, or stray bytes).",
    "file-empty": "A content file holds nothing, or only comments.",
    # YAML syntax
    "yaml-syntax": "Invalid YAML of another kind.",
    "yaml-multiple-documents": "A second YAML document ('---') in one file.",
    "yaml-tab-indentation": "A tab in the indentation.",
    "yaml-unclosed-quote": "Quoted text never closed.",
    "yaml-unclosed-bracket": "A '[' or '{' never closed.",
    "yaml-bad-start": "A value starts with a character YAML reserves (` @ ...).",
    "yaml-colon": "An unexpected ': ' (text with a colon not in quotes, or bad indentation).",
    "yaml-indentation": "Keys of one mapping do not line up.",
    "yaml-directive": "A line starting with '%' (a YAML directive).",
    "yaml-control-character": "A control character YAML does not allow.",
    "yaml-too-deep": "Lists or mappings nested more than 1000 levels.",
    "yaml-alias": "A YAML alias ('*name'), or text starting with '*'.",
    "yaml-merge-key": "A YAML merge key ('<<').",
    "yaml-tag": "An explicit YAML tag such as '!!python/object'.",
    # The content format
    "top-level-not-a-mapping": "The file is not a mapping with 'role' and 'questions'.",
    "not-a-mapping": "A question is not a mapping (key: value).",
    "key-not-text": "A key is not text (e.g. a number or a list).",
    "unknown-key": "A key the format does not know (with a did-you-mean).",
    "duplicate-key": "A key written twice in one mapping.",
    "missing-key": "A required key is missing.",
    "empty-value": "A text value is empty.",
    "wrong-type": "A value is not text (e.g. a number, true, a list).",
    "control-character": "A text holds a control character no card can hold.",
    "role-without-letters": "A role with no letter or digit (it names the role's tag).",
    "deck-empty-part": "A deck name with an empty part between '::'.",
    "deck-differs": "Two files name one deck differently (case or spaces only).",
    "questions-not-a-list": "'questions' is not a list.",
    "questions-empty": "'questions' is an empty list.",
    "id-not-slug": "An id that is not a lowercase slug.",
    "duplicate-id": "An id used twice, in one file or across files.",
    "difficulty-unknown": "A difficulty other than easy, medium or hard.",
    "guid-invalid": "A guid that is not an Anki note GUID.",
    "guid-duplicate": "A guid that is another question's note.",
    "tags-not-a-list": "'tags' is not a list.",
    "tag-not-text": "A tag that is not text.",
    "tag-not-slug": "A tag that is not a lowercase slug.",
    "tag-repeated": "A tag listed twice on one question.",
    "math-unclosed": "Math opened and never closed.",
    "math-command-refused": "A formula uses a TeX command that could run code or restyle a card.",
    "text-too-long": "A text value over 256 KiB (a question or answer that long is no card).",
    "key-point-not-inline": "A key point that is not one paragraph of inline text.",
    "key-point-repeated": "A key point listed twice on one question.",
    "follow-up-repeated": "A follow-up question listed twice on one question.",
    "list-too-long": "Over 100 key points or follow-ups on one question.",
    # Images
    "image-missing": "An image file that does not exist.",
    "image-outside": "An image path outside the content folder, or absolute.",
    "image-type-unsupported": "An image of a type cards cannot show.",
    "image-oversize": "An image over the size limit.",
    "image-not-what-it-claims": "An image whose bytes are not of the type its name says.",
    "image-unreadable": "An image that cannot be read, or is not a regular file.",
    "image-changed": "An image changed while the build ran.",
    # Warnings (never stop a build)
    "code-language-unknown": "Warning: a code block in a language with no highlighting.",
    "code-block-long": "Warning: a code block too long to highlight.",
    "key-point-long": "Warning: a key point longer than one fact to recall (200 characters).",
    # Build history (dist/NAME.lock.json)
    "history-unreadable": "The build history cannot be read.",
    "history-damaged": "The build history is not valid.",
    "history-foreign": "The build history belongs to another bank.",
    "history-ahead": "The build history was written by a newer version, or is ahead of the clock.",
    "history-full": "The build history has no note id left.",
    # Outputs
    "output-unusable": "The output cannot be written (no permission, disk full, bad name...).",
    "output-is-a-folder": "The output path is a folder.",
    "output-not-regular": "The output path is a device, FIFO, socket or a link to one.",
    "output-is-content": "The output path is one of the content files.",
    "output-named-like-content": "The output is named .yaml/.yml.",
    "output-inside-content": "The output lies inside a content folder.",
    "output-named-collection": "The output is named collection.apkg or *.colpkg.",
    "output-locked": "Another build is writing the same output.",
    "output-linked": "The build cache beside the output, or a file in it, is a symbolic link.",
    "output-stale": "build --check: the package or its history is not what SOURCES build.",
    "too-many-open-files": "The process may not open enough files (ulimit -n): raise the limit.",
    "out-of-memory": "The process ran out of memory.",
    # Other commands
    "selection-empty": "The build's filters leave no questions.",
    "package-unreadable": "A package given is not a readable Anki package.",
    "page-unreadable": "import-text: the page cannot be read.",
    "page-empty": "import-text: the page is empty.",
    "page-no-title": "import-text: the page has no title line.",
    "page-title-without-letters": "import-text: the title has no letter or digit.",
    "page-control-character": "import-text: a control character on the page.",
    "page-no-questions": "import-text: no 'Question N' blocks.",
    "page-count-mismatch": "import-text: the page's question count is wrong.",
    "page-numbering": "import-text: questions out of order.",
    "page-difficulty-missing": "import-text: a question without its 'Difficulty:' line.",
    "page-difficulty-unknown": "import-text: an unknown difficulty.",
    "page-answer-missing": "import-text: a question without its answer line.",
    "page-question-empty": "import-text: a question with no text.",
    "page-answer-empty": "import-text: a question with no answer.",
    "page-text-unwritable": "import-text: page text no content file shows as the page does.",
    "import-role-mismatch": "import-text: the file holds another role.",
    "import-prune-all": "import-text: --prune would remove every question of the file.",
    "pull-id-invalid": "pull: a note's ID field is not a valid id.",
    "pull-id-repeated": "pull: two notes are one question.",
    "pull-field-invalid": "pull: a field edited in Anki cannot go back into the YAML.",
    "pull-export-foreign": "pull: the export holds none of SOURCES' questions.",
    "content-changed": "pull --apply: a content file changed on disk while pull ran.",
    "content-read-only": "pull --apply: a content file to write is read-only.",
    "content-hard-linked": "pull --apply: a content file to write has other hard links.",
    "content-not-owned": "pull --apply: a content file to write is another user's.",
    # A running Anki through AnkiConnect (push, pull --from-anki)
    "anki-url-invalid": "--anki-url / INTERVIEW_DECK_ANKI_URL is not an http:// address.",
    "anki-key-invalid": "--anki-key / INTERVIEW_DECK_ANKI_KEY is not text (not UTF-8).",
    "anki-unreachable": "Nothing answers there: Anki is not running, or has no AnkiConnect.",
    "anki-timeout": "Anki did not answer in time (a dialog open in Anki?).",
    "anki-not-ankiconnect": "Something answers at the address, but not as AnkiConnect does.",
    "anki-connect-old": "The AnkiConnect add-on is too old for an action push needs.",
    "anki-permission-refused": "AnkiConnect refused this program permission.",
    "anki-key-required": "AnkiConnect asks for an API key and none was given.",
    "anki-key-refused": "AnkiConnect refused the API key given.",
    "anki-answer-too-large": "An answer from Anki is over the size limit.",
    "anki-failed": "Anki could not do what it was asked (its own message follows).",
    "anki-decks-missing": "pull --from-anki: Anki holds none of the bank's notes.",
    "push-conflict": "push: a question edited both in Anki and in the YAML since the last build.",
    "content": "Problems in the content (each listed with its own code).",
    "error": "Any other problem.",
}


def known(code: str) -> str:
    """``code``, refused (``ValueError``: a bug) unless it is in ``CODES``."""
    if code not in CODES:
        raise ValueError(f"unknown problem code {code!r}: add it to exporter.errors.CODES")
    return code
