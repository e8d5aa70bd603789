"""Good and bad credit records, their corrections, and the firm's objections.

Records are never edited or deleted. A wrong record is revoked by a later
correction giving its reason; a serious failure's rectification, once confirmed,
is a correction too, ending the record's validity that day. The firm objects
(异议) from its account; the authority answers; all of it stays on the record's
page. Each of these is appended to the signed register in the same transaction
as its row (``register``).

Who writes: the bureau for any firm; a street office for facts in the estates of
its street (``scope.may_write_credit``). Anything else is refused as not found.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from voting.domain.credit import (
    MAX_VALIDITY_MONTHS,
    Record,
    RecordClass,
    default_valid_until,
)
from voting.extensions import db
from voting.models import (
    Community,
    CorrectionKind,
    CreditAnswer,
    CreditCategory,
    CreditCorrection,
    CreditObjection,
    CreditRecord,
    Firm,
    Person,
    Role,
    Upload,
    User,
)
from voting.models.base import utcnow
from voting.services import uploads
from voting.services.access import scope
from voting.services.credit import firms, people, register
from voting.services.errors import Conflict, Forbidden, InvalidInput, NotFound

EVIDENCE = "credit"
MAX_TEXT = 2000
# The same record entered again by the same person within this is the record it made: the
# form sent twice (a double tap, a page sent again after a lost answer) made two records,
# each counted against the firm, the second only revocable with a reason.
REPEAT_WINDOW = timedelta(minutes=10)


def _text(value: str | None, field: str, message: str, limit: int) -> str:
    value = (value or "").strip()
    if not value or len(value) > limit:
        raise InvalidInput(message, field)
    return value


def category(code_or_id: str | int) -> CreditCategory:
    condition = (
        CreditCategory.id == code_or_id
        if isinstance(code_or_id, int)
        else CreditCategory.code == code_or_id
    )
    found = db.session.scalar(select(CreditCategory).where(condition))
    if found is None or not found.is_active:
        raise InvalidInput(_("请从目录中选择信用记录类别"), "category")
    return found


def categories() -> list[CreditCategory]:
    """The bureau's list of categories in use: good first, then bad, serious last."""
    return list(
        db.session.scalars(
            select(CreditCategory)
            .where(CreditCategory.is_active.is_(True))
            .order_by(
                CreditCategory.record_class.desc(),
                CreditCategory.is_serious,
                CreditCategory.id,
            )
        )
    )


def record(
    firm_id: int,
    category_code: str | int,
    fact_date: date | None,
    authority: str,
    document_number: str,
    description: str,
    *,
    person_id: int | None = None,
    community_id: int | None = None,
    points: int | None = None,
    valid_until: date | None = None,
    evidence: tuple[str, bytes] | None = None,
    by: User | None = None,
    now: datetime | None = None,
) -> CreditRecord:
    """Record a good or bad fact about a firm (or one of its people) (use case): see
    ``record_step``."""
    row = record_step(
        firm_id, category_code, fact_date, authority, document_number, description,
        person_id=person_id, community_id=community_id, points=points,
        valid_until=valid_until, evidence=evidence, by=by, now=now,
    )  # fmt: skip
    db.session.commit()
    return row


def record_step(
    firm_id: int,
    category_code: str | int,
    fact_date: date | None,
    authority: str,
    document_number: str,
    description: str,
    *,
    person_id: int | None = None,
    community_id: int | None = None,
    points: int | None = None,
    valid_until: date | None = None,
    evidence: tuple[str, bytes] | None = None,
    by: User | None = None,
    now: datetime | None = None,
    period: str | None = None,
    figures: str | None = None,
) -> CreditRecord:
    """Record a good or bad fact in the caller's transaction (a step: it never commits).
    ``period`` and ``figures``: a month (YYYY-MM) of ticket figures and the figures as JSON,
    for the records ``monthly`` makes of them.

    ``points`` in hundredths, the category's default when None; ``valid_until`` the
    last valid day, by default the category's months from the fact date (a serious
    failure has none: valid until its rectification is confirmed). ``evidence`` is a
    (file name, content) pair: PDF, JPEG or PNG, as ballots' evidence.
    """
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        raise NotFound(_("找不到该企业"))
    community = db.session.get(Community, community_id) if community_id is not None else None
    if community_id is not None and community is None:
        raise NotFound(_("找不到该小区，或您无权查看"), "community_id")
    if not scope.may_write_credit(by, community):
        if by is None or not scope.has_role(by, Role.street):
            raise NotFound(_("找不到该企业"))
        if community is None:
            raise Forbidden(
                _("街道办事处记录本街道内小区的事实：请选择发生事实的小区"), "community_id"
            )
        raise NotFound(_("找不到该小区，或您无权查看"), "community_id")
    kind = category(category_code)
    today = register.local_day(now)
    if fact_date is None:
        raise InvalidInput(_("请填写事实发生日期"), "fact_date")
    if fact_date > today:
        raise InvalidInput(_("事实发生日期不能晚于今天"), "fact_date")
    # A month's ticket figures (``period``) are the firm's own facts, whatever its register
    # says; the monthly run never stops on them.
    if period is None and firms.before_founding(firm, fact_date):
        raise InvalidInput(
            _("事实发生日期不能早于该企业的成立日期（%(day)s）", day=str(firm.established_on)),
            "fact_date",
        )
    if person_id is not None:
        _person_at(person_id, firm.id, fact_date)
    if points is None:
        points = kind.points
    if not 0 <= points <= 100 * 100:
        raise InvalidInput(_("分值须在 0 至 100 之间，最多两位小数"), "points")
    if kind.is_serious:
        valid_until = None
    elif valid_until is None:
        assert kind.validity_months is not None
        valid_until = default_valid_until(fact_date, kind.validity_months)
    elif valid_until < fact_date:
        raise InvalidInput(_("有效期不能早于事实发生日期"), "valid_until")
    elif valid_until > default_valid_until(fact_date, MAX_VALIDITY_MONTHS):
        # 9999-12-31 kept a record that is not serious against the firm for ever
        raise InvalidInput(_("有效期不能超过事实发生日期后 10 年"), "valid_until")
    row = CreditRecord(
        firm_id=firm.id,
        person_id=person_id,
        community_id=community.id if community is not None else None,
        category_id=kind.id,
        record_class=kind.record_class,
        is_serious=kind.is_serious,
        fact_date=fact_date,
        authority=_text(authority, "authority", _("请填写认定机关（不超过 120 字）"), 120),
        document_number=_text(
            document_number, "document_number", _("请填写文号（不超过 80 字）"), 80
        ),
        description=_text(
            description, "description", _("请填写事实描述（不超过 2000 字）"), MAX_TEXT
        ),
        evidence_id=None,
        points=points,
        valid_until=valid_until,
        period=period,
        figures_json=figures,
        recorded_by_id=by.id if by else None,
    )
    repeated = _repeated(row, evidence, now)
    if repeated is not None:
        return repeated
    if evidence is not None:
        filename, content = evidence
        try:
            stored = uploads.store(None, filename, content, EVIDENCE, by, firm=firm)
        except InvalidInput as refusal:  # said beside the form's file input
            raise InvalidInput(refusal.message, "evidence") from None
        db.session.flush()
        row.evidence_id = stored.id
    entry = register.append("record", register.record_data(row), now)
    row.entry_id, row.recorded_at = entry.id, entry.at
    db.session.add(row)
    db.session.flush()
    return row


def _repeated(
    row: CreditRecord, evidence: tuple[str, bytes] | None, now: datetime | None
) -> CreditRecord | None:
    """The record ``row`` repeats: entered by the same person within REPEAT_WINDOW with the
    same firm, person, estate, category, fact, authority, number, description, points,
    validity and evidence. Read under the register's lock, so two sent at once find it."""
    if row.recorded_by_id is None or row.period is not None:
        return None
    register.lock()
    same = (
        select(CreditRecord)
        .outerjoin(Upload, Upload.id == CreditRecord.evidence_id)
        .where(
            CreditRecord.recorded_by_id == row.recorded_by_id,
            CreditRecord.recorded_at >= (now or utcnow()) - REPEAT_WINDOW,
            CreditRecord.firm_id == row.firm_id,
            CreditRecord.person_id.is_not_distinct_from(row.person_id),
            CreditRecord.community_id.is_not_distinct_from(row.community_id),
            CreditRecord.category_id == row.category_id,
            CreditRecord.fact_date == row.fact_date,
            CreditRecord.authority == row.authority,
            CreditRecord.document_number == row.document_number,
            CreditRecord.description == row.description,
            CreditRecord.points == row.points,
            CreditRecord.valid_until.is_not_distinct_from(row.valid_until),
            Upload.sha256.is_not_distinct_from(
                hashlib.sha256(evidence[1]).hexdigest() if evidence is not None else None
            ),
        )
        .order_by(CreditRecord.id.desc())
        .limit(1)
    )
    return db.session.scalar(same)


def _person_at(person_id: int, firm_id: int, day: date) -> None:
    """A record about a person names the firm they worked for on the fact date."""
    if db.session.get(Person, person_id) is None:
        raise NotFound(_("找不到此人"), "person_id")
    if not people.held(person_id, firm_id, day, day):
        raise InvalidInput(_("事实发生之日此人不在该企业任职"), "person_id")


def revoke(
    record_id: int,
    reason: str,
    authority: str,
    document_number: str = "",
    *,
    effective_on: date | None = None,
    by: User | None = None,
    now: datetime | None = None,
) -> CreditCorrection:
    """Revoke a wrong record (use case): it no longer counts from ``effective_on`` (today)."""
    row = _correct(
        record_id,
        CorrectionKind.revocation,
        reason,
        authority,
        document_number,
        effective_on,
        by,
        now,
    )
    db.session.commit()
    return row


def rectify(
    record_id: int,
    reason: str,
    authority: str,
    document_number: str = "",
    *,
    effective_on: date | None = None,
    by: User | None = None,
    now: datetime | None = None,
) -> CreditCorrection:
    """Confirm a serious failure's rectification (use case): the record is valid through
    the day before ``effective_on`` (today), which ends the black list it caused."""
    row = _correct(
        record_id,
        CorrectionKind.rectification,
        reason,
        authority,
        document_number,
        effective_on,
        by,
        now,
    )
    db.session.commit()
    return row


def _correct(
    record_id: int,
    kind: CorrectionKind,
    reason: str,
    authority: str,
    document_number: str,
    effective_on: date | None,
    by: User | None,
    now: datetime | None,
) -> CreditCorrection:
    register.lock()  # corrections of one record are checked and added one at a time
    found = _writable(record_id, by)
    today = register.local_day(now)
    effective_on = effective_on or today
    if effective_on > today:
        raise InvalidInput(_("生效日期不能晚于今天"), "effective_on")
    if any(c.kind == CorrectionKind.revocation for c in found.corrections):
        raise Conflict(_("该记录已被撤销"))
    if kind is CorrectionKind.rectification:
        if not found.is_serious:
            raise Conflict(_("只有严重失信记录需要确认整改"))
        if any(c.kind == CorrectionKind.rectification for c in found.corrections):
            raise Conflict(_("该记录的整改已确认"))
    if effective_on < found.fact_date:
        raise InvalidInput(_("生效日期不能早于事实发生日期"), "effective_on")
    row = CreditCorrection(
        record_id=found.id,
        kind=kind,
        effective_on=effective_on,
        reason=_text(reason, "reason", _("请填写理由（不超过 2000 字）"), MAX_TEXT),
        authority=_text(authority, "authority", _("请填写认定机关（不超过 120 字）"), 120),
        document_number=(document_number or "").strip()[:80],
        recorded_by_id=by.id if by else None,
    )
    entry = register.append(str(kind), register.correction_data(row), now)
    row.entry_id, row.recorded_at = entry.id, entry.at
    db.session.add(row)
    return row


def object_to(record_id: int, text: str, by: User, now: datetime | None = None) -> CreditObjection:
    """The firm objects to a record about it (use case), from its own account only.

    One objection at a time: while the authority has not answered the last one, another is
    refused, so that a double tap or a second thought does not leave the authority two
    objections to answer and the public page two of the same; once answered, the firm may
    object again (new facts). Checked under the register's lock, and backed by the record's
    objection numbers being unique. A revoked record is refused: it counts no more, and
    the revocation already says the authority agreed it was wrong."""
    register.lock()  # a record's objections are checked and added one at a time
    found = db.session.get(CreditRecord, record_id)
    if found is None or found.firm_id not in scope.firm_ids(by):
        raise NotFound(_("找不到该信用记录"))
    db.session.refresh(found)
    if any(c.kind == CorrectionKind.revocation for c in found.corrections):
        raise Conflict(_("该记录已被撤销，不再计分，无需提出异议"))
    text = _text(text, "text", _("请填写异议内容（不超过 2000 字）"), MAX_TEXT)
    filed = db.session.scalar(
        select(func.count(CreditObjection.id)).where(CreditObjection.record_id == found.id)
    )
    unanswered = db.session.scalar(
        select(CreditObjection.id)
        .outerjoin(CreditAnswer)
        .where(CreditObjection.record_id == found.id, CreditAnswer.id.is_(None))
        .limit(1)
    )
    if unanswered is not None:
        raise Conflict(_("该记录已有一条异议尚未答复：认定机关答复后才能再次提出异议"))
    row = CreditObjection(
        record_id=found.id,
        number=(filed or 0) + 1,
        text=text,
        filed_by_id=by.id,
    )
    entry = register.append("objection", register.objection_data(row), now)
    row.entry_id, row.filed_at = entry.id, entry.at
    db.session.add(row)
    db.session.commit()
    return row


def answer(
    record_id: int, objection_id: int, text: str, by: User, now: datetime | None = None
) -> CreditAnswer:
    """The authority answers an objection to record ``record_id`` (use case): the bureau,
    or the street office of the estate where the fact happened; one answer per objection.
    An objection to another record is not found: the page it was sent from shows this one."""
    register.lock()
    objection = db.session.get(CreditObjection, objection_id)
    if objection is None or objection.record_id != record_id:
        raise NotFound(_("找不到该异议"))
    _writable(objection.record_id, by)
    db.session.refresh(objection)
    if objection.answer is not None:
        raise Conflict(_("该异议已答复"))
    row = CreditAnswer(
        objection_id=objection.id,
        text=_text(text, "text", _("请填写答复内容（不超过 2000 字）"), MAX_TEXT),
        answered_by_id=by.id,
    )
    entry = register.append("answer", register.answer_data(row), now)
    row.entry_id, row.answered_at = entry.id, entry.at
    db.session.add(row)
    db.session.commit()
    return row


def _writable(record_id: int, by: User | None) -> CreditRecord:
    found = db.session.get(CreditRecord, record_id)
    community = (
        db.session.get(Community, found.community_id)
        if found is not None and found.community_id is not None
        else None
    )
    if found is None or not scope.may_write_credit(by, community):
        raise NotFound(_("找不到该信用记录"))
    db.session.refresh(found)
    return found


# --- reading ----------------------------------------------------------------


def visible(record_id: int, user: User) -> CreditRecord:
    """A record as staff open it, with its corrections, objections and answers; NotFound
    outside ``user``'s scope (another firm's, another street's)."""
    found = db.session.scalar(
        select(CreditRecord)
        .where(CreditRecord.id == record_id, scope.visible_credit_records(user))
        .options(
            selectinload(CreditRecord.corrections),
            selectinload(CreditRecord.objections).selectinload(CreditObjection.answer),
        )
    )
    if found is None:
        raise NotFound(_("找不到该信用记录"))
    return found


def of_firm(firm_id: int, user: User | None = None) -> list[CreditRecord]:
    """The firm's records, newest fact first (only those ``user`` may see, when given)."""
    statement = select(CreditRecord).where(CreditRecord.firm_id == firm_id)
    if user is not None:
        statement = statement.where(scope.visible_credit_records(user))
    return list(
        db.session.scalars(
            statement.options(selectinload(CreditRecord.corrections)).order_by(
                CreditRecord.fact_date.desc(), CreditRecord.id.desc()
            )
        )
    )


def of_person(person_id: int, user: User | None = None) -> list[CreditRecord]:
    """A person's records at whichever firm: they follow the person (only those ``user``
    may see, when given)."""
    statement = select(CreditRecord).where(CreditRecord.person_id == person_id)
    if user is not None:
        statement = statement.where(scope.visible_credit_records(user))
    return list(
        db.session.scalars(
            statement.options(selectinload(CreditRecord.corrections)).order_by(
                CreditRecord.fact_date.desc(), CreditRecord.id.desc()
            )
        )
    )


def scoring_record(row: CreditRecord) -> Record:
    """A row as the domain's scoring sees it.

    A correction counts from its effective date, but never before the day it was recorded:
    like a record, it cannot change a grade already published (a rectification confirmed on
    paper on 1 September and recorded on the 5th lifts the black list from the 5th)."""
    revoked = rectified = None
    for correction in row.corrections:
        known = max(correction.effective_on, register.local_day(correction.recorded_at))
        if correction.kind == CorrectionKind.revocation:
            revoked = known
        else:
            rectified = known
    return Record(
        record_class=RecordClass(row.record_class),
        points=row.points,
        fact_date=row.fact_date,
        recorded_on=register.local_day(row.recorded_at),
        valid_until=row.valid_until,
        is_serious=row.is_serious,
        revoked_on=revoked,
        rectified_on=rectified,
    )


def is_writer(user: User, row: CreditRecord) -> bool:
    """Whether ``user`` may correct ``row`` and answer objections to it."""
    community = db.session.get(Community, row.community_id) if row.community_id else None
    return scope.may_write_credit(user, community)


def is_firm_staff(user: User, row: CreditRecord) -> bool:
    return scope.has_role(user, Role.firm) and row.firm_id in scope.firm_ids(user)
