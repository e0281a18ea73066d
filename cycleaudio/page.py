"""A self-contained HTML page: escaping, tables, audio and image tags, media copied next to the page.

The report of every task is written with this one writer, so each task only decides *what* to show.
Every file the page refers to is copied (or written) into ``assets/`` beside ``index.html`` and linked
by a relative path, so the folder opens from disk, can be zipped or moved, and needs no network.

A small inline script counts how many ``<img>`` and ``<audio>`` elements loaded and how many failed,
and how many script errors happened, and writes the counts into the page (``data-media-*`` attributes of
``<body>`` and a status line): a reader sees at once if a file is missing, and a headless browser can
check the whole page from its DOM.
"""

from __future__ import annotations

import html
import math
import re
import shutil
from pathlib import Path
from typing import Any, Iterable, Sequence

from .errors import CycleAudioError

ASSETS = "assets"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; vertical-align: middle; }
th { background: #f3f3f3; } td.text, th.text { text-align: left; }
img { max-width: 100%; } audio { height: 2.2em; width: 260px; }
pre { background: #f7f7f7; padding: .8em; overflow-x: auto; font-size: .85em; max-height: 30em; }
#media-status { color: #666; font-size: .9em; }
"""

# Marks every <img>/<audio> as loaded or failed (elements that finished before the script ran count from
# their state), counts script errors, and writes the totals into <body data-media-*> and #media-status.
MEDIA_CHECK = """
(function () {
  var media = Array.prototype.slice.call(document.querySelectorAll("img, audio"));
  var loaded = 0, failed = 0, scriptErrors = 0, pending = media.length;
  window.addEventListener("error", function (e) { if (!(e.target instanceof HTMLElement)) scriptErrors++; show(); }, true);
  function show() {
    var body = document.body;
    body.setAttribute("data-media-total", media.length);
    body.setAttribute("data-media-loaded", loaded);
    body.setAttribute("data-media-failed", failed);
    body.setAttribute("data-script-errors", scriptErrors);
    body.setAttribute("data-media-done", pending === 0 ? "yes" : "no");
    document.getElementById("media-status").textContent = pending === 0
      ? loaded + " of " + media.length + " images and audio files loaded" + (failed ? ", " + failed + " failed" : "")
      : "loading media: " + (media.length - pending) + " of " + media.length;
  }
  function settle(element, ok) {
    if (element.getAttribute("data-state")) return;
    element.setAttribute("data-state", ok ? "loaded" : "failed");
    if (ok) loaded++; else failed++;
    pending--;
    show();
  }
  media.forEach(function (element) {
    var audio = element.tagName === "AUDIO";
    element.addEventListener(audio ? "loadedmetadata" : "load", function () { settle(element, true); });
    element.addEventListener("error", function () { settle(element, false); });
    if (audio ? element.error : element.complete && element.naturalWidth === 0) settle(element, false);
    else if (audio ? element.readyState >= 1 : element.complete) settle(element, true);
  });
  show();
})();
"""


class Html(str):
    """Markup that is already safe: inserted as is, where any other value is escaped."""


def escape(value: Any) -> str:
    """``value`` as HTML text: :class:`Html` unchanged, floats to 4 significant digits, the rest escaped."""
    if isinstance(value, Html):
        return value
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return html.escape(str(value))


class Page:
    """One report page being written into ``folder`` (``index.html`` + ``assets/``)."""

    def __init__(self, folder: Path, title: str) -> None:
        self.folder = Path(folder)
        self.title = title
        self.parts: list[str] = []
        self.assets = self.folder / ASSETS
        if self.assets.exists():  # a previous page's files: replaced, so none is left unreferenced
            if not (self.folder / "index.html").is_file():
                raise CycleAudioError(f"{self.folder}: has an {ASSETS}/ folder that is no report's; choose another folder")
            shutil.rmtree(self.assets)
        self.assets.mkdir(parents=True)
        self._names: set[str] = set()

    # ------------------------------------------------------------------ assets
    def asset(self, name: str) -> Path:
        """A fresh path in ``assets/`` for a file to write there: ``name`` made safe and unique."""
        stem, dot, suffix = re.sub(r"[^A-Za-z0-9._-]+", "_", name).rpartition(".")
        stem, suffix = (stem, dot + suffix) if dot else (suffix, "")
        candidate, k = stem + suffix, 1
        while candidate in self._names:
            k += 1
            candidate = f"{stem}_{k}{suffix}"
        self._names.add(candidate)
        return self.assets / candidate

    def _link(self, path: Path) -> str:
        """The relative link to ``path``, copying it into ``assets/`` first unless it is there already."""
        path = Path(path)
        if path.resolve().parent != self.assets.resolve():
            copy = self.asset(path.name)
            shutil.copyfile(path, copy)
            path = copy
        return f"{ASSETS}/{html.escape(path.name)}"

    # ------------------------------------------------------------------ media tags
    def audio(self, path: Path) -> Html:
        """An audio player of ``path`` (copied into the report)."""
        return Html(f'<audio controls preload="metadata" src="{self._link(path)}"></audio>')

    def image(self, path: Path, alt: str) -> Html:
        """An image of ``path`` (copied into the report)."""
        return Html(f'<img src="{self._link(path)}" alt="{html.escape(alt)}">')

    def figure(self, figure: Any, name: str, alt: str) -> Html:
        """A matplotlib figure saved as PNG into the report (``figure.savefig``; any object with it)."""
        path = self.asset(f"{name}.png")
        figure.savefig(path, format="png")
        return self.image(path, alt)

    # ------------------------------------------------------------------ content
    def add(self, markup: str | Html) -> None:
        """Append ``markup``: :class:`Html` as is, plain text escaped inside a paragraph."""
        self.parts.append(markup if isinstance(markup, Html) else f"<p>{escape(markup)}</p>")

    def heading(self, text: str, level: int = 2) -> None:
        self.parts.append(f"<h{level}>{escape(text)}</h{level}>")

    def preformatted(self, text: str) -> None:
        self.parts.append(f"<pre>{escape(text)}</pre>")

    def table(self, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> None:
        """A table whose first column labels the rows; cells are escaped unless :class:`Html`."""
        def row(cells: Sequence[Any], tag: str) -> str:
            return "<tr>" + "".join(_cell(c, "th" if k == 0 else tag) for k, c in enumerate(cells)) + "</tr>"

        body = "".join(row(cells, "td") for cells in rows)
        self.parts.append(f"<table><thead>{row(header, 'th')}</thead><tbody>{body}</tbody></table>")

    def write(self) -> Path:
        """Write ``index.html``; returns its path."""
        title = escape(self.title)
        text = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
                f"<style>{STYLE}</style></head>\n<body>\n<h1>{title}</h1>\n<p id=\"media-status\"></p>\n"
                + "\n".join(self.parts) + f"\n<script>{MEDIA_CHECK}</script>\n</body></html>\n")
        index = self.folder / "index.html"
        index.write_text(text, encoding="utf-8")
        return index


def _cell(value: Any, tag: str) -> str:
    """One table cell: numbers right-aligned (the default), text left-aligned."""
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    align = "" if numeric else ' class="text"'
    return f"<{tag}{align}>{escape(value)}</{tag}>"
