"""Characters that take no space on screen: zero-width spaces, joiners and the byte-order mark.

A copy from a chat or a web page leaves them around and inside names. No ``strip()``
removes them (they are not spaces), so a value made only of them looked empty but was
kept, and two names that differ only by one look the same on a ballot or a page.
"""

from __future__ import annotations

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_DROP = dict.fromkeys(map(ord, INVISIBLE))
# Direction marks and embeddings: a number copied from a phone's contacts or a chat arrives
# wrapped in them (iOS: U+202D … U+202C), as invisible as the characters above.
DIRECTION_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_DROP_FROM_CODES = dict.fromkeys(map(ord, INVISIBLE + DIRECTION_MARKS))


def without_invisible(text: str) -> str:
    """``text`` with every ``INVISIBLE`` character taken out: for a person's name, where a
    joiner holds nothing together (unlike in free text, where it holds an emoji)."""
    return text.translate(_DROP)


def without_marks(text: str) -> str:
    """``text`` without any ``INVISIBLE`` character or direction mark. For what is typed or
    pasted of digits and letters only (a phone number, a sign-in code, a receipt, a credit
    code), where none of them can mean anything; and for a file's name, which needs neither,
    and where an override (U+202E) turns the end of the name around and the text after it on
    the page too: ``合同\u202egpj.pdf``, a PDF, showed as 合同fdp.jpg."""
    return text.translate(_DROP_FROM_CODES)


def stripped(text: str) -> str:
    """``text`` without spaces at its ends, or empty when it shows nothing at all: an
    optional comment of only zero-width characters (the API takes text as sent) is no
    comment, not one that looks blank."""
    return text.strip() if without_invisible(text).strip() else ""
