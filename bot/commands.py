"""Leaders' typed commands: 我的任务 · 接单 N · 处理中 N · 办结 N 说明 · 上报 N 原因 · 转介 N 序号;
a service provider's 退回 N 原因. Pure parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass

OPS = {
    "接单": "accept",
    "接": "accept",
    "受理": "accept",
    "处理中": "in_progress",
    "正在处理": "in_progress",
    "在处理": "in_progress",
    "办结": "resolve",
    "办好": "resolve",
    "办好了": "resolve",
    "已办结": "resolve",
    "完成": "resolve",
    "上报": "escalate",
    "转交": "escalate",
    "同意绑定": "approve_binding",
    "转介": "refer",
    "退回": "return",
    "名单": "roster",  # an activity's sign-ups: 名单 活动号
    "签到": "attend",  # who came: 签到 活动号 1 3 5
}
_OP_RE = "|".join(sorted(map(re.escape, OPS), key=len, reverse=True))
_STEP = re.compile(
    rf"^\s*(?P<op>{_OP_RE})\s*(?:单号)?\s*(?P<no>[0-9A-Za-z]{{4,8}})?\s*[，,：:。\s]*(?P<note>.*?)\s*$"
)
_TASKS = re.compile(r"^\s*(我的)?(任务|待办|任务列表|我的任务)[。!！]?\s*$")
# 发起活动 标题；时间；地点；人数  (a leader or staff member announces an activity)
_NEW_ACTIVITY = re.compile(r"^\s*(发起活动|发布活动|新活动)\s*[:：]?\s*(?P<spec>.+?)\s*$")
_SIGN = re.compile(
    r"^\s*(?P<op>我要报名|报名|报个名|取消报名|不报名了|退出报名)\s*(?:活动)?\s*(?P<no>\d{4})?\s*[。!！]?\s*$"
)
SIGN_OPS = {"取消报名": "activity.cancel", "不报名了": "activity.cancel", "退出报名": "activity.cancel"}


def activity_words(text: str) -> tuple[str, str | None] | None:
    """报名 / 取消报名, with an optional activity number: (action, number) or None."""
    m = _SIGN.match(text or "")
    if not m:
        return None
    return SIGN_OPS.get(m.group("op"), "activity.sign_up"), m.group("no")


# Menu buttons arrive as their labels (WeChat menu, Telegram keyboard, a resident reading the menu aloud).
MENU_WORDS = {
    "反映问题": "report.ask",
    "我要反映问题": "report.ask",
    "我要反映": "report.ask",
    "报事": "report.ask",
    "查询进度": "status.query",
    "查进度": "status.query",
    "找联户长": "human.leader",
    "转人工": "human.handoff",
    "人工服务": "human.handoff",
    "菜单": "help.menu",
}
_TRIM = re.compile(r"[\s，,。.!！?？【】\[\]]+")


def menu_action(text: str) -> str | None:
    """The action a menu label stands for, when the whole message is one."""
    return MENU_WORDS.get(_TRIM.sub("", text or ""))


@dataclass(frozen=True)
class Command:
    op: str  # tasks | accept | in_progress | resolve | escalate | approve_binding | refer | return
    ticket_no: str | None = None
    note: str = ""


def parse_command(text: str) -> Command | None:
    """A leader command, or None when the text is ordinary speech."""
    text = (text or "").strip()
    if _TASKS.match(text):
        return Command("tasks")
    m = _NEW_ACTIVITY.match(text)
    if m:
        return Command("create_activity", None, m.group("spec"))
    m = _STEP.match(text)
    if not m:
        return None
    op = OPS[m.group("op")]
    no = m.group("no")
    note = m.group("note") or ""
    if no is None and note:
        return None  # "办好了，谢谢" from a resident is not a command
    return Command(op, no, note)
