"""Numbers as owners type or paste them on a phone: a mobile number and a sign-in code."""

from __future__ import annotations

from voting.domain.identifiers import normalize_mobile, typed_digits


def test_a_mobile_number_as_typed_on_a_chinese_phone():
    for typed in ("13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678",
                  "１３８１２３４５６７８", "008613812345678"):  # fmt: skip
        assert normalize_mobile(typed) == "13812345678", typed


def test_zero_width_characters_and_direction_marks_from_a_copy_are_dropped():
    # Copied from the contacts (iOS wraps a number in U+202D … U+202C) or from a chat (a
    # zero-width space): the sign-in page said "enter a valid 11-digit mobile number", and
    # the code page "enter the 6-digit code" for a code pasted from the SMS.
    assert normalize_mobile("\u202d+86 138 1234 5678\u202c") == "13812345678"
    assert normalize_mobile("138\u200b1234\u200b5678") == "13812345678"
    assert normalize_mobile("\ufeff13812345678\u200e") == "13812345678"
    assert typed_digits("671\u200b907") == "671907"
    assert typed_digits("\u2066671907\u2069") == "671907"
    assert normalize_mobile("1381234567\u200b") is None  # ten digits are still not a number
