"""Numbers as people type or paste them: a mobile number, a sign-in code, an ID number, a
unified social credit code."""

from __future__ import annotations

from voting.domain.identifiers import (
    normalize_id_number,
    normalize_mobile,
    normalize_uscc,
    typed_digits,
)


def test_a_mobile_number_as_typed_on_a_chinese_phone():
    for typed in ("13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678",
                  "１３８１２３４５６７８", "008613812345678", "86-138-1234-5678",
                  "8613812345678"):  # fmt: skip
        assert normalize_mobile(typed) == "13812345678", typed
    for typed in ("861381234567", "86138123456789", "8612345678901"):  # not one with 86
        assert normalize_mobile(typed) is None, typed


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


def test_an_id_number_and_a_credit_code_as_typed_on_a_chinese_keyboard():
    # The same right numbers were refused as having a wrong check character (a roll's row,
    # the bureau's firm form, a firm's person), while the credit lookup and a proxy's agent
    # took them.
    for typed in ("11010519491231002X", "11010519491231002x", "110105 19491231 002X",
                  "１１０１０５１９４９１２３１００２Ｘ", "\u202d110105-19491231-002x\u202c"):  # fmt: skip
        assert normalize_id_number(typed) == "11010519491231002X", typed
    for typed in ("91500103MA5U7L8K2B", " 91500103ma5u7l8k2b ", "9150 0103 MA5U 7L8K 2B",
                  "９１５００１０３ＭＡ５Ｕ７Ｌ８Ｋ２Ｂ", "91500103MA5U7L8K2B\u200b"):  # fmt: skip
        assert normalize_uscc(typed) == "91500103MA5U7L8K2B", typed
    # still checked: a wrong check character, a letter the alphabet lacks, a short one
    assert normalize_id_number("110105 19491231 0021") is None
    assert normalize_uscc("９１５００１０３ＭＡ５Ｕ７Ｌ８Ｋ２Ｃ") is None
    assert normalize_uscc("91500103MA5U7L8K2I") is None
    assert normalize_id_number("1101051949123100") is None
