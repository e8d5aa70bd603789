"""The certified result (认证结果): an A4 PDF of a certified meeting, and a ZIP with its bundle.

For the housing bureau and the owners' committee once the bureau has
certified. The PDF is in Chinese only (it is the official record; the web
pages around it are translated). Its text is real text in an embedded CJK
TrueType font (``CJK_FONT``, Debian's fonts-wqy-microhei by default), so it
can be searched, copied and read back by ``pdftotext``. Every number comes
from the ``tally`` entry through ``services.outcomes``; the head hash and the
key fingerprints tie the paper to the bundle that auditors verify. Its QR code and
printed address open the public verification page, ``/verify/<meeting id>/<head hash>``
(``web/results.verify``), which anyone can read without signing in.
"""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import qrcode
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import TimeStamp
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from voting.domain.canonical import format_area, parse_time
from voting.domain.rules import Bar, RuleSet
from voting.domain.signing import public_key_raw
from voting.models import Meeting
from voting.services import keys, labels
from voting.services.assembly import certify, export, outcomes
from voting.services.assembly.outcomes import Amount, Line, MeetingOutcome, MotionOutcome
from voting.services.errors import Conflict, ServiceError


class FontMissing(ServiceError):
    """The CJK font is not installed: refuse clearly rather than print boxes (or fail)."""

    status = 503
    code = "font_missing"


# On the official record the bureau signs by its full title, not the pages' short name.
OFFICIAL_TITLES = {"bureau": "住房城乡建设主管部门"}
CLASSES = {"major": "重大事项", "ordinary": "一般事项"}
NONE = "—"


def require_certified(meeting: Meeting) -> None:
    if certify.state(meeting) != certify.Certification.certified:
        raise Conflict(_("住建部门认证后才能下载认证结果"))


def render(meeting: Meeting, verify_url: str) -> bytes:
    """The PDF of a certified meeting; ``verify_url`` goes into its QR code."""
    require_certified(meeting)
    outcome = outcomes.of(meeting)
    assert outcome is not None  # certified implies tallied
    font = _font()
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{meeting.community.name} {meeting.title} 表决结果认证书",
        author=current_app.config["SETTINGS"].bureau_name,
        subject=meeting.public_id,
        creator="业主大会电子投票",
        initialFontName=font,
        invariant=True,  # the same meeting gives the same bytes (dated below, not 2000-01-01)
    )
    assert meeting.certified_at is not None  # require_certified
    page = _PageFooter(
        font,
        f"{meeting.public_id} · 日志最终哈希 {outcome.head.hash[:16]}…",
        _timestamp(meeting.certified_at),
    )
    document.build(_story(outcome, verify_url, _Styles(font)), onFirstPage=page, onLaterPages=page)
    return out.getvalue()


def write_package(meeting: Meeting, verify_url: str, out: BinaryIO) -> None:
    """A ZIP with the PDF and the audit bundle (streamed into the archive)."""
    pdf = render(meeting, verify_url)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{meeting.public_id}.certificate.pdf", pdf)
        with archive.open(f"{meeting.public_id}.bundle.json", "w", force_zip64=True) as handle:
            export.release(meeting, handle)


def fingerprint_of(public_key: str) -> str:
    """SHA-256 of the raw public key, as log keys are named (``keys.fingerprint``)."""
    return hashlib.sha256(public_key_raw(public_key)).hexdigest()


# --- the font ----------------------------------------------------------------------------


def _font() -> str:
    """The registered name of the configured CJK font, registering it on first use."""
    path = current_app.config["SETTINGS"].cjk_font
    name = "CJK-" + hashlib.sha256(path.encode()).hexdigest()[:12]
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    refusal = FontMissing(
        _(
            "无法生成 PDF：找不到中文字体 %(path)s。"
            "请安装 fonts-wqy-microhei，或用 CJK_FONT 指定字体文件。",
            path=path,
        )
    )
    if not Path(path).is_file():
        raise refusal
    try:
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
    except (TTFError, OSError, ValueError) as error:
        current_app.logger.error("cannot load CJK font %s: %s", path, error)
        raise refusal from error
    return name


# --- the content -------------------------------------------------------------------------


class _Styles:
    def __init__(self, font: str) -> None:
        self.font = font
        base = {"fontName": font, "wordWrap": "CJK"}
        self.title = ParagraphStyle("title", fontSize=17, leading=24, alignment=1, **base)
        self.subtitle = ParagraphStyle("subtitle", fontSize=11, leading=16, alignment=1, **base)
        self.heading = ParagraphStyle(  # never the last line of a page
            "heading", fontSize=12, leading=17, spaceBefore=8, spaceAfter=4, keepWithNext=1,
            **base,
        )  # fmt: skip
        self.body = ParagraphStyle("body", fontSize=9.5, leading=14, **base)
        self.small = ParagraphStyle("small", fontSize=8, leading=11, **base)
        self.outcome = ParagraphStyle("outcome", fontSize=10.5, leading=15, spaceBefore=3, **base)
        # Hashes and keys never wrap mid-string: one line each, read back whole.
        self.code = ParagraphStyle("code", fontName=font, fontSize=7.5, leading=10.5)


def _story(outcome: MeetingOutcome, verify_url: str, styles: _Styles) -> list[Flowable]:
    meeting = outcome.meeting
    story: list[Flowable] = [
        Paragraph("业主大会会议表决结果认证书", styles.title),
        Paragraph(escape(f"{meeting.community.name} · {meeting.title}"), styles.subtitle),
        Spacer(1, 4 * mm),
        _facts(outcome, styles),
        Paragraph("表决规则", styles.heading),
        *_rules(outcome.rules, styles),
    ]
    for motion in outcome.motions:
        story.append(KeepTogether(_motion(motion, styles)))
    story += _evidence(outcome, styles)
    story.append(KeepTogether(_verification(verify_url, styles)))
    story.append(KeepTogether(_seal(meeting, styles)))
    return story


def _closed(outcome: MeetingOutcome) -> str:
    if outcome.is_closed_early:
        return f"{_local(outcome.tallied_at)}（全体业主均已投票，提前结束）"
    return _local(outcome.tallied_at)


def _facts(outcome: MeetingOutcome, styles: _Styles) -> Table:
    meeting = outcome.meeting
    office = meeting.community.street_office
    district = office.district
    zone = _zone_label()
    rows = [
        ("小区（物业管理区域）", meeting.community.name),
        ("所属区县、街道", f"{district.city}{district.name} {office.name}"),
        ("会议名称", meeting.title),
        ("会议编号", meeting.public_id),
        ("会议形式", labels.chinese(labels.MEETING_FORMS, meeting.form)),
        ("公告时间", _local(meeting.announced_at)),
        ("投票时间", f"{_local(meeting.opens_at)} 至 {_local(meeting.closes_at)}"),
        ("截止并统计时间", _closed(outcome)),
        ("认证时间", _local(meeting.certified_at)),
        (
            "业主名册（开始投票时冻结）",
            f"专有部分面积 {outcome.roll.area_text} ㎡，业主人数 {outcome.roll.headcount}",
        ),
    ]
    if meeting.place:
        rows.insert(5, ("会议地点", meeting.place))
    table = Table(
        [[_p(label, styles.body), _p(value, styles.body)] for label, value in rows],
        colWidths=[52 * mm, None],
    )
    table.setStyle(_grid(styles.font, header=False))
    return KeepTogether([table, Paragraph(f"本认证书中的时间均为{zone}。", styles.small)])


def _rules(rules: RuleSet, styles: _Styles) -> list[Flowable]:
    major = "、".join(str(item) for item in rules.major_items) or NONE
    lines = [
        f"规则集：{rules.name}",
        f"法定参与比例：参与表决的专有部分面积{_word(rules.quorum)}总面积的 {rules.quorum.area}，"
        f"且参与表决人数{_word(rules.quorum)}总人数的 {rules.quorum.headcount}。",
        f"重大事项（民法典第二百七十八条第 {major} 项）：{_bar_words(rules.major)}",
        f"一般事项（其余各项）：{_bar_words(rules.ordinary)}",
        "选举：每名候选人须各自达到一般事项或重大事项的比例，按得票人数、再按面积排序当选；"
        "末位候选人得票相同（人数和面积均相同）的，均不当选，须另行选举。",
    ]
    return [_p(line, styles.body) for line in lines]


def _word(bar: Bar) -> str:
    return "超过" if bar.strict else "不少于"


def _bar_words(bar: Bar) -> str:
    base = "参与表决" if bar.base == "participating" else "全体业主"
    return (
        f"同意的专有部分面积{_word(bar)}{base}专有部分面积的 {bar.area}，"
        f"且同意人数{_word(bar)}{base}人数的 {bar.headcount}。"
    )


def _motion(motion: MotionOutcome, styles: _Styles) -> list[Flowable]:
    item = motion.motion
    heading = (
        f"{item.numbered_title}（第二百七十八条第 {item.item} 项，"
        f"{CLASSES.get(motion.motion_class, motion.motion_class)}）"
    )
    header = ["", "面积（㎡）", "面积需达到", "人数", "人数需达到", "是否达到"]
    rows = [header, _row("参与表决", motion.participating)]
    if motion.is_election:
        header[0] = f"候选人（应选 {item.seats} 名）"
        for candidate in motion.candidates:
            label = candidate.name + ("（当选）" if candidate.is_elected else "")
            rows.append(_row(label, candidate.votes))
    else:
        header[0] = "表决项"
        rows += [
            _row(labels.chinese(labels.OPTIONS, name), line)
            for name, line in motion.options.items()
        ]
    table = Table(
        [[_p(cell, styles.body) for cell in row] for row in rows],
        colWidths=[None, 21 * mm, 22 * mm, 12 * mm, 22 * mm, 20 * mm],
        repeatRows=1,
    )
    table.setStyle(_grid(styles.font, header=True))
    return [
        Paragraph(escape(heading), styles.heading),
        table,
        Paragraph(escape(_verdict(motion)), styles.outcome),
    ]


def _row(label: str, line: Line) -> list[str]:
    needs: Amount | None = line.needs
    if needs is None:
        return [label, line.amount.area_text, NONE, str(line.amount.headcount), NONE, NONE]
    return [
        label,
        line.amount.area_text,
        format_area(needs.area),
        str(line.amount.headcount),
        str(needs.headcount),
        "达到" if line.is_met else "未达到",
    ]


def _verdict(motion: MotionOutcome) -> str:
    """The outcome in one sentence."""
    if not motion.is_quorum:
        with force_locale("zh"):  # the certificate is in Chinese whatever the page's language
            reason = motion.quorum_shortfall
        return f"结果：{'无人当选' if motion.is_election else '未通过'}。{reason}。"
    if not motion.is_election:
        return "结果：表决通过。" if motion.is_passed else "结果：未通过（同意票未达到表决比例）。"
    elected = "、".join(candidate.name for candidate in motion.elected)
    text = f"结果：当选 {elected}。" if elected else "结果：无人当选。"
    if motion.is_tied_at_last_seat:
        text += "末位候选人得票相同（人数和面积均相同），均不当选，须另行选举。"
    return text


def _evidence(outcome: MeetingOutcome, styles: _Styles) -> list[Flowable]:
    meeting = outcome.meeting
    assert meeting.key_fingerprint is not None
    story: list[Flowable] = [
        Paragraph("日志、密钥与签名", styles.heading),
        _p(f"日志最终哈希（第 {outcome.head.seq} 条，统计结果）：", styles.body),
        Paragraph(outcome.head.hash, styles.code),
        _p("日志签名公钥及其指纹（SHA-256）：", styles.body),
        Paragraph(keys.public_text(meeting.key_fingerprint), styles.code),
        Paragraph(meeting.key_fingerprint, styles.code),
    ]
    for attestation in certify.attestations(meeting):
        role = OFFICIAL_TITLES.get(attestation["role"]) or labels.chinese(
            labels.ATTESTATION_ROLES, attestation["role"]
        )
        signed_at = _local(parse_time(attestation["at"]))
        story += [
            _p(f"审核签名：{role} · {attestation['name']} · {signed_at}", styles.body),
            _p("签名公钥及其指纹（SHA-256）：", styles.small),
            Paragraph(attestation["key"], styles.code),
            Paragraph(fingerprint_of(attestation["key"]), styles.code),
        ]
    return story


def _verification(url: str, styles: _Styles) -> list[Flowable]:
    note = (
        "扫描二维码或访问下列网址（无需登录），可在线核对本认证书：网页说明上述日志最终"
        "哈希是否为该会议日志的最终哈希，并列出认证进度、各方签名和各议题结果。独立核验："
        "向业主委员会、街道办事处或住建部门索取审计包，用 scripts/verify_bundle.py 核验"
        "全部选票、统计结果和上述签名。"
    )
    table = Table(
        [[_Qr(url, 34 * mm), _p(note, styles.body)]],
        colWidths=[38 * mm, None],
    )
    table.setStyle(
        TableStyle(
            [("FONTNAME", (0, 0), (-1, -1), styles.font), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
        )
    )
    return [Paragraph("在线核验", styles.heading), table, _one_line(url, styles)]


def _seal(meeting: Meeting, styles: _Styles) -> list[Flowable]:
    """Who certifies and when, with an empty square for the bureau's official seal: the
    printed certificate is stamped there (an official seal is about 42 mm across)."""
    issuer = current_app.config["SETTINGS"].bureau_name
    certified = _local(meeting.certified_at)[:10]
    table = Table(
        [
            [_p(f"认证单位：{issuer}", styles.body)],
            [_p("盖章处", styles.small)],
            [_p(f"认证日期：{certified}", styles.body)],
        ],
        colWidths=[72 * mm],
        rowHeights=[None, 46 * mm, None],
        hAlign="RIGHT",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), styles.font),
                ("BOX", (0, 1), (0, 1), 0.6, colors.HexColor("#9aa3af")),
                ("VALIGN", (0, 1), (0, 1), "TOP"),
                ("TEXTCOLOR", (0, 1), (0, 1), colors.HexColor("#9aa3af")),
            ]
        )
    )
    return [Spacer(1, 8 * mm), table]


def _one_line(text: str, styles: _Styles) -> Paragraph:
    """``text`` on one line of the full width (an address must read back whole), shrunk to fit."""
    width = A4[0] - 36 * mm  # the margins
    natural = pdfmetrics.stringWidth(text, styles.font, 1)
    size = min(styles.code.fontSize, (width - 2) / natural)
    style = ParagraphStyle("line", parent=styles.code, fontSize=size, leading=size * 1.4)
    return Paragraph(escape(text), style)


# --- drawing helpers ---------------------------------------------------------------------


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _grid(font: str, *, header: bool) -> TableStyle:
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa3ad")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f5f7fa")))
    return TableStyle(commands)


class _Qr(Flowable):
    """A QR code drawn as vector squares (made with ``qrcode``, no image)."""

    def __init__(self, text: str, size: float) -> None:
        super().__init__()
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
        code.add_data(text)
        code.make(fit=True)
        self.matrix = code.get_matrix()
        self.size = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        cell = self.size / len(self.matrix)
        canvas = self.canv
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.size, self.size, fill=1, stroke=0)
        canvas.setFillColor(colors.black)
        for y, row in enumerate(self.matrix):
            x = 0
            while x < len(row):  # one rectangle per run of dark modules
                if not row[x]:
                    x += 1
                    continue
                start = x
                while x < len(row) and row[x]:
                    x += 1
                top = self.size - (y + 1) * cell
                canvas.rect(start * cell, top, (x - start) * cell, cell, fill=1, stroke=0)


def _timestamp(moment: datetime) -> TimeStamp:
    """reportlab's timestamp for ``moment`` (UTC), which becomes the PDF's creation date."""
    stamp = TimeStamp(invariant=True)  # fixed zone (UTC), then the real time
    stamp.t = moment.timestamp()
    stamp.lt = time.gmtime(stamp.t)
    stamp.YMDhms = tuple(stamp.lt)[:6]
    return stamp


class _PageFooter:
    """Each page's footer; it also dates the document: ``invariant`` keeps the bytes the same
    for the same meeting, but would date every certificate 2000-01-01, so the document's
    timestamp (CreationDate, ModDate) is set to the certification."""

    def __init__(self, font: str, text: str, created: TimeStamp) -> None:
        self.font, self.text, self.created = font, text, created

    def __call__(self, canvas: Any, document: Any) -> None:
        canvas._doc._timeStamp = self.created  # read when the info dictionary is written
        canvas.saveState()
        canvas.setFont(self.font, 7.5)
        canvas.setFillColor(colors.HexColor("#5d6878"))
        canvas.drawString(18 * mm, 10 * mm, self.text)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"第 {document.page} 页")
        canvas.restoreState()


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SETTINGS"].display_timezone)


def _zone_label() -> str:
    name = current_app.config["SETTINGS"].display_timezone
    return "北京时间" if name in {"Asia/Shanghai", "Asia/Chongqing"} else f"{name} 时间"


def _local(moment: datetime | None) -> str:
    return moment.astimezone(_zone()).strftime("%Y-%m-%d %H:%M") if moment else NONE
