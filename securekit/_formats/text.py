"""Plain text and CSV: strict UTF-8, no control characters, no markup.

A text upload is refused when it holds NUL or other C0/C1 control characters
(binary smuggled as text), invalid UTF-8 (RFC 3629), markup or server-side
script (a browser or an ``include`` would run it), and, for CSV, cells that a
spreadsheet evaluates as formulas (OWASP "CSV Injection").
"""

from __future__ import annotations

import codecs
import re
from typing import Final

from securekit._formats._common import TEXT_MARKUP, Buffer, reject
from securekit.errors import UploadReason

#: C0 controls except TAB, LF, CR; DEL; C1 controls.
_CONTROL: Final = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
#: OWASP CSV Injection: a cell starting with ``=`` or ``@`` is evaluated by
#: spreadsheets, and so is one starting with ``+`` or ``-`` unless the whole
#: cell is a number (``-2+3+cmd|...`` is OWASP's own example). Quotes, spaces
#: and TAB/CR before the character are skipped, as spreadsheets do.
_FORMULA: Final = re.compile(
    r"(?:^|[,;\t])[\"' \t\r]*"
    # Fullwidth forms (U+FF1D, U+FF20, U+FF0B, U+FF0D) are typed by East
    # Asian input methods and read as formulas by spreadsheets in those locales.
    r"(?:[=@\uff1d\uff20\uff0b\uff0d]"
    r"|[+-](?![0-9.]+(?:[eE][+-]?[0-9]+)?[ \t]*(?:[,;\t\"'\r]|$)|[ \t]*(?:[,;\t\"'\r]|$)))",
    re.MULTILINE,
)
#: UTF-7 spellings of ``<`` and ``>`` (RFC 2152): a browser or mail client
#: that guesses UTF-7 turns ``+ADw-script+AD4-`` into a script tag.
_UTF7_MARKUP: Final = re.compile(r"\+AD[wz4]-?", re.IGNORECASE)
_CHUNK: Final = 64 * 1024
#: How much of the previous chunk is kept so that a pattern split across two
#: chunks is still seen (longer than any markup pattern).
_OVERLAP: Final = 64


def check(data: Buffer, *, csv: bool) -> None:
    """Reject ``data`` unless it is clean UTF-8 text (and formula-free CSV)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    size = len(data)
    line_tail = markup_tail = ""
    pos = 3 if data[:3] == codecs.BOM_UTF8 else 0
    while True:
        end = min(pos + _CHUNK, size)
        final = end >= size
        try:
            text = decoder.decode(data[pos:end], final=final)
        except UnicodeDecodeError:
            reject(UploadReason.MALFORMED)
        if _CONTROL.search(text) is not None:
            reject(UploadReason.MALFORMED)
        window = markup_tail + text
        if (
            TEXT_MARKUP.search(window.encode("utf-8")) is not None
            or _UTF7_MARKUP.search(window) is not None
        ):
            reject(UploadReason.EMBEDDED_MARKUP)
        markup_tail = window[-_OVERLAP:]
        if csv:
            # Only whole lines are checked, so a cell is never split.
            lines = line_tail + text
            cut = len(lines) if final else lines.rfind("\n") + 1
            if _FORMULA.search(lines[:cut]) is not None:
                reject(UploadReason.ACTIVE_CONTENT)
            line_tail = lines[cut:]
            if len(line_tail) > _CHUNK:
                # A single line of more than 64 KiB is not a CSV row.
                reject(UploadReason.MALFORMED)
        if final:
            return
        pos = end
