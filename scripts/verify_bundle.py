#!/usr/bin/env python3
"""Verify an owners'-assembly audit bundle (spec owner-assembly-bundle/1 and /2) or an owner's
receipt proof (spec checkpoints-v1 §4).

Needs Python 3.11 or later and ``pip install cryptography``, nothing else:
auditors run it on their own machines. Exit status: 0 valid, 1 invalid
(each problem printed with its check number of spec §5 and its entry's seq),
2 a file could not be read or the command line is wrong.

    python scripts/verify_bundle.py BUNDLE [--receipt R]... [--proof FILE]... [--key KEY]
                                    [--witness NAME=KEY]... [--json] [--lang zh|en]
    python scripts/verify_bundle.py --proof FILE --log-key KEY [--checkpoint NOTE
                                    [--consistency FILE]] [--witness NAME=KEY]... [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

VALID, INVALID, UNREADABLE = 0, 1, 2
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "业主大会审计包核验",
        "file": "文件：{path}",
        "valid": "结论：有效。全部检查通过。",
        "invalid": "结论：无效。发现 {n} 个问题。",
        "meeting": "会议：{title}（{id}），{community}",
        "sep": "；",
        "times": "公告 {announced_at}；投票 {opens_at} 至 {closes_at}（北京时间）",
        "form": {"written": "会议形式：书面征求意见", "collective": "会议形式：集体讨论"},
        "revote": {True: "允许改票", False: "不允许改票"},
        "log_key": "日志公钥：{key}",
        "roll": "名册：{holders} 个表决权人，专有部分面积 {area} m²，人数 {headcount}",
        "log": "日志：{entries} 条；{stage}；末条哈希 {head}",
        "stage": {
            "open": "投票中，尚未结束",
            "closed": "已结束，尚未计票",
            "tallied": "已计票",
            "empty": "空",
            "broken": "顺序错误",
        },
        "rules": "规则：{name}",
        "interim": "（审计包中尚无计票条目；以下为根据日志重新计算的当前结果）",
        "motion": "议案 {motion}（第 278 条第 {item} 项，{class_}）：{title}",
        "class": {"major": "重大事项", "ordinary": "一般事项"},
        "participating": "参与表决：面积 {area} m²，人数 {headcount}（{holders} 个表决权人）",
        "quorum": "  参与线（总数的{rule}）：面积 ≥ {area} m²，人数 ≥ {headcount}：{met}",
        "threshold": "  通过线（{base}的{rule}）：面积 ≥ {area} m²，人数 ≥ {headcount}",
        "base": {"participating": "参与表决", "total": "全体"},
        "at_least": "不少于 ",
        "more_than": "超过 ",
        "met": {True: "达到", False: "未达到"},
        "option": {"agree": "同意", "oppose": "反对", "abstain": "弃权"},
        "votes": "  {label}：面积 {area} m²，人数 {headcount}",
        "passed": {True: "  结果：通过", False: "  结果：未通过"},
        "seats": "  选举 {seats} 席",
        "candidate": "  候选人 {name}（{candidate}）：面积 {area} m²，人数 {headcount}：{elected}",
        "elected": {True: "当选", False: "未当选"},
        "winners": "  当选：{names}",
        "nobody": "无",
        "attestations": "审核签名：",
        "attestation": "  {role} {name}，{at}（北京时间）：{valid}",
        "role": {"street-office": "街道办事处", "bureau": "住建部门", "committee": "业主委员会"},
        "attestation_valid": {True: "签名有效", False: "无效"},
        "no_attestations": "  无",
        "receipts": "回执：",
        "receipt_found": "  {receipt}：已找到，seq {seq}{superseded}",
        "receipt_superseded": "（已被本人之后的选票取代）",
        "receipt_missing": "  {receipt}：未找到",
        "format": "格式：{format}",
        "checkpoints": "见证检查点（{origin}）：",
        "note": "  大小 {size}：根哈希 {root}；{signers}{valid}",
        "cosigned": "{name} 于 {at}（北京时间）共同签署",
        "log_only": "只有日志签名",
        "note_valid": {True: "", False: "：无效"},
        "witness": "  见证方 {name}，公钥 {key}",
        "proofs": "回执证明：",
        "proof": "  {receipt}：{valid}（大小 {size} 的检查点）",
        "proof_valid": {True: "与本日志一致", False: "与本日志不符"},
        "proof_title": "业主回执证明核验",
        "receipt": "回执：{receipt}",
        "checkpoint": "检查点：{origin}，大小 {size}，根哈希 {root}",
        "log_signature": {True: "  日志签名：有效", False: "  日志签名：无效"},
        "included": {
            True: "  包含证明：这张选票在该检查点的日志中",
            False: "  包含证明：无效",
        },
        "later": "之后的检查点：大小 {size}，根哈希 {root}",
        "consistent": {
            True: "  一致性：包含回执检查点的日志（只追加，未被改写）",
            False: "  一致性：不包含回执的检查点（日志被分叉或改写）",
        },
        "witnessed_by": "  {name} 于 {at}（北京时间）共同签署{valid}",
        "not_witnessed": "  没有所给见证方的共同签名",
        "problems": "问题：",
        "problem": "  [检查 {check}：{name}] {where}{message}",
        "proof_problem": "  {message}",
        "seq": "seq {seq}：",
        "omitted": "  另有检查 {check} 的 {count} 个问题未列出",
        "checks": {
            1: "格式与字段",
            2: "哈希链与签名",
            3: "顺序、时间与会议",
            4: "名册",
            5: "选票",
            6: "结束时的有效票数",
            7: "计票结果",
            8: "审核签名",
            9: "回执",
            10: "见证检查点",
        },
        "unreadable": "无法读取：{error}",
        "usage": "用法错误：{error}",
        "failed": "核验程序出错：{error}",
    },
    "en": {
        "title": "Owners' assembly audit bundle verification",
        "file": "File: {path}",
        "valid": "Verdict: VALID. Every check passed.",
        "invalid": "Verdict: INVALID. {n} problem(s) found.",
        "meeting": "Meeting: {title} ({id}), {community}",
        "sep": "; ",
        "times": "announced {announced_at}; voting {opens_at} to {closes_at} (Beijing time)",
        "form": {
            "written": "form: written consultation",
            "collective": "form: collective discussion",
        },
        "revote": {True: "revoting allowed", False: "no revoting"},
        "log_key": "Log key: {key}",
        "roll": "Roll: {holders} holders, exclusive area {area} m², headcount {headcount}",
        "log": "Log: {entries} entries; {stage}; head {head}",
        "stage": {
            "open": "voting, not closed",
            "closed": "closed, not tallied",
            "tallied": "tallied",
            "empty": "empty",
            "broken": "out of order",
        },
        "rules": "Rules: {name}",
        "interim": "(No tally in the bundle yet: results recomputed from the log so far.)",
        "motion": "Motion {motion} (art. 278 item {item}, {class_}): {title}",
        "class": {"major": "major matter", "ordinary": "ordinary matter"},
        "participating": "Participating: area {area} m², headcount {headcount} ({holders} holders)",
        "quorum": "  Quorum ({rule} of the roll): area ≥ {area} m², headcount ≥ {headcount}, {met}",
        "threshold": "  Threshold ({rule} of {base}): area ≥ {area} m², headcount ≥ {headcount}",
        "base": {"participating": "participating", "total": "the total"},
        "at_least": "at least ",
        "more_than": "more than ",
        "met": {True: "met", False: "NOT met"},
        "option": {"agree": "Agree", "oppose": "Oppose", "abstain": "Abstain"},
        "votes": "  {label}: area {area} m², headcount {headcount}",
        "passed": {True: "  Outcome: PASSED", False: "  Outcome: NOT passed"},
        "seats": "  Election of {seats} seat(s)",
        "candidate": "  {name} ({candidate}): area {area} m², headcount {headcount}, {elected}",
        "elected": {True: "elected", False: "not elected"},
        "winners": "  Elected: {names}",
        "nobody": "nobody",
        "attestations": "Attestations:",
        "attestation": "  {role} {name}, {at} (Beijing time): {valid}",
        "role": {
            "street-office": "street office",
            "bureau": "housing bureau",
            "committee": "owners' committee",
        },
        "attestation_valid": {True: "signature valid", False: "INVALID"},
        "no_attestations": "  none",
        "receipts": "Receipts:",
        "receipt_found": "  {receipt}: found at seq {seq}{superseded}",
        "receipt_superseded": " (superseded by the holder's later ballot)",
        "receipt_missing": "  {receipt}: NOT FOUND",
        "format": "Format: {format}",
        "checkpoints": "Witnessed checkpoints ({origin}):",
        "note": "  size {size}: root {root}; {signers}{valid}",
        "cosigned": "cosigned by {name} at {at} (Beijing time)",
        "log_only": "signed by the log only",
        "note_valid": {True: "", False: ": INVALID"},
        "witness": "  witness {name}, key {key}",
        "proofs": "Receipt proofs:",
        "proof": "  {receipt}: {valid} (checkpoint of size {size})",
        "proof_valid": {True: "agrees with this log", False: "DISAGREES with this log"},
        "proof_title": "Owner's receipt proof verification",
        "receipt": "Receipt: {receipt}",
        "checkpoint": "Checkpoint: {origin}, size {size}, root {root}",
        "log_signature": {True: "  Log signature: valid", False: "  Log signature: INVALID"},
        "included": {
            True: "  Inclusion: the ballot is in the log of this checkpoint",
            False: "  Inclusion: INVALID",
        },
        "later": "Later checkpoint: size {size}, root {root}",
        "consistent": {
            True: "  Consistency: contains the receipt's checkpoint (append-only, not rewritten)",
            False: "  Consistency: does NOT contain the receipt's checkpoint (forked or rewritten)",
        },
        "witnessed_by": "  cosigned by {name} at {at} (Beijing time){valid}",
        "not_witnessed": "  no cosignature by a given witness",
        "problems": "Problems:",
        "problem": "  [check {check}: {name}] {where}{message}",
        "proof_problem": "  {message}",
        "seq": "seq {seq}: ",
        "omitted": "  {count} more problem(s) of check {check} not listed",
        "checks": {
            1: "format and fields",
            2: "hash chain and signatures",
            3: "order, times and meeting",
            4: "roll",
            5: "ballots",
            6: "effective ballots at close",
            7: "tally",
            8: "attestations",
            9: "receipts",
            10: "witnessed checkpoints",
        },
        "unreadable": "cannot read: {error}",
        "usage": "usage error: {error}",
        "failed": "the verifier failed: {error}",
    },
}


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Verify an owners'-assembly audit bundle (spec owner-assembly-bundle/1 "
        "and /2) or an owner's receipt proof (spec checkpoints-v1 §4)."
    )
    parser.add_argument("bundle", nargs="?", help="the bundle file (JSON)")
    parser.add_argument(
        "--receipt",
        action="append",
        default=[],
        help="an owner's receipt, MEETING:SEQ:HASH or the hash alone (repeatable)",
    )
    parser.add_argument(
        "--proof",
        action="append",
        default=[],
        metavar="FILE",
        help="an owner's receipt proof file; against the bundle, or alone (then only one)",
    )
    parser.add_argument(
        "--key",
        "--log-key",
        dest="key",
        help="the log public key (write --key=KEY); required for a proof without a bundle",
    )
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="NAME=KEY",
        help="a witness (street office) key name and public key you trust (repeatable)",
    )
    parser.add_argument(
        "--checkpoint", metavar="NOTE", help="without a bundle: a later checkpoint note (file)"
    )
    parser.add_argument(
        "--consistency",
        metavar="FILE",
        help="without a bundle: the consistency proof from the receipt's checkpoint to it",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the report")
    arguments = parser.parse_args(argv)
    if arguments.bundle is None and len(arguments.proof) != 1:
        parser.error("give a BUNDLE, or one --proof FILE to check without a bundle")
    if arguments.bundle is None and arguments.key is None:
        parser.error("a proof without a bundle needs the log key: --log-key=KEY")
    if arguments.bundle is not None and (arguments.checkpoint or arguments.consistency):
        parser.error("--checkpoint and --consistency check a proof without a bundle")
    if arguments.consistency and not arguments.checkpoint:
        parser.error("--consistency needs the --checkpoint it leads to")
    return arguments


def main(argv: list[str] | None = None) -> int:
    lang = "zh"
    if sys.version_info < (3, 11):  # noqa: UP036 - auditors may run any Python
        return _fail(TEXT[lang]["failed"], "Python 3.11 or later is needed")
    try:
        arguments = parse_arguments(argv)
        lang = arguments.lang
        # The repository root, so that voting.domain imports without installing anything.
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        inputs = _Inputs(arguments)
        if arguments.bundle is None:
            data = inputs.check_proof()
            output_lines = render_proof(data, arguments.proof[0], TEXT[lang])
        else:
            data = inputs.check_bundle()
            output_lines = render(data, arguments.bundle, TEXT[lang])
        output = (
            json.dumps(data, ensure_ascii=False, indent=2)
            if arguments.json
            else "\n".join(output_lines)
        )
    except SystemExit as exit_:  # argparse has printed the usage
        return UNREADABLE if exit_.code else VALID
    except _Unreadable as error:
        return _fail(TEXT[lang]["unreadable"], error)
    except OSError as error:
        return _fail(TEXT[lang]["unreadable"], error)
    except ValueError as error:
        return _fail(TEXT[lang]["usage"], error)
    except ImportError as error:
        return _fail(TEXT[lang]["failed"], f"{error} (pip install cryptography)")
    except KeyboardInterrupt:
        return _fail(TEXT[lang]["failed"], "interrupted")
    except Exception as error:  # an auditor must never meet a traceback
        return _fail(TEXT[lang]["failed"], f"{type(error).__name__}: {error}")
    try:
        print(output, flush=True)
    except BrokenPipeError:  # the reader (say, `| head`) stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return VALID if data["valid"] else INVALID


class _Unreadable(Exception):
    """A proof, checkpoint or consistency file that cannot be read as one."""


class _Inputs:
    """The files and keys named on the command line, read and checked for form."""

    def __init__(self, arguments: argparse.Namespace) -> None:
        from voting.domain.receipt_proof import ReceiptProof

        self.arguments = arguments
        self.key = _key_text(arguments.key) if arguments.key is not None else None
        self.witnesses = dict(_witness(text) for text in arguments.witness)
        self.proofs = [self._read(path, ReceiptProof.parse) for path in arguments.proof]

    def check_bundle(self) -> dict[str, Any]:
        from voting.domain.bundle import verify_bundle

        report = verify_bundle(
            self.arguments.bundle,
            receipts=self.arguments.receipt,
            pinned_key=self.key,
            proofs=self.proofs,
            pinned_witnesses=self.witnesses,
        )
        return report.to_data()

    def check_proof(self) -> dict[str, Any]:
        from voting.domain.notes import parse_note
        from voting.domain.receipt_proof import check_receipt_proof, parse_consistency
        from voting.domain.signing import public_key_raw

        arguments = self.arguments
        later = self._read(arguments.checkpoint, parse_note) if arguments.checkpoint else None
        consistency = (
            self._read(arguments.consistency, parse_consistency) if arguments.consistency else None
        )
        assert self.key is not None, "checked with the arguments"
        witnesses = {name: public_key_raw(key) for name, key in self.witnesses.items()}
        report = check_receipt_proof(
            self.proofs[0], public_key_raw(self.key), later, consistency, witnesses
        )
        return {"valid": report.pop("valid"), **report}

    @staticmethod
    def _read(path: str, parse: Any) -> Any:
        from voting.domain.notes import NoteError
        from voting.domain.receipt_proof import ProofFileError

        with open(path, "rb") as handle:
            data = handle.read((1 << 20) + 1)  # larger is refused by the parser
        try:
            return parse(data)
        except (NoteError, ProofFileError) as error:
            raise _Unreadable(f"{path}: {error}") from error


def _key_text(value: str) -> str:
    """A key as the bundle writes it, from that form or a C2SP verifier key (name+id+key)."""
    from voting.domain.notes import parse_verifier_key
    from voting.domain.signing import public_key_raw, public_key_text

    if "+" in value:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        _, _, raw = parse_verifier_key(value)
        return public_key_text(Ed25519PublicKey.from_public_bytes(raw))
    public_key_raw(value)  # raises ValueError for anything else
    return value


def _witness(text: str) -> tuple[str, str]:
    name, equals, key = text.rpartition("=")
    if not equals or not name:
        raise ValueError(f"--witness {text!r} is not NAME=KEY")
    return name, _key_text(key)


def _fail(template: str, error: object) -> int:
    print(template.format(error=error), file=sys.stderr)
    return UNREADABLE


# --- the human summary --------------------------------------------------------------


def render(data: dict[str, Any], path: str, text: dict[str, Any]) -> list[str]:
    verdict = text["valid"] if data["valid"] else text["invalid"].format(n=len(data["problems"]))
    lines = [text["title"], text["file"].format(path=path), verdict, ""]
    lines += _meeting_lines(data, text)
    if data["stage"] != "tallied" and data["motions"]:
        lines.append(text["interim"])
    for motion in data["motions"]:
        lines += ["", *_motion_lines(motion, text)]
    lines += ["", text["attestations"]]
    lines += [_attestation_line(a, text) for a in data["attestations"]] or [text["no_attestations"]]
    if data["checkpoints"] is not None:
        lines += ["", *_checkpoint_lines(data["checkpoints"], text)]
    if data["receipts"]:
        lines += ["", text["receipts"], *(_receipt_line(r, text) for r in data["receipts"])]
    if data["proofs"]:
        lines += ["", text["proofs"]]
        for proof in data["proofs"]:
            lines.append(
                text["proof"].format(**{**proof, "valid": text["proof_valid"][proof["valid"]]})
            )
    if data["problems"]:
        lines += ["", text["problems"], *_problem_lines(data, text), "", verdict]
    return lines


def _checkpoint_lines(checkpoints: dict[str, Any], text: dict[str, Any]) -> list[str]:
    lines = [text["checkpoints"].format(**checkpoints)]
    for note in checkpoints["notes"]:
        cosigned = [
            text["cosigned"].format(**{**c, "at": _beijing(c["at"])})
            for c in note["cosignatures"]
            if c["valid"]
        ]
        signers = text["sep"].join(cosigned) or text["log_only"]
        valid = text["note_valid"][note["valid"]]
        lines.append(text["note"].format(**{**note, "signers": signers, "valid": valid}))
    lines += [text["witness"].format(**witness) for witness in checkpoints["witnesses"]]
    return lines


def render_proof(data: dict[str, Any], path: str, text: dict[str, Any]) -> list[str]:
    """The report on a receipt proof checked without a bundle."""
    verdict = text["valid"] if data["valid"] else text["invalid"].format(n=len(data["problems"]))
    checkpoint = data["checkpoint"]
    lines = [text["proof_title"], text["file"].format(path=path), verdict, ""]
    lines += [
        text["receipt"].format(**data),
        text["checkpoint"].format(**checkpoint),
        text["log_signature"][checkpoint["log_signature"]],
        text["included"][data["included"]],
        *_cosignature_lines(checkpoint["cosignatures"], text),
    ]
    later = data["later"]
    if later is not None and later["size"] is not None:
        lines += [
            "",
            text["later"].format(**later),
            text["log_signature"][later["log_signature"]],
            text["consistent"][later["consistent"]],
            *(_cosignature_lines(later["cosignatures"], text) or [text["not_witnessed"]]),
        ]
    if data["problems"]:
        lines += [
            "",
            text["problems"],
            *(text["proof_problem"].format(message=m) for m in data["problems"]),
        ]
        lines += ["", verdict]
    return lines


def _cosignature_lines(cosignatures: list[dict[str, Any]], text: dict[str, Any]) -> list[str]:
    return [
        text["witnessed_by"].format(
            **{**c, "at": _beijing(c["at"]), "valid": text["note_valid"][c["valid"]]}
        )
        for c in cosignatures
    ]


def _meeting_lines(data: dict[str, Any], text: dict[str, Any]) -> list[str]:
    lines = [text["format"].format(format=data["format"])] if data["format"] else []
    meeting = data["meeting"]
    if meeting is not None:
        lines.append(text["meeting"].format(**meeting))
        times = {key: _beijing(meeting[key]) for key in ("announced_at", "opens_at", "closes_at")}
        details = [
            text["form"].get(meeting["form"], meeting["form"]),
            text["times"].format(**times),
        ]
        lines.append("  " + text["sep"].join([*details, text["revote"][meeting["revote"]]]))
    if data["log_key"] is not None:
        lines.append(text["log_key"].format(key=data["log_key"]))
    if data["roll"] is not None:
        lines.append(text["roll"].format(**data["roll"]))
    stage = text["stage"][data["stage"]]
    lines.append(text["log"].format(entries=data["entries"], stage=stage, head=data["head"]))
    if data["rules"] is not None:
        lines.append(text["rules"].format(**data["rules"]))
    return lines


def _motion_lines(motion: dict[str, Any], text: dict[str, Any]) -> list[str]:
    class_ = text["class"][motion["class"]]
    lines = [
        text["motion"].format(class_=class_, **motion),
        "  " + text["participating"].format(**motion["participating"]),
        text["quorum"].format(
            rule=_rule(motion["quorum"]["rule"], text),
            met=text["met"][motion["quorum"]["met"]],
            **motion["quorum"]["needs"],
        ),
        text["threshold"].format(
            rule=_rule(motion["threshold"]["rule"], text),
            base=text["base"][motion["threshold"]["base"]],
            **motion["threshold"]["needs"],
        ),
    ]
    if motion["kind"] == "approval":
        for option in ("agree", "oppose", "abstain"):
            lines.append(text["votes"].format(label=text["option"][option], **motion[option]))
        return [*lines, text["passed"][motion["passed"]]]
    lines.append(text["seats"].format(seats=motion["seats"]))
    for candidate in motion["candidates"]:
        elected = text["elected"][candidate["elected"]]
        lines.append(
            text["candidate"].format(**{**candidate, **candidate["votes"], "elected": elected})
        )
    winners = [c["name"] for c in motion["candidates"] if c["elected"]]
    return [*lines, text["winners"].format(names="、".join(winners) or text["nobody"])]


def _rule(rule: dict[str, Any], text: dict[str, Any]) -> str:
    word = text["more_than"] if rule["strict"] else text["at_least"]
    if rule["area"] == rule["headcount"]:
        return word + rule["area"]
    return f"{word}{rule['area']} / {rule['headcount']}"


def _attestation_line(attestation: dict[str, Any], text: dict[str, Any]) -> str:
    valid = text["attestation_valid"][attestation["valid"]]
    role = text["role"].get(attestation["role"], attestation["role"])
    at = _beijing(attestation["at"])
    return text["attestation"].format(**{**attestation, "role": role, "at": at, "valid": valid})


def _beijing(value: Any) -> str:
    """A spec time (UTC) as the site, the notice and the PDF show it: Beijing time (UTC+8,
    no daylight saving); the ``--json`` report keeps the spec's UTC text. Anything else is
    shown as written (check 1 names it)."""
    try:
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return str(value)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _receipt_line(receipt: dict[str, Any], text: dict[str, Any]) -> str:
    if not receipt["found"]:
        return text["receipt_missing"].format(**receipt)
    superseded = text["receipt_superseded"] if receipt["superseded"] else ""
    return text["receipt_found"].format(**{**receipt, "superseded": superseded})


def _problem_lines(data: dict[str, Any], text: dict[str, Any]) -> list[str]:
    lines = []
    for problem in data["problems"]:
        where = "" if problem["seq"] is None else text["seq"].format(seq=problem["seq"])
        name = text["checks"][problem["check"]]
        lines.append(text["problem"].format(name=name, where=where, **problem))
    for check, count in data["omitted"].items():
        lines.append(text["omitted"].format(check=check, count=count))
    return lines


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
