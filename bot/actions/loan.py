"""Phone policy-loan requests (약관대출): choose the policy, the amount, confirm.

The lending rules live in ``bot.services.loans``; the form applies them to each answer, and the
submit has the service check them all again where the request is opened.
"""

from typing import Any

from bot.actions import texts
from bot.actions.common import (
    FormRules,
    cancelled_this_turn,
    form_run_key,
    reset_form,
    tell_opened,
    yes_no_buttons,
    yes_or_no,
)
from bot.actions.sdk import Action, Context, Dispatcher, Event, Tracker, button
from bot.db.models import Policy
from bot.services import loans
from bot.services.labels import won
from bot.services.loans import MIN_LOAN, LoanProblem, LoanRefused
from nlu.money import find_amounts, parse_amount


def amount_in_answer(text: str) -> int | None:
    """The amount a reply to "얼마를 빌리고 싶으세요?" gives: a clean amount, or else the one
    amount the reply names ("그럼 한도까지 300만원 해주세요")."""
    found = parse_amount(text)
    if found is not None:
        return found
    values = {int(s.value) for s in find_amounts(text)}
    return values.pop() if len(values) == 1 else None


__all__ = ["MIN_LOAN", "check_amount", "loanable_policies"]


async def loanable_policies(ctx: Context) -> list[Policy]:
    return await loans.loanable_policies(ctx.session, ctx.policyholder)


def match_policy(text: str, policies: list[Policy]) -> Policy | None:
    """Find the policy a free-text answer or a button payload refers to."""
    compact = text.replace(" ", "").upper()
    for policy in policies:
        if policy.number.upper() in compact:
            return policy
    named = [p for p in policies if p.product.replace(" ", "") in compact]
    if not named:
        # 암보험이요, 종신보험으로: the product's name without 무배당 / 유배당 is enough.
        named = [p for p in policies if _short_product(p.product) in compact]
    return named[0] if len(named) == 1 else None


def _short_product(product: str) -> str:
    """무배당종신보험 → 종신, 무배당암보험 → 암보험 (one syllable is too little to go on)."""
    short = product.replace(" ", "").removeprefix("무배당").removeprefix("유배당")
    stem = short.removesuffix("보험")
    return stem if len(stem) >= 2 else short


def refusal(problem: LoanProblem) -> str:
    """The polite Korean reason for a loan problem, the same in the form and at submit."""
    if problem.reason == "unreadable":
        return texts.LOAN_AMOUNT_UNREADABLE
    if problem.reason == "too_small":
        return texts.LOAN_AMOUNT_TOO_SMALL
    if problem.reason == "step":
        return texts.LOAN_AMOUNT_STEP.format(rounded=won(problem.rounded or 0))
    if problem.reason == "over_limit" and problem.policy is not None:
        return texts.LOAN_AMOUNT_OVER_LIMIT.format(
            product=problem.policy.product, limit=won(problem.policy.loan_limit)
        )
    return texts.LOAN_POLICY_NOT_LOANABLE


def check_amount(amount: int | None, policy: Policy | None) -> str | None:
    """The Korean reason an amount cannot be lent, or None when it can."""
    problem = loans.amount_problem(amount, policy)
    return None if problem is None else refusal(problem)


class ValidateLoanForm(FormRules):
    """Validate the loan form; pick the policy by itself when there is only one."""

    name = "validate_loan_form"
    form = "loan_form"

    async def validate_loan_policy(
        self, value: Any, dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        policy = match_policy(str(value or ""), await loanable_policies(ctx))
        if policy is None:
            dispatcher.say(texts.LOAN_POLICY_UNKNOWN)
            return {"loan_policy": None}
        # An amount given before the policy ("2천만원 대출" first) must fit this policy too.
        amount = tracker.get_slot("loan_amount")
        if isinstance(amount, int) and "loan_amount" not in tracker.slots_to_validate():
            problem = check_amount(amount, policy)
            if problem:
                dispatcher.say(problem)
                return {"loan_policy": policy.number, "loan_amount": None}
        return {"loan_policy": policy.number}

    async def validate_loan_amount(
        self, value: Any, dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        amount = value if isinstance(value, int) else amount_in_answer(str(value or ""))
        policies = await loanable_policies(ctx)
        policy = match_policy(str(tracker.get_slot("loan_policy") or ""), policies)
        problem = check_amount(amount, policy)
        if problem:
            dispatcher.say(problem)
            return {"loan_amount": None}
        return {"loan_amount": amount}

    async def validate_loan_confirm(
        self, value: Any, dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        answer = yes_or_no(tracker)
        if answer is not None:
            return {"loan_confirm": answer}
        amount = amount_in_answer(tracker.text)
        if amount is not None:
            # "250만원으로 바꿔 주세요": a new amount, checked like an answer; confirm again.
            return {
                **await self.validate_loan_amount(amount, dispatcher, tracker, ctx),
                "loan_confirm": None,
            }
        dispatcher.say(texts.YES_NO_AGAIN)
        return {"loan_confirm": None}

    async def after_validation(
        self, changes: dict[str, Any], dispatcher: Dispatcher, tracker: Tracker, ctx: Context
    ) -> dict[str, Any]:
        policies = await loanable_policies(ctx)
        if not policies:
            dispatcher.say(texts.LOAN_NO_POLICY)
            return {"requested_slot": None, "loan_policy": None}
        extra: dict[str, Any] = {}
        chosen = changes.get("loan_policy", tracker.get_slot("loan_policy"))
        if chosen is None:
            # "무배당암보험으로 300만원 대출해 주세요": take what the opening message already says.
            policy = (
                match_policy(tracker.text, policies) if tracker.intent == "request_loan" else None
            )
            if policy is None and len(policies) == 1:
                policy = policies[0]
            if policy is not None:
                extra["loan_policy"] = chosen = policy.number
        amount = changes.get("loan_amount", tracker.get_slot("loan_amount"))
        if amount is None and tracker.intent == "request_loan":
            spans = find_amounts(tracker.text)
            if spans:
                policy = match_policy(str(chosen or ""), policies)
                problem = check_amount(int(spans[0].value), policy)
                if problem:
                    dispatcher.say(problem)
                else:
                    extra["loan_amount"] = int(spans[0].value)
        return extra


class AskLoanPolicy(Action):
    """Ask which policy, with one button per policy."""

    name = "action_ask_loan_policy"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        policies = await loanable_policies(ctx)
        buttons = [
            button(f"{p.product} ({p.number})", f'/inform{{"product":"{p.number}"}}')
            for p in policies
        ]
        dispatcher.say(texts.LOAN_ASK_POLICY, buttons)
        return []


def chosen_policy(tracker: Tracker, policies: list[Policy]) -> Policy | None:
    return match_policy(str(tracker.get_slot("loan_policy") or ""), policies)


class AskLoanAmount(Action):
    """Ask the amount, naming the limit of the chosen policy."""

    name = "action_ask_loan_amount"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        policy = chosen_policy(tracker, await loanable_policies(ctx))
        assert policy is not None, "the form asks for the amount only after the policy"
        dispatcher.say(
            texts.LOAN_ASK_AMOUNT.format(product=policy.product, limit=won(policy.loan_limit))
        )
        return []


class AskLoanConfirm(Action):
    """Show rate and masked deposit account and ask for confirmation."""

    name = "action_ask_loan_confirm"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        policy = chosen_policy(tracker, await loanable_policies(ctx))
        assert policy is not None
        dispatcher.say(
            texts.LOAN_CONFIRM.format(
                product=policy.product,
                number=policy.number,
                amount=won(int(tracker.get_slot("loan_amount"))),
                rate=policy.loan_rate,
                account=policy.deposit_account_masked or "등록된 계좌 없음 (담당 직원이 확인해요)",
            ),
            yes_no_buttons(texts.LOAN_CONFIRM_YES),
        )
        return []


class SubmitLoan(Action):
    """Open the loan request when confirmed, after checking every rule again; forget the form."""

    name = "action_submit_loan"

    async def run(self, dispatcher: Dispatcher, tracker: Tracker, ctx: Context) -> list[Event]:
        confirmed = tracker.get_slot("loan_confirm")
        if cancelled_this_turn(tracker):
            return reset_form("loan_form")
        if confirmed is True:
            amount = tracker.get_slot("loan_amount")
            try:
                request = await loans.open_loan(
                    ctx.session,
                    policyholder=ctx.policyholder,
                    policy_number=str(tracker.get_slot("loan_policy") or ""),
                    amount=amount if isinstance(amount, int) else None,
                    idempotency_key=form_run_key(tracker, "loan_form"),
                    deadlines=ctx.deadlines,
                )
            except LoanRefused as refused:
                dispatcher.say(refusal(refused.problem))
                dispatcher.say(texts.LOAN_NOT_SENT)
            else:
                await tell_opened(dispatcher, ctx, request, texts.LOAN_DONE)
        elif confirmed is False:
            dispatcher.say(texts.LOAN_NOT_SENT)
        return reset_form("loan_form")
