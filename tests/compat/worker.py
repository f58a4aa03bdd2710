"""Compatibility worker: run by one Anki version's own Python, it imports two packages into
a fresh collection and writes what it saw as JSON to a file.

Usage: python worker.py REQUEST.json   (keys: v1, v2 -- package paths, and optionally v3,
imported after v2; importer -- "backend" or "legacy"; deck -- the deck to review in;
folder -- an empty folder for the collection; result -- where to write the report)

It only observes; tests/test_compat.py (in the project's venv) decides what is right. It runs
under every Anki from 2.1.54 on, so it reaches each API through hasattr/try, and it imports
nothing but the standard library and ``anki``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import traceback
from typing import Any


def anki_version() -> str:
    try:
        from importlib.metadata import version

        return version("anki")
    except Exception:  # an unusual install: fall back to what anki says about itself
        import anki.buildinfo

        return str(anki.buildinfo.version)


def open_collection(folder: str) -> Any:
    from anki.collection import Collection

    return Collection(os.path.join(folder, "collection.anki2"))


def import_backend(col: Any, path: str) -> list[str]:
    """The Rust importer: Anki desktop's default since 2.1.55 and AnkiDroid's."""
    try:
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
    except ImportError:  # before 23.10 the backend call took just a path
        log = col.import_anki_package(path)
    else:
        log = col.import_anki_package(
            ImportAnkiPackageRequest(package_path=path, options=ImportAnkiPackageOptions())
        )
    log = getattr(log, "log", log)
    return [
        f"new={len(log.new)} updated={len(log.updated)} duplicate={len(log.duplicate)} "
        f"conflicting={len(log.conflicting)} first_field_match={len(log.first_field_match)} "
        f"missing_notetype={len(log.missing_notetype)}"
    ]


def import_legacy(col: Any, path: str) -> list[str]:
    """The old Python importer (Anki desktop up to 2.1.54 by default, an option later)."""
    import anki.lang

    anki.lang.set_lang("en_US")  # its log messages are translated; without a language it fails
    from anki.importing.apkg import AnkiPackageImporter

    importer = AnkiPackageImporter(col, path)
    importer.run()
    return [line for line in importer.log if not line.startswith("[")]


def get_note(col: Any, nid: int) -> Any:
    return col.get_note(nid) if hasattr(col, "get_note") else col.getNote(nid)


def get_card(col: Any, cid: int) -> Any:
    return col.get_card(cid) if hasattr(col, "get_card") else col.getCard(cid)


def rendered(card: Any) -> tuple[str, str]:
    if hasattr(card, "question"):
        return card.question(), card.answer()
    return card.q(), card.a()  # pragma: no cover - older than any version we test


def snapshot(col: Any) -> dict[str, Any]:
    """Every note (by GUID) with its fields, cards and their scheduling; note types; revlog;
    the media folder."""
    if hasattr(col.models, "_clear_cache"):
        col.models._clear_cache()
    notes: dict[str, Any] = {}
    for nid in sorted(col.find_notes("")):
        note = get_note(col, nid)
        model = col.models.get(note.mid)
        names = [f["name"] for f in model["flds"]]
        cards = []
        for cid in sorted(col.find_cards(f"nid:{nid}")):
            card = get_card(col, cid)
            question, answer = rendered(card)
            cards.append(
                {
                    "id": card.id,
                    "ord": card.ord,
                    "did": card.did,
                    "type": card.type,
                    "queue": card.queue,
                    "due": card.due,
                    "ivl": card.ivl,
                    "factor": card.factor,
                    "reps": card.reps,
                    "lapses": card.lapses,
                    "question": question,
                    "answer": answer,
                }
            )
        notes[note.guid] = {
            "id": note.id,
            "mid": note.mid,
            "mod": note.mod,
            "fields": dict(zip(names, note.fields, strict=True)),
            "tags": sorted(note.tags),
            "cards": cards,
        }
    notetypes = [{"id": m["id"], "name": m["name"]} for m in col.models.all()]
    media_dir = col.media.dir()
    media = {}
    for name in sorted(os.listdir(media_dir)):
        full = os.path.join(media_dir, name)
        if os.path.isfile(full):
            with open(full, "rb") as f:
                media[name] = hashlib.sha256(f.read()).hexdigest()
    revlog = [
        list(r) for r in col.db.all("select id, cid, ease, ivl, type from revlog order by id")
    ]
    return {"notes": notes, "notetypes": notetypes, "revlog": revlog, "media": media}


def review_first_card(col: Any, deck: str) -> dict[str, Any]:
    """Answer the first new card of ``deck`` 'Easy' with this version's own scheduler, so it
    becomes a review card with an interval of days (what a re-import must not reset)."""
    if hasattr(col.decks, "id_for_name"):
        did = col.decks.id_for_name(deck)
    else:
        did = col.decks.id(deck, create=False)
    if not did:
        raise RuntimeError(f"deck {deck!r} not found after import")
    col.decks.select(did)
    if hasattr(col, "set_v3_scheduler") and not col.v3_scheduler():
        # Versions before 23.10 default to the v2 scheduler, whose answerCard needs reset()
        # bookkeeping ('lrnCount'); their v3 scheduler is the path AnkiDroid and later
        # desktops use, so switch to it.
        col.set_v3_scheduler(True)
    sched = col.sched
    queued = sched.get_queued_cards().cards[0]
    card = get_card(col, queued.card.id)
    card.start_timer() if hasattr(card, "start_timer") else card.startTimer()
    # The card's scheduling states: `states` since 2.1.55, `next_states` before.
    states = queued.states if hasattr(queued, "states") else queued.next_states
    from anki.scheduler.v3 import CardAnswer

    answer = sched.build_answer(card=card, states=states, rating=CardAnswer.EASY)
    sched.answer_card(answer)
    return {"card": card.id, "note": card.nid, "scheduler": type(sched).__module__}


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    result: dict[str, Any] = {"version": anki_version(), "importer": request["importer"]}
    try:
        importers = {"backend": import_backend, "legacy": import_legacy}
        run_import = importers[request["importer"]]
        col = open_collection(request["folder"])
        try:
            result["log_v1"] = run_import(col, request["v1"])
            result["after_v1"] = snapshot(col)
            result["review"] = review_first_card(col, request["deck"])
            result["after_review"] = snapshot(col)
            result["log_v2"] = run_import(col, request["v2"])
            result["after_v2"] = snapshot(col)
            if request.get("v3"):
                result["log_v3"] = run_import(col, request["v3"])
                result["after_v3"] = snapshot(col)
        finally:
            col.close()
    except Exception:
        result["error"] = traceback.format_exc()
    # A file, not stdout: some versions print to stdout themselves.
    with open(request["result"], "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
