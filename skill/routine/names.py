"""How names and numbers are read: one folding for pose names and what a runner says.

Content validation (two poses may not share a name), the state machine (``go to pigeon``) and
the local resolver all fold text with :func:`fold`, so "Child's pose", "childs-pose" and
"CHILDS POSE" are one name everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")


def fold_words(text: str) -> list[str]:
    """Lower-case words with apostrophes dropped and other punctuation made a space."""
    return _NOT_WORD.sub(" ", text.translate(_QUOTES).lower().replace("'", "")).split()


def fold(text: str) -> str:
    """A name as it is compared: :func:`fold_words`, joined by single spaces."""
    return " ".join(fold_words(text))


# ---------------------------------------------------------------- numbers and ordinals


def split_words(text: str) -> tuple[str, ...]:
    """Words of a string constant (keeps long word lists on a few lines)."""
    return tuple(text.split())


_UNITS = split_words(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen"""
)
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ORDINAL_UNITS = split_words(
    """zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth
    thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"""
)


def _number_words() -> dict[str, int]:
    words = {w: n for n, w in enumerate(_UNITS)}
    for i, tens in enumerate(_TENS):
        base = 20 + 10 * i
        words[tens] = base
        for unit in range(1, 10):
            words[f"{tens} {_UNITS[unit]}"] = base + unit
    words["a hundred"] = words["one hundred"] = words["hundred"] = 100
    return words


def _ordinal_words() -> dict[str, int]:
    words = {w: n for n, w in enumerate(_ORDINAL_UNITS) if n}
    words["twentieth"], words["thirtieth"] = 20, 30
    for unit in range(1, 10):
        words[f"twenty {_ORDINAL_UNITS[unit]}"] = 20 + unit
    words["thirty first"] = 31
    return words


NUMBER_WORDS: Mapping[str, int] = _number_words()
ORDINAL_WORDS: Mapping[str, int] = _ordinal_words()


def read_number(text: str) -> int | None:
    """A whole number said as digits or words ("8", "eight", "twenty one"); else ``None``."""
    words = " ".join(fold_words(text.replace("-", " ")))
    if words.isdigit():
        return int(words)
    return NUMBER_WORDS.get(words)


def read_ordinal(text: str) -> int | None:
    """An ordinal said as digits or words ("3rd", "third"); else ``None``."""
    words = " ".join(fold_words(text.replace("-", " ")))
    if words[:-2].isdigit() and words[-2:] in ("st", "nd", "rd", "th"):
        return int(words[:-2])
    return ORDINAL_WORDS.get(words)
