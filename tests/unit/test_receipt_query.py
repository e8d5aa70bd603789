"""What an owner may type on the receipt check: every form of the receipt we hand out (the
SMS, the receipt page, its QR code), and nothing else."""

from __future__ import annotations

import pytest

from voting.domain.receipts import ReceiptQuery


def test_the_forms_we_hand_out_parse_and_nothing_else_does():
    full = "ab" * 32
    assert ReceiptQuery.parse(f"c1-2026-01:3:{full}") == ReceiptQuery(full, "c1-2026-01", 3)
    assert ReceiptQuery.parse(f"  C1-2026-01 : 3 : {full.upper()} ") == ReceiptQuery(
        full, "c1-2026-01", 3
    )
    assert ReceiptQuery.parse(full.upper()) == ReceiptQuery(full)
    assert ReceiptQuery.parse("125:BB95E4F25801") == ReceiptQuery("bb95e4f25801", None, 125)
    assert ReceiptQuery.parse("回执 125:bb95e4f25801。") == ReceiptQuery("bb95e4f25801", None, 125)
    assert ReceiptQuery.parse("receipt 125:bb95e4f25801,") == ReceiptQuery(
        "bb95e4f25801", None, 125
    )
    assert ReceiptQuery.parse("１２５：ｂｂ95e4f25801") == ReceiptQuery("bb95e4f25801", None, 125)
    assert ReceiptQuery.parse("bb95e4f25801") == ReceiptQuery("bb95e4f25801")
    assert ReceiptQuery.parse("bb95e4f25801").is_short and not ReceiptQuery(full).is_short
    assert ReceiptQuery("bb95e4f25801").hash_range() == (
        "bb95e4f25801" + "0" * 52, "bb95e4f25801" + "f" * 52
    )  # fmt: skip
    for text in (
        "nonsense",
        "bb95e4f2580",  # 11 digits: shorter than anything we hand out
        "ab" * 33,
        "125:",
        f"c1-2026-01:{full}",  # a meeting without a seq
        f"a:b:3:{full}",
        f"c1-2026-01:{'9' * 30}:{full}",
        f"c1-2026-01:{2**53}:{full}",
        "125:bb95e4f2580g",
    ):
        with pytest.raises(ValueError):
            ReceiptQuery.parse(text)


def test_a_pasted_receipt_with_zero_width_characters_and_direction_marks_parses():
    # A copy from a chat or a phone's notes keeps characters nobody sees: the check page
    # called such a receipt malformed (walkthrough as an owner).
    assert ReceiptQuery.parse("\u202d125\u200b:bb95e4f25801\u202c") == ReceiptQuery(
        "bb95e4f25801", None, 125
    )
    full = "ab" * 32
    assert ReceiptQuery.parse(f"c1-2026-01\u200b:3:\ufeff{full}\u2069") == ReceiptQuery(
        full, "c1-2026-01", 3
    )


def test_the_receipt_as_the_sms_link_writes_it_parses():
    # The SMS ends with https://HOST/c/125-bb95e4f25801: an owner who copied that part was
    # told the receipt was malformed.
    assert ReceiptQuery.parse("125-bb95e4f25801") == ReceiptQuery("bb95e4f25801", None, 125)
    assert ReceiptQuery.parse("125 - BB95E4F25801") == ReceiptQuery("bb95e4f25801", None, 125)
    with pytest.raises(ValueError):
        ReceiptQuery.parse("c1-2026-01-125-bb95e4f25801")  # only the seq may end with a dash
