"""OCR-like noise, to train on text as it comes out of a scanner and Tesseract.

`ocr_noise(text, rng, level)` makes the errors Tesseract makes on fax-quality pages: confusions
of look-alike characters (0/O, 1/l/I, 5/S, rn/m, cl/d, ...), dropped and merged spaces, words
split by stray spaces, lines broken in the middle, lost punctuation, and the odd dropped letter.
`level` (0..1) scales every rate; 0 returns the text unchanged.
"""

from __future__ import annotations

import random

# (what is printed, what OCR reads) in both directions where the confusion goes both ways
_CONFUSIONS: tuple[tuple[str, str], ...] = (
    ("0", "O"), ("O", "0"), ("1", "l"), ("l", "1"), ("1", "I"), ("I", "l"), ("l", "I"),
    ("5", "S"), ("S", "5"), ("8", "B"), ("B", "8"), ("2", "Z"), ("6", "b"), ("g", "q"),
    ("rn", "m"), ("m", "rn"), ("cl", "d"), ("d", "cl"), ("vv", "w"), ("w", "vv"), ("li", "h"),
    ("e", "c"), ("c", "e"), ("h", "b"), ("n", "ri"), ("u", "ii"), ("f", "t"), ("i", "l"),
    (".", ","), (",", "."), (":", ";"), ("-", "~"), ("'", "`"),
)
_BY_FIRST: dict[str, list[tuple[str, str]]] = {}
for _src, _dst in _CONFUSIONS:
    _BY_FIRST.setdefault(_src[0], []).append((_src, _dst))


def ocr_noise(text: str, rng: random.Random, level: float = 0.5) -> str:
    """`text` with OCR-like errors at a rate scaled by `level` (0 = none, 1 = a bad fax)."""
    if level <= 0 or not text:
        return text
    confuse = 0.06 * level  # per character that has a look-alike
    drop_char = 0.004 * level
    drop_space = 0.04 * level
    split_word = 0.01 * level
    break_line = 0.03 * level
    drop_punct = 0.15 * level
    out: list[str] = []
    i = 0
    n = len(text)
    column = 0
    while i < n:
        char = text[i]
        r = rng.random()
        if char == " ":
            if r < drop_space:
                i += 1
                continue
            if r < drop_space + break_line and column > 20:
                out.append("\n")
                column = 0
                i += 1
                continue
        elif char in ",;:" and r < drop_punct:
            i += 1
            continue
        elif char.isalnum() and r < drop_char:
            i += 1
            continue
        options = _BY_FIRST.get(char)
        if options and rng.random() < confuse:
            src, dst = options[rng.randrange(len(options))]
            if text.startswith(src, i):
                out.append(dst)
                i += len(src)
                column += len(dst)
                continue
        if char.isalpha() and rng.random() < split_word:
            out.append(" ")
        out.append(char)
        column = 0 if char == "\n" else column + 1
        i += 1
    return "".join(out)
