"""Chinese identifiers the registry meets: mobile numbers, ID numbers, credit codes.

Pure functions (no Flask, no database) so the import, the forms and the API
all validate the same way.
"""

from __future__ import annotations

import re
import unicodedata

from voting.domain.invisible import without_marks

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SEPARATORS = str.maketrans("", "", " -\u3000")


def typed_digits(text: str) -> str:
    """A number as people type it, in ASCII: full-width digits and spaces from a Chinese
    keyboard folded (NFKC), spaces and dashes dropped, and the zero-width characters and
    direction marks a copy from contacts or a chat leaves (they made a pasted number
    "not a mobile number")."""
    return typed_number(text).translate(_SEPARATORS)


def typed_number(text: str) -> str:
    """An amount as people type it (points, days): full-width digits and point folded
    (``２．５``: a Chinese keyboard), invisible characters dropped, spaces at its ends cut;
    a sign stays what it is (``-1`` is not 1)."""
    return unicodedata.normalize("NFKC", without_marks(text)).strip()


def normalize_mobile(text: str) -> str | None:
    """A mainland mobile number as 11 digits, or None when it is not one.

    Accepts what people type: full-width digits, spaces, dashes and a +86 / 0086 prefix, or
    86 without the plus (86-138…, as contacts and forms abroad write it: a mobile number
    never starts with 86, so 13 digits that do are one with the country code).
    """
    digits = typed_digits(text)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    else:
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
    return digits if _MOBILE.match(digits) else None


def mask_mobile(phone: str) -> str:
    """138****1234: enough to recognise one's own number, not to call anyone."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"


def id_number_check_char(first17: str) -> str:
    """The GB 11643-1999 check character of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalize_id_number(text: str) -> str | None:
    """An 18-character resident ID number with a valid check character, or None; typed as a
    mobile number is (``typed_digits``): full-width, in groups (``110105 19491231 002X``),
    from a copy. A right number so typed was refused as one whose check character is wrong
    (a roll's row, a firm's person), where a proxy's agent was already folded."""
    value = typed_digits(text).upper()
    if not _ID_NUMBER.match(value):
        return None
    return value if id_number_check_char(value[:17]) == value[17] else None


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character of a unified social credit code."""
    total = sum(
        _USCC_ALPHABET.index(char) * weight
        for char, weight in zip(first17, _USCC_WEIGHTS, strict=True)
    )
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(text: str) -> str | None:
    """An 18-character unified social credit code with a valid check character, or None;
    typed as the public lookup takes it (``typed_digits``: full-width, spaces, a copy's
    zero-width characters): the bureau's form called such a right code's check character
    wrong, while the lookup found the firm by it."""
    value = typed_digits(text).upper()
    if len(value) != 18 or any(char not in _USCC_ALPHABET for char in value):
        return None
    return value if uscc_check_char(value[:17]) == value[17] else None
