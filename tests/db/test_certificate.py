"""The certified result PDF: real text whose numbers are the tally's, an embedded CJK font,
only for certified meetings, and a clear refusal when the font is missing."""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile

import pytest
from flask_babel import gettext

from tests.certified_builders import (
    EXPECTED,
    STREET_NAME,
    attest,
    certified,
    pdf_fonts,
    pdf_text,
    short_of_the_quorum,
    tallied,
)
from voting.domain.bundle import verify_bundle
from voting.services import keys
from voting.services.assembly import certificate, certify, counting, meetings, outcomes
from voting.services.errors import Conflict

URL = "https://vote.example.cn/verify/c1-2026-01/" + "3a" * 32  # as long as a real one


def numbers_row(text: str, label: str) -> list[str]:
    """The numbers in the table row labelled ``label`` (pdftotext -layout keeps rows)."""
    for line in text.splitlines():
        if line.strip().startswith(label + "  "):
            return re.findall(r"\d+(?:\.\d{2})?", line[line.index(label) + len(label) :])
    raise AssertionError(f"no line starting with {label!r} in:\n{text}")


def test_pdf_text_carries_the_tally(app, make, tmp_path):
    done = certified(make)
    meeting = done.meeting
    text = pdf_text(certificate.render(meeting, URL), tmp_path)
    squeezed = re.sub(r"\s+", "", text)

    community = meeting.community
    office = community.street_office
    for expected in (
        "业主大会会议表决结果认证书",
        community.name,
        office.name,
        office.district.name,
        meeting.title,
        meeting.public_id,
        "书面征求意见",
        "civil-code-2021",
        "2026-03-01 09:00",  # announced (T0, Beijing time)
        "2026-03-17 09:00",  # opens
        "2026-03-27 09:00",  # closes and tallied
        "2026-03-29 09:00",  # certified
        "北京时间",
    ):
        assert expected in text, expected

    total_area, _total_headcount = EXPECTED["total"]
    assert total_area in text
    # Participation against the quorum (needs 2/3: 383.58 m², 4 persons), for every motion.
    part_area, part_headcount = EXPECTED["participating"]
    needs_area, needs_headcount = EXPECTED["quorum_needs"]
    assert numbers_row(text, "参与表决") == [
        part_area, needs_area, str(part_headcount), str(needs_headcount)
    ]  # fmt: skip

    m1 = EXPECTED["m1"]
    agree_needs = EXPECTED["m1_needs"]
    rows = {label: numbers_row(text, label) for label in ("同意", "反对", "弃权")}
    assert rows["同意"] == [
        m1["agree"][0],
        agree_needs[0],
        str(m1["agree"][1]),
        str(agree_needs[1]),
    ]
    assert rows["反对"] == [m1["oppose"][0], str(m1["oppose"][1])]
    assert rows["弃权"] == [m1["abstain"][0], str(m1["abstain"][1])]
    assert "结果：表决通过。" in squeezed

    # The major motion (3/4) fails: 218.80 of the needed 386.53 m².
    m3_agree = [line for line in text.splitlines() if line.strip().startswith("同意  ")][1]
    assert EXPECTED["m3"]["agree"][0] in m3_agree and EXPECTED["m3_needs"][0] in m3_agree
    assert "未达到" in m3_agree
    assert "结果：未通过（同意票未达到表决比例）。" in squeezed

    # The election: c1 elected; c2 and c3 tied across the last seat, so neither.
    votes = EXPECTED["m2"]
    assert numbers_row(text, "张晓明（当选）")[:1] == [votes["c1"][0]]
    assert numbers_row(text, "李华")[0] == votes["c2"][0]
    assert numbers_row(text, "王芳")[0] == votes["c3"][0]
    assert "结果：当选张晓明。" in squeezed
    assert "均不当选，须另行选举" in squeezed

    head = meetings.head(meeting)
    assert head.hash in text
    assert meeting.key_fingerprint in text and keys.public_text(meeting.key_fingerprint) in text
    found = certify.attestations(meeting)
    assert [a["role"] for a in found] == ["street-office", "bureau"]
    for attestation in found:
        assert attestation["key"] in text
        assert certificate.fingerprint_of(attestation["key"]) in text
    assert STREET_NAME in text and "住房城乡建设主管部门" in text
    assert URL in text


def test_numbers_agree_with_the_tally_entry(app, make, tmp_path):
    """Every area and headcount in the tally entry appears in the PDF."""
    done = certified(make)
    text = pdf_text(certificate.render(done.meeting, URL), tmp_path)
    for result in counting.results(done.meeting):
        amounts = [result["participating"]]
        amounts += [result[o] for o in ("agree", "oppose", "abstain") if o in result]
        amounts += [c["votes"] for c in result.get("candidates", [])]
        for amount in amounts:
            assert amount["area"] in text
    outcome = outcomes.of(done.meeting)
    assert [m.is_passed for m in outcome.motions] == [True, None, False]
    election = outcome.motions[1]
    assert [c.is_elected for c in election.candidates] == [True, False, False]
    assert election.is_tied_at_last_seat


def test_the_font_is_embedded_and_the_qr_is_drawn(app, make, tmp_path):
    pdf = certificate.render(certified(make).meeting, URL)
    assert pdf.startswith(b"%PDF-") and b"/FontFile2" in pdf
    listing = pdf_fonts(pdf, tmp_path).splitlines()[2:]
    assert listing, "no fonts"
    for line in listing:  # name type encoding emb sub uni ...
        assert "WenQuanYi" in line and line.split()[-5:-2] == ["yes", "yes", "yes"], line
    assert pdf.count(b"/MediaBox [ 0 0 595.2756 841.8898 ]") >= 1  # A4


def test_only_certified_meetings(app, make, tmp_path):
    home, meeting = tallied(make)
    with pytest.raises(Conflict, match="认证后"):
        certificate.render(meeting, URL)
    bureau = make.user("bureau")
    attest(meeting, make.user("street", home.community.street_office), bureau)
    assert certify.state(meeting) == "attested"
    with pytest.raises(Conflict):
        certificate.render(meeting, URL)
    with pytest.raises(Conflict):
        certificate.write_package(meeting, URL, io.BytesIO())


def test_missing_font_is_a_clear_refusal(app, make, monkeypatch, tmp_path):
    meeting = certified(make).meeting
    settings = app.config["SETTINGS"]
    monkeypatch.setitem(
        app.config, "SETTINGS", settings.replace(cjk_font=str(tmp_path / "no-such-font.ttc"))
    )
    with pytest.raises(certificate.FontMissing, match="fonts-wqy-microhei") as refused:
        certificate.render(meeting, URL)
    assert refused.value.status == 503
    broken = tmp_path / "broken.ttc"
    broken.write_bytes(b"not a font")
    monkeypatch.setitem(app.config, "SETTINGS", settings.replace(cjk_font=str(broken)))
    with pytest.raises(certificate.FontMissing):
        certificate.render(meeting, URL)


def test_package_holds_the_pdf_and_a_valid_bundle(app, make, tmp_path):
    meeting = certified(make).meeting
    out = io.BytesIO()
    certificate.write_package(meeting, URL, out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        names = archive.namelist()
        assert names == [f"{meeting.public_id}.certificate.pdf", f"{meeting.public_id}.bundle.json"]
        assert archive.read(names[0]).startswith(b"%PDF-")
        (tmp_path / "b.json").write_bytes(archive.read(names[1]))
    report = verify_bundle(tmp_path / "b.json", workers=1)
    assert report.valid, report.problems
    carried = json.loads((tmp_path / "b.json").read_text())["attestations"]
    assert [a["role"] for a in carried] == ["street-office", "bureau"]


def test_a_motion_short_of_the_quorum_says_what_fell_short(app, make, tmp_path):
    home, meeting = short_of_the_quorum(make)
    bureau = make.user("bureau")
    attest(meeting, make.user("street", home.community.street_office), bureau)
    certify.certify(meeting, bureau)
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert gettext("未通过") == "Not passed"  # an English request; the PDF is Chinese anyway
        pdf = certificate.render(meeting, URL)
    squeezed = re.sub(r"\s+", "", pdf_text(pdf, tmp_path))
    for verdict in (
        "结果：未通过。参与表决的人数未达到法定比例。",
        "结果：未通过。参与表决的专有部分面积未达到法定比例。",
        "结果：未通过。参与表决的专有部分面积和人数均未达到法定比例。",
    ):
        assert squeezed.count(verdict) == 1, verdict
    assert "未达法定参与比例" not in squeezed and "不足" not in squeezed


def test_the_pdf_is_dated_by_its_certification_and_leaves_room_for_the_seal(app, make, tmp_path):
    """Issue 13 §5: not reportlab's invariant 2000-01-01, and a square for the seal (盖章处),
    while the same meeting still gives the same bytes."""
    meeting = certified(make).meeting  # certified 2026-03-29 01:00 UTC
    pdf = certificate.render(meeting, URL)
    assert b"(D:20260329010000+00'00')" in pdf and b"D:2000" not in pdf
    assert pdf == certificate.render(meeting, URL)
    info = subprocess.run(
        ["pdfinfo", "-isodates", "-"], input=pdf, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    assert re.search(r"CreationDate:\s+2026-03-29T01:00:00", info), info
    text = pdf_text(pdf, tmp_path)
    assert "盖章处" in text and "认证单位：" in text and "认证日期：2026-03-29" in text
