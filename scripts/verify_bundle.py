#!/usr/bin/env python3
"""Verify an owners'-assembly audit bundle (spec owner-assembly-bundle/1).

Needs Python 3.11 or later and ``pip install cryptography``, nothing else:
auditors run it on their own machines. Exit status: 0 valid, 1 invalid
(each problem printed with its check number of spec §5 and its entry's seq),
2 the file could not be read or the command line is wrong.

    python scripts/verify_bundle.py BUNDLE [--receipt R]... [--key KEY] [--json] [--lang zh|en]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

VALID, INVALID, UNREADABLE = 0, 1, 2

TEXT = {
    "zh": {
        "title": "业主大会审计包核验",
        "file": "文件：{path}",
        "valid": "结论：有效。全部检查通过。",
        "invalid": "结论：无效。发现 {n} 个问题。",
        "meeting": "会议：{title}（{id}），{community}",
        "sep": "；",
        "times": "公告 {announced_at}；投票 {opens_at} 至 {closes_at}（UTC）",
        "form": {"written": "书面征求意见", "collective": "集体讨论"},
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
        "attestations": "见证签名：",
        "attestation": "  {role} {name}，{at}：{valid}",
        "attestation_valid": {True: "签名有效", False: "无效"},
        "no_attestations": "  无",
        "receipts": "回执：",
        "receipt_found": "  {receipt}：已找到，seq {seq}{superseded}",
        "receipt_superseded": "（已被本人之后的选票取代）",
        "receipt_missing": "  {receipt}：未找到",
        "problems": "问题：",
        "problem": "  [检查 {check}：{name}] {where}{message}",
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
            8: "见证签名",
            9: "回执",
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
        "times": "announced {announced_at}; voting {opens_at} to {closes_at} (UTC)",
        "form": {"written": "written solicitation", "collective": "collective discussion"},
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
        "attestation": "  {role} {name}, {at}: {valid}",
        "attestation_valid": {True: "signature valid", False: "INVALID"},
        "no_attestations": "  none",
        "receipts": "Receipts:",
        "receipt_found": "  {receipt}: found at seq {seq}{superseded}",
        "receipt_superseded": " (superseded by the holder's later ballot)",
        "receipt_missing": "  {receipt}: NOT FOUND",
        "problems": "Problems:",
        "problem": "  [check {check}: {name}] {where}{message}",
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
        },
        "unreadable": "cannot read: {error}",
        "usage": "usage error: {error}",
        "failed": "the verifier failed: {error}",
    },
}


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Verify an owners'-assembly audit bundle (spec owner-assembly-bundle/1)."
    )
    parser.add_argument("bundle", help="the bundle file (JSON)")
    parser.add_argument(
        "--receipt",
        action="append",
        default=[],
        help="an owner's receipt, MEETING:SEQ:HASH or the hash alone (repeatable)",
    )
    parser.add_argument(
        "--key", help="the log public key the bundle must be signed with (write --key=KEY)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the report")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    lang = "zh"
    if sys.version_info < (3, 11):  # noqa: UP036 - auditors may run any Python
        return _fail(TEXT[lang]["failed"], "Python 3.11 or later is needed")
    try:
        arguments = parse_arguments(argv)
        lang = arguments.lang
        # The repository root, so that voting.domain imports without installing anything.
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from voting.domain.bundle import verify_bundle

        report = verify_bundle(
            arguments.bundle, receipts=arguments.receipt, pinned_key=arguments.key
        )
        data = report.to_data()
        if arguments.json:
            output = json.dumps(data, ensure_ascii=False, indent=2)
        else:
            output = "\n".join(render(data, arguments.bundle, TEXT[lang]))
    except SystemExit as exit_:  # argparse has printed the usage
        return UNREADABLE if exit_.code else VALID
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
    return VALID if report.valid else INVALID


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
    if data["receipts"]:
        lines += ["", text["receipts"], *(_receipt_line(r, text) for r in data["receipts"])]
    if data["problems"]:
        lines += ["", text["problems"], *_problem_lines(data, text), "", verdict]
    return lines


def _meeting_lines(data: dict[str, Any], text: dict[str, Any]) -> list[str]:
    lines = []
    meeting = data["meeting"]
    if meeting is not None:
        lines.append(text["meeting"].format(**meeting))
        details = [text["form"][meeting["form"]], text["times"].format(**meeting)]
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
    return text["attestation"].format(**{**attestation, "valid": valid})


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
