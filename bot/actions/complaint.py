"""Complaints (불만 접수): a category and what happened, routed with a 24-hour deadline."""

import re
from typing import Any

from bot.actions import texts
from bot.actions.common import (
    FormRules,
    cancelled_this_turn,
    form_run_key,
    open_and_tell,
    reset_form,
)
from bot.actions.sdk import Action, Context, Dispatcher, Event, Tracker, button
from bot.db.models import RequestKind

# Words that give a complaint's category away, so the bot need not ask.
CATEGORY_KEYWORDS = {
    "보험금 지급": ("보험금", "청구", "지급", "보상", "심사"),
    "대출": ("대출", "약대", "이자", "이율"),
    "보험료·수납": (
        "보험료",
        "자동이체",
        "수납",
        "납입",
        "출금",
        "빠져",
        "인출",
        "이중",
        "중복",
        "두 번",
        "두번",
    ),
    "해지·환급": ("해지", "환급", "해약"),
    "직원 응대": (
        "직원",
        "설계사",
        "상담원",
        "불친절",
        "응대",
        "전화를 안",
        "권유",
        "판촉",
        "무례",
        "반말",
        "태도",
        "연락이 없",
        "연락을 안",
    ),
    "제휴 서비스": ("트랜스팩", "이사", "임종의 전화", "장례", "그린그린", "결혼", "카드"),
}
MIN_DETAILS = 8  # characters beyond the generic words: "불만 접수할래요" still asks what happened
GENERIC_WORDS = re.compile(
    r"불만|불편|민원|접수|신고|하려고|할래요|할게요|있어요|하고\s*싶어요|좀|요|\s"
)


def says_what_happened(text: str) -> bool:
    """Whether an opening message already describes the problem, not just the wish to complain."""
    return len(GENERIC_WORDS.sub("", text)) >= MIN_DETAILS


def guess_category(text: str) -> str | None:
    for category, words in CATEGORY_KEYWORDS.items():
        if any(word in text for word in words):
            return category
    return None


class ValidateComplaintForm(FormRules):
    """Keep what happened when the opening message already tells it; ask the category."""

    name = "validate_complaint_form"
    form = "complaint_form"
    free_text = frozenset({"complaint_details"})

    async def validate_complaint_category(
        self, value: Any, dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        chosen = next((c for c in texts.COMPLAINT_CATEGORIES if c == text), None)
        return {"complaint_category": chosen or guess_category(text) or "기타"}

    async def validate_complaint_details(
        self, value: Any, dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        return {"complaint_details": str(value or "").strip() or None}

    async def after_validation(
        self, changes: dict[str, Any], dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        resuming = tracker.get_slot("complaint_category") is not None
        if tracker.intent != "complaint" or tracker.get_slot("complaint_details") or resuming:
            return {}
        # The story is kept as the details; the category is still chosen from the buttons.
        if says_what_happened(tracker.text):
            return {"complaint_details": tracker.text.strip()}
        return {}


class AskComplaintCategory(Action):
    name = "action_ask_complaint_category"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        """Offer the categories as buttons."""
        dispatcher.say(
            texts.ASK_COMPLAINT_CATEGORY, [button(c, c) for c in texts.COMPLAINT_CATEGORIES]
        )
        return []


class SubmitComplaint(Action):
    name = "action_submit_complaint"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        """Open the complaint request and apologise with its reference."""
        if cancelled_this_turn(tracker):
            return reset_form("complaint_form")
        category = str(tracker.get_slot("complaint_category") or "기타")
        details = str(tracker.get_slot("complaint_details") or "")
        await open_and_tell(
            dispatcher,
            ctx,
            kind=RequestKind.COMPLAINT,
            summary=f"[{category}] {details}",
            message=texts.COMPLAINT_DONE,
            details={"category": category, "text": details},
            idempotency_key=form_run_key(tracker, "complaint_form"),
        )
        return reset_form("complaint_form")
