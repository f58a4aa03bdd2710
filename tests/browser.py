"""Headless Chromium (Debian's, driven by Playwright) and the checks a card must pass in it.

Shared by the browser tests and ``scripts/screenshots.py``, so the screenshots show cards
exactly as the tests see them.
"""

from __future__ import annotations

import mimetypes
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium tries to reach Google at every start.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
PAGE_URL = "http://card.test/"
# MathJax 3, as Anki desktop and AnkiDroid ship it, installed from npm by scripts/test and
# served to the page from disk under this prefix (nothing leaves the machine).
MATHJAX_DIR = Path(
    os.environ.get(
        "MATHJAX_DIR",
        Path(__file__).resolve().parent.parent / ".cache/mathjax/node_modules/mathjax/es5",
    )
)
# Where the Anki apps load MathJax from: their configuration (``js/mathjax.js``, read from
# the aqt wheel) names this folder, so the page loads it from here, served from disk.
MATHJAX_URL = PAGE_URL + "_anki/js/vendor/mathjax/"
ANKI_MATHJAX_CONFIG_URL = PAGE_URL + "_anki/js/mathjax.js"
# Anki desktop's own web files (its MathJax configuration, its reviewer's CSS), read at test
# time from the aqt wheel of the same version as the anki pin. aqt needs PyQt6 and Qt
# WebEngine, so it is not installed: ./scripts/test downloads the wheel alone into .cache/aqt.
AQT_DIR = Path(os.environ.get("AQT_DIR", Path(__file__).resolve().parent.parent / ".cache/aqt"))


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    if not CHROMIUM.exists():
        return (
            f"{CHROMIUM} not found: install Debian's chromium "
            "(apt-get install -y chromium; ./scripts/test does this)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install -e '.[test]'"
    return None


@contextmanager
def launch_chromium() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def missing_mathjax() -> str | None:
    """Why math cannot be typeset in the browser tests, or ``None`` when it can."""
    if not (MATHJAX_DIR / "tex-chtml-full.js").exists():
        return f"MathJax not found in {MATHJAX_DIR} (./scripts/test installs it from npm)"
    return None


def need_mathjax() -> None:
    """Skip a test that typesets formulas when MathJax is missing; fail it in CI, where
    ./scripts/test installs MathJax (a skip there would hide a broken setup)."""
    import pytest

    reason = missing_mathjax()
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)


def aqt_wheel() -> Path:
    """The aqt wheel that goes with the installed anki (same version)."""
    return AQT_DIR / f"aqt-{version('anki')}-py3-none-any.whl"


def missing_aqt() -> str | None:
    """Why Anki desktop's web files cannot be read here, or ``None`` when they can."""
    if not aqt_wheel().is_file():
        return f"{aqt_wheel()} not found (./scripts/test downloads it from PyPI)"
    return None


def need_aqt() -> None:
    """Skip a test that needs Anki desktop's web files when the aqt wheel is missing; fail
    it in CI, where ./scripts/test downloads the wheel."""
    import pytest

    reason = missing_aqt()
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)


@cache
def aqt_web_file(name: str) -> str:
    """One of Anki desktop's web files (``js/mathjax.js``, ``css/reviewer.css``, …), from
    the aqt wheel's ``_aqt/data/web/``."""
    need_aqt()
    with zipfile.ZipFile(aqt_wheel()) as wheel:
        return wheel.read(f"_aqt/data/web/{name}").decode("utf-8")


# The themes of each app, by the classes its card page's <body> gets. AnkiDroid
# (CardAppearance.getCssClasses, 2.23): night themes add "night_mode nightMode", its Dark
# theme also "ankidroid_dark_mode"; Black is its default night theme. Anki desktop
# (aqt/theme.py body_classes_for_card_ord): "isLin" (or isWin/isMac), "nightMode night_mode"
# at night, "fancy" unless minimalist mode.
ANKIDROID_THEMES = {
    "light": "",
    "dark": " night_mode nightMode ankidroid_dark_mode",
    "black": " night_mode nightMode",
}
DESKTOP_THEMES = {"light": " isLin fancy", "dark": " isLin nightMode night_mode fancy"}
# The page rules of AnkiDroid's card page that reach a card (flashcard.css, as of 2.23.3 and
# 2.24), written here from what they do: no margin on the body, 0.5 em around the content,
# and in night mode white text on black, on #303030 in the Dark theme. They outrank a card's
# `.card` rule (one class and a type selector against one class).
ANKIDROID_CSS = """
body { margin: 0; padding: 0; overflow-wrap: break-word; }
li { text-align: start; }
pre { text-align: left; }
body.night_mode { color: white; background-color: black; }
body.ankidroid_dark_mode { background-color: #303030; }
#content { margin: 0.5em; }
.mathjax-needs-to-render { visibility: hidden; }
"""
# What Anki desktop's webview adds between webview.css and reviewer.css (aqt/webview.py
# standard_css): the window colour on the body (webview.css defines --canvas per theme).
DESKTOP_CSS = "body { zoom: 1; background-color: var(--canvas); }"
# How both apps typeset once the card is in the page (AnkiDroid's card.js, desktop's
# reviewer.js): after MathJax's startup, the card's element only. Then the fonts MathJax asked
# for have to arrive before anything is measured.
TYPESET_JS = """() => MathJax.startup.promise
  .then(() => (MathJax.typesetClear(), MathJax.typesetPromise([document.getElementById("qa")])))
  .then(() => document.body.classList.remove("mathjax-needs-to-render"))
  .then(() => document.fonts.ready)"""


# The views every card is checked in: AnkiDroid's page on a 360-px phone in its light, Dark
# and Black themes, and Anki desktop's reviewer at 1280 px, light and dark.
VIEWS: dict[str, tuple[dict[str, int], bool, str]] = {
    "phone-light": (PHONE, False, "light"),
    "phone-dark": (PHONE, False, "dark"),
    "phone-black": (PHONE, False, "black"),
    "desktop-light": (DESKTOP, True, "light"),
    "desktop-dark": (DESKTOP, True, "dark"),
}


def view_document(anki_html: str, view: str, *, mathjax: bool = False) -> str:
    """``card_document`` for one of ``VIEWS`` (its viewport is ``VIEWS[view][0]``)."""
    _, desktop, theme = VIEWS[view]
    return card_document(anki_html, theme=theme, desktop=desktop, mathjax=mathjax)


def card_document(
    anki_html: str,
    *,
    night: bool = False,
    theme: str | None = None,
    desktop: bool = False,
    mathjax: bool = False,
) -> str:
    """Card HTML from Anki's backend in the page an Anki app shows it in: AnkiDroid's card
    page (``desktop`` false) or Anki desktop's reviewer, with the app's body classes and
    page CSS, in ``theme`` ("light", "dark", AnkiDroid's "black"; ``night`` alone picks the
    app's default night theme: Black on AnkiDroid), typeset by MathJax with Anki's own
    configuration when ``mathjax``."""
    theme = theme or ("light" if not night else "dark" if desktop else "black")
    if mathjax:
        aqt_web_file("js/mathjax.js")  # skips (fails in CI) here when the wheel is missing
    mathjax_tags = (
        f'<script src="{ANKI_MATHJAX_CONFIG_URL}"></script>'
        f'<script src="{MATHJAX_URL}tex-chtml-full.js"></script>'
        if mathjax
        else ""
    )
    if desktop:
        night_root = theme != "light"
        css = "".join(
            f"<style>{text}</style>"
            for text in (
                aqt_web_file("css/webview.css"),
                DESKTOP_CSS,
                aqt_web_file("css/reviewer.css"),
            )
        )
        return (
            f'<!doctype html><html class="{"night-mode" if night_root else ""}" dir="ltr" '
            f'data-bs-theme="{"dark" if night_root else "light"}"><head><title>Anki</title>'
            f'<meta charset="utf-8">{css}{mathjax_tags}</head>'
            f'<body class="card card1{DESKTOP_THEMES[theme]}">'
            '<div id="_mark" hidden>&#x2605;</div><div id="_flag" hidden>&#x2691;</div>'
            f'<div id="qa" dir="auto">{anki_html}</div></body></html>'
        )
    # AnkiDroid's card_template.html has no viewport tag: its WebView (wide viewport off, the
    # default) lays the page out at the screen's width, as this Chromium does at 360 px.
    classes = (
        "card card1" + ANKIDROID_THEMES[theme] + (" mathjax-needs-to-render" if mathjax else "")
    )
    return (
        '<!doctype html><html class="mobile android linux js"><head>'
        '<title>AnkiDroid Flashcard</title><meta charset="utf-8">'
        f"<style>{ANKIDROID_CSS}</style>{mathjax_tags}</head>"
        f'<body class="{classes}"><div id="content"><div id="qa">{anki_html}</div></div>'
        "</body></html>"
    )


class CardPage:
    """One reusable page. ``show`` serves HTML as ``PAGE_URL``; every other request is
    recorded and refused, so a test can assert that nothing left the page."""

    def __init__(self, browser: Any, *, device_scale_factor: float = 1) -> None:
        self.context = browser.new_context(viewport=PHONE, device_scale_factor=device_scale_factor)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self._html = ""
        self._file = ""
        self.media: dict[str, bytes] = {}  # file name -> bytes, served beside the card
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.context.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url == PAGE_URL:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self._html)
        elif url.startswith(MATHJAX_URL) and ".." not in url:
            route.fulfill(path=str(MATHJAX_DIR / url[len(MATHJAX_URL) :].split("?")[0]))
        elif url == ANKI_MATHJAX_CONFIG_URL:
            body = aqt_web_file("js/mathjax.js")
            route.fulfill(status=200, content_type="text/javascript", body=body)
        elif url.startswith(PAGE_URL) and url[len(PAGE_URL) :] in self.media:
            name = url[len(PAGE_URL) :]
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            route.fulfill(status=200, content_type=kind, body=self.media[name])
        elif url == self._file:
            route.continue_()
        else:
            route.abort()

    def show(
        self, html: str, viewport: dict[str, int], media: dict[str, bytes] | None = None
    ) -> None:
        """Load ``html`` at ``viewport`` size, with ``media`` files served beside it (as Anki
        serves its media folder); ``requests`` then lists what the load asked for. When the
        page typesets math, wait until MathJax has finished."""
        self.page.set_viewport_size(viewport)
        self._html = html
        self.media = dict(media or {})
        self.requests.clear()
        self.page.goto(PAGE_URL, wait_until="load")
        if MATHJAX_URL in html:
            self.page.evaluate(TYPESET_JS)
        self.page.evaluate(
            "() => Promise.all([...document.images].map(i => i.decode().catch(() => null)))"
        )

    def _typeset(self) -> None:
        """Wait until MathJax has typeset the page."""
        self.page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
        )
        self.page.evaluate("() => MathJax.startup.promise")

    def outside_requests(self) -> list[str]:
        """Requests other than the page, its media and the local MathJax."""
        local = [PAGE_URL, ANKI_MATHJAX_CONFIG_URL, *(PAGE_URL + name for name in self.media)]
        return [u for u in self.requests if u not in local and not u.startswith(MATHJAX_URL)]

    def open_file(self, path: Path, viewport: dict[str, int]) -> None:
        """Load a file from disk, as a user double-clicking it would."""
        self.page.set_viewport_size(viewport)
        self.requests.clear()
        self._file = path.resolve().as_uri()
        self.page.goto(self._file, wait_until="load")
        if self.page.evaluate("() => 'MathJax' in window"):
            self._typeset()

    def measure(self, root: str = "body") -> dict[str, Any]:
        """Overflow, text contrast and badges of the elements under ``root``."""
        result: dict[str, Any] = self.page.evaluate(MEASURE_JS, root)
        return result

    def close(self) -> None:
        self.context.close()


# Contrast per WCAG 2: relative luminance of sRGB colours, with the text colour blended over
# the background it sits on. The background is found by walking up from the element to the
# first opaque one, compositing any translucent layers on the way.
MEASURE_JS = """
(rootSelector) => {
  const parse = (css) => {
    const m = css.match(/^rgba?\\(([^)]+)\\)$/);
    if (!m) throw new Error("unexpected colour format: " + css);
    const v = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1 };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) layers.push(c);
      if (c.a >= 1) break;
    }
    let base = { r: 255, g: 255, b: 255, a: 1 };  // the canvas, if nothing is opaque
    for (let i = layers.length - 1; i >= 0; i--) base = over(layers[i], base);
    return base;
  };
  const lum = (c) => {
    const f = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const root = document.querySelector(rootSelector);
  const texts = [];
  for (const el of root.querySelectorAll("*")) {
    const own = Array.from(el.childNodes)
      .filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent).join("").trim();
    const style = getComputedStyle(el);
    if (!own || style.display === "none" || style.visibility === "hidden") continue;
    if (parseFloat(style.opacity) < 1) throw new Error("opacity is not measured: " + own);
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    texts.push({
      tag: el.tagName.toLowerCase(), cls: el.className, text: own.slice(0, 40),
      ratio: ratio(fg, bg), fontSize: parseFloat(style.fontSize),
      lineHeight: parseFloat(style.lineHeight) || null,
    });
  }
  const badges = Array.from(root.querySelectorAll(".iq-badge")).map((b) => ({
    text: b.textContent.trim(),
    dots: getComputedStyle(b, "::before").content,
    visible: b.getBoundingClientRect().width > 0,
    ratio: ratio(over(parse(getComputedStyle(b).color), background(b)), background(b)),
  }));
  const doc = document.documentElement;
  return {
    scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth,
    texts, badges,
    bodyBackground: getComputedStyle(document.body).backgroundColor,
  };
}
"""


# Wrapped code: for every source line (``.iq-line``) of every <pre>, where its first
# non-space character sits and where each visual row after the first starts. Rows are found
# from the characters' boxes: a character more than half a line below the row's top starts
# the next row.
CODE_LINES_JS = """
() => Array.from(document.querySelectorAll("pre"), (pre) => {
  const style = getComputedStyle(pre);
  const contentLeft = pre.getBoundingClientRect().left + pre.clientLeft
    + parseFloat(style.paddingLeft);
  const contentWidth = pre.clientWidth - parseFloat(style.paddingLeft)
    - parseFloat(style.paddingRight);
  const lines = Array.from(pre.querySelectorAll(".iq-line"), (line) => {
    const lineHeight = parseFloat(getComputedStyle(line).lineHeight);
    const text = line.textContent;
    const first = text.search(/\\S/);
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    const rows = [];
    let index = 0, firstLeft = null, firstTop = null, charWidth = null;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.data.length; i++, index++) {
        const range = document.createRange();
        range.setStart(node, i); range.setEnd(node, i + 1);
        const box = range.getBoundingClientRect();
        if (index === first) { firstLeft = box.left; firstTop = box.top; charWidth = box.width; }
        if (/\\s/.test(node.data[i])) continue;
        const row = rows[rows.length - 1];
        if (!row || box.top > row.top + lineHeight / 2) rows.push({top: box.top, left: box.left});
        else row.left = Math.min(row.left, box.left);
      }
    }
    const box = line.getBoundingClientRect();
    return {text, first, firstLeft, firstTop, charWidth, rows: rows.map((r) => r.left),
            height: box.height, top: box.top, lineHeight};
  });
  return {contentLeft, contentWidth, lines, scrollWidth: pre.scrollWidth,
          clientWidth: pre.clientWidth,
          innerText: pre.innerText};
})
"""

# Select the text between two offsets of a <pre>'s text (or all of it) as a reader would,
# and return what the selection holds.
SELECT_JS = """
([index, start, end]) => {
  const pre = document.querySelectorAll("pre")[index];
  const selection = window.getSelection();
  selection.removeAllRanges();
  const range = document.createRange();
  if (start === null) { range.selectNodeContents(pre); }
  else {
    const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    let seen = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const next = seen + node.data.length;
      if (start >= seen && start < next) range.setStart(node, start - seen);
      if (end > seen && end <= next) range.setEnd(node, end - seen);
      seen = next;
    }
  }
  selection.addRange(range);
  return selection.toString();
}
"""

# Every formula: its box, what scrolls, and how far any part of its drawing reaches above
# or below the box. A part hidden on purpose (MathJax's copy for screen readers, a glyph
# clipped by MathJax's own boxes) is seen only as far as its clipping lets it show.
FORMULAS_JS = """
() => Array.from(document.querySelectorAll("mjx-container"), (container) => {
  const box = container.getBoundingClientRect();
  let below = 0, above = 0;
  for (const part of container.querySelectorAll("mjx-math *")) {
    const rect = part.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    let top = rect.top, bottom = rect.bottom;
    for (let a = part.parentElement; a && a !== container; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== "visible" || s.overflowY !== "visible") {
        const clip = a.getBoundingClientRect();
        top = Math.max(top, clip.top); bottom = Math.min(bottom, clip.bottom);
      }
    }
    if (bottom <= top) continue;
    below = Math.max(below, bottom - box.bottom);
    above = Math.max(above, box.top - top);
  }
  // MathJax's own children (the drawing and the copy for screen readers), unclipped.
  for (const child of container.children) {
    const rect = child.getBoundingClientRect();
    below = Math.max(below, rect.bottom - box.bottom);
    above = Math.max(above, box.top - rect.top);
  }
  return {
    tex: (container.querySelector("mjx-assistive-mml") || container).textContent.slice(0, 60),
    display: container.getAttribute("display") === "true",
    scrollHeight: container.scrollHeight, clientHeight: container.clientHeight,
    scrollWidth: container.scrollWidth, clientWidth: container.clientWidth,
    below, above, errors: container.querySelectorAll("mjx-merror").length,
  };
})
"""
