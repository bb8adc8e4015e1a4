"""Phone policy loans (약관대출): the lending rules, and opening a loan request under them.

The form checks each answer with the same rules, but a request is opened only here, after
checking them again against the database: the form's answers may be stale (a policy chosen
after the amount, a limit lowered since) or not come from the form at all (a forged action
call). A refused loan raises ``LoanRefused`` with the reason, which the caller words for the
customer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Policy, Policyholder, Request, RequestKind
from bot.services.labels import won
from bot.services.requests import open_request
from bot.services.sla import Deadlines

MIN_LOAN = 100_000
LOAN_STEP = 10_000


@dataclass(frozen=True)
class LoanProblem:
    """Why a loan cannot be opened.

    ``reason`` is one of: ``no_policy`` (not a policy of this policyholder that allows loans),
    ``unreadable`` (no amount), ``too_small``, ``step`` (not in 10,000원 steps; ``rounded`` is
    the amount rounded down) and ``over_limit`` (above ``policy``'s limit).
    """

    reason: str
    policy: Policy | None = None
    rounded: int | None = None


class LoanRefused(Exception):
    """A loan that breaks the rules; ``problem`` says which."""

    def __init__(self, problem: LoanProblem) -> None:
        super().__init__(problem.reason)
        self.problem = problem


def allows_loans(policy: Policy) -> bool:
    return policy.status == "active" and policy.loan_limit >= MIN_LOAN


async def loanable_policies(session: AsyncSession, policyholder: Policyholder) -> list[Policy]:
    """The policyholder's own policies that allow a loan, oldest first."""
    rows = await session.scalars(
        select(Policy).where(Policy.policyholder_id == policyholder.id).order_by(Policy.id)
    )
    return [policy for policy in rows if allows_loans(policy)]


def amount_problem(amount: int | None, policy: Policy | None) -> LoanProblem | None:
    """What is wrong with lending ``amount`` (on ``policy``, when it is known); None if nothing."""
    if amount is None:
        return LoanProblem("unreadable")
    if amount < MIN_LOAN:
        return LoanProblem("too_small")
    if amount % LOAN_STEP:
        return LoanProblem("step", rounded=amount // LOAN_STEP * LOAN_STEP or LOAN_STEP)
    if policy is not None and amount > policy.loan_limit:
        return LoanProblem("over_limit", policy=policy)
    return None


async def check_loan(
    session: AsyncSession, *, policyholder: Policyholder, policy_number: str, amount: int | None
) -> Policy:
    """The policy to lend on, after every rule; raises ``LoanRefused`` otherwise."""
    policy = next(
        (p for p in await loanable_policies(session, policyholder) if p.number == policy_number),
        None,
    )
    if policy is None:
        raise LoanRefused(LoanProblem("no_policy"))
    problem = amount_problem(amount, policy)
    if problem is not None:
        raise LoanRefused(problem)
    return policy


async def open_loan(
    session: AsyncSession,
    *,
    policyholder: Policyholder,
    policy_number: str,
    amount: int | None,
    idempotency_key: str | None = None,
    deadlines: Deadlines,
) -> Request:
    """Check the loan again and open its request (alert queued) in the caller's transaction."""
    policy = await check_loan(
        session, policyholder=policyholder, policy_number=policy_number, amount=amount
    )
    assert amount is not None  # check_loan refuses a missing amount
    return await open_request(
        session,
        policyholder=policyholder,
        kind=RequestKind.LOAN,
        summary=f"약관대출 {won(amount)} ({policy.product} {policy.number})",
        details={
            "policy_number": policy.number,
            "amount": amount,
            "rate": str(policy.loan_rate),
            "deposit_account": policy.deposit_account_masked,
        },
        policy_id=policy.id,
        idempotency_key=idempotency_key,
        deadlines=deadlines,
    )
