"""SQLAlchemy models: organisation, policyholders, policies, requests and the contact ledger."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.clock import as_utc
from bot.db.types import MaskedJSON, MaskedText


class Base(DeclarativeBase):
    pass


def _now_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class RequestKind(enum.StrEnum):
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    LOAN = "loan"
    MOVING = "moving"
    FUNERAL = "funeral"
    WEDDING = "wedding"
    CALLBACK = "callback"
    CARD = "card"
    QUESTION = "question"  # a question the bot could not answer, passed to a person
    RETENTION = "retention"  # opened by the daily job: a premium is unpaid, act before 실효


class RequestStatus(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


OPEN_STATUSES = (RequestStatus.NEW, RequestStatus.ACKNOWLEDGED, RequestStatus.IN_PROGRESS)


class RequestAction(enum.StrEnum):
    """What happened to a request: ``request_events.action``."""

    CREATED = "created"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    HANDED_OVER = "handed_over"
    ESCALATED = "escalated"
    ESCALATION_EXHAUSTED = "escalation_exhausted"  # overdue, and nobody further to go to
    REROUTED = "rerouted"  # the employee blocked the bot; moved on along the chain
    UNROUTABLE = "unroutable"  # ... and nobody further could take it
    REPLIED = "replied"
    RATED = "rated"
    RATING_COMMENT = "rating_comment"


class ContactSender(enum.StrEnum):
    """Who wrote a message in the contact ledger: ``contacts.sender``."""

    POLICYHOLDER = "policyholder"
    BOT = "bot"
    EMPLOYEE = "employee"
    UNKNOWN = "unknown"  # not verified yet


class ContactChannel(enum.StrEnum):
    """Where a contact happened: ``contacts.channel``."""

    TELEGRAM = "telegram"
    PHONE = "phone"  # a call the employee logged
    VISIT = "visit"  # a visit the employee logged


class OutboxPurpose(enum.StrEnum):
    """Why a Telegram message was queued: ``outbox.purpose``."""

    ALERT = "alert"  # a new request, to the employee it was routed to
    ESCALATION = "escalation"  # an overdue request, to the next in the chain
    HANDOVER = "handover"  # a handed-over or re-routed request, to its new employee
    RELAY_IN = "relay_in"  # the policyholder's words, to the employee in a handoff
    RELAY_OUT = "relay_out"  # the employee's words, to the policyholder
    ACK_NOTICE = "ack_notice"  # to the policyholder: 접수
    RESOLVED_NOTICE = "resolved_notice"  # to the policyholder: 완료, with the rating buttons
    HANDOVER_NOTICE = "handover_notice"  # to the policyholder: a new employee
    RATING_THANKS = "rating_thanks"  # to the policyholder
    RATING_NOTICE = "rating_notice"  # the rating, to the employee
    WEEKLY_DIGEST = "weekly_digest"  # the weekly report, to a department head
    REPLY = "reply"  # the bot's answer to a policyholder that Telegram did not take at once
    BOT_REPLY = "bot_reply"  # the bot's answer to an employee, likewise
    RETENTION_REMINDER = "retention_reminder"  # to the policyholder: a premium is unpaid
    ASSIGNMENT = "assignment"  # to an employee: policyholders gained or lost in a reassignment


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)

    employees: Mapped[list[Employee]] = relationship(back_populates="department")


class Employee(Base):
    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(30))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    home_area: Mapped[str] = mapped_column(String(100))
    home_address: Mapped[str | None] = mapped_column(String(200))
    home_lat: Mapped[float | None]
    home_lon: Mapped[float | None]
    # How precisely home_lat/home_lon are known: point|dong|sigungu|sido (bot.geo.geocode.Level).
    home_geocode_level: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(20))
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    telegram_blocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    is_head: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    away_from: Mapped[date | None] = mapped_column(Date)
    away_until: Mapped[date | None] = mapped_column(Date)
    # Set by the 답장 button: the employee's next text goes to this request's policyholder.
    reply_request_id: Mapped[int | None]
    created_at: Mapped[datetime] = _now_column()

    department: Mapped[Department] = relationship(back_populates="employees")
    deputy: Mapped[Employee | None] = relationship(remote_side="Employee.id")

    @property
    def display_name(self) -> str:
        """Name with title, as Koreans address a colleague: 김영환 기획부장."""
        return f"{self.name} {self.title}"


class Policyholder(Base):
    __tablename__ = "policyholders"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), index=True)  # digits only: 01055123087
    birth_date: Mapped[date] = mapped_column(Date)
    address: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(String(100))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    geocode_level: Mapped[str | None] = mapped_column(String(10))  # as home_geocode_level
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # After a rating press: the next text (until the deadline) is the rating comment.
    rating_pending_request_id: Mapped[int | None]
    rating_pending_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now_column()

    employee: Mapped[Employee | None] = relationship()
    policies: Mapped[list[Policy]] = relationship(back_populates="policyholder")


class Verification(Base):
    """One Telegram account's progress through verification, and its lockout."""

    __tablename__ = "verifications"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    stage: Mapped[str] = mapped_column(
        String(20), default="need_contact"
    )  # need_contact|need_birth
    policyholder_id: Mapped[int | None] = mapped_column(ForeignKey("policyholders.id"))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Policy(Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    policyholder_id: Mapped[int] = mapped_column(ForeignKey("policyholders.id"), index=True)
    product: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active|lapsed|matured|...
    premium: Mapped[int] = mapped_column(Integer)  # one installment in payment_cycle, won
    next_due_date: Mapped[date | None] = mapped_column(Date)
    maturity_date: Mapped[date | None] = mapped_column(Date)
    surrender_value: Mapped[int] = mapped_column(BigInteger, default=0)
    loan_limit: Mapped[int] = mapped_column(BigInteger, default=0)
    loan_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))  # % a year
    deposit_account_masked: Mapped[str | None] = mapped_column(String(40))
    coverage_summary: Mapped[str] = mapped_column(Text, default="")
    # Persistency (계약유지율): see bot.services.persistency for how these are used.
    contract_date: Mapped[date | None] = mapped_column(Date, index=True)
    payment_cycle: Mapped[str] = mapped_column(
        String(12), default="monthly", server_default="monthly"
    )  # monthly|quarterly|semiannual|annual|single
    paid_installments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    policyholder: Mapped[Policyholder] = relationship(back_populates="policies")


class PolicyEventKind(enum.StrEnum):
    """A policy's status changes, as the insurer's core system records them."""

    NORMAL = "normal"  # 정상: in force, premiums paid up to date (also the contract itself)
    UNPAID = "unpaid"  # 미납: an installment is overdue; in the grace period until 실효
    LAPSED = "lapsed"  # 실효: lapsed for non-payment after the grace period
    REINSTATED = "reinstated"  # 부활: a lapsed contract brought back into force
    SURRENDERED = "surrendered"  # 해지: cancelled by the policyholder (surrender)
    PAID_UP = "paid_up"  # 완납: every premium paid; in force without further premiums
    MATURED = "matured"  # 만기: the term ended


class PolicyEvent(Base):
    """One status change of a policy on a day, with the installments (회차) paid by then."""

    __tablename__ = "policy_events"
    __table_args__ = (
        # One row per policy, day and status: re-importing the same history changes nothing.
        Index("ux_policy_events_policy_day_kind", "policy_id", "occurred_on", "kind", unique=True),
        # "The last event on or before a day" in index order, ties broken by id, without a sort;
        # kind and installments paid ride along so the lookup never reads the table.
        Index(
            "ix_policy_events_policy_day_id",
            "policy_id",
            "occurred_on",
            "id",
            "kind",
            "paid_through",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    kind: Mapped[str] = mapped_column(String(12))  # PolicyEventKind
    occurred_on: Mapped[date] = mapped_column(Date)
    paid_through: Mapped[int | None] = mapped_column(Integer)  # installments paid by then
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    source: Mapped[str] = mapped_column(String(10), default="import")  # import|seed
    created_at: Mapped[datetime] = _now_column()


class RetentionTask(Base):
    """The retention job's record that a missed installment was given to an employee.

    ``key`` (policy and missed installment) is unique, so the daily job opens one task per missed
    premium however often, and on however many processes, it runs.
    """

    __tablename__ = "retention_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)  # retention:<policy>:<installment>
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    installment: Mapped[int] = mapped_column(Integer)  # the first unpaid 회차
    due_on: Mapped[date] = mapped_column(Date)  # when that installment was due
    grace_until: Mapped[date] = mapped_column(Date)  # 실효 the day after, unless paid
    opened_at: Mapped[datetime] = _now_column()
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), unique=True)  # moving|funeral|wedding
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    discount: Mapped[str] = mapped_column(String(50))


class Request(Base):
    __tablename__ = "requests"
    __table_args__ = (Index("ux_requests_idempotency_key", "idempotency_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # R-20261125-0007
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.NEW, index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    policyholder_id: Mapped[int] = mapped_column(ForeignKey("policyholders.id"), index=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    summary: Mapped[str] = mapped_column(MaskedText)
    details: Mapped[dict[str, Any]] = mapped_column(MaskedJSON, default=dict)
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(MaskedText)
    # While in the future, the policyholder's texts go to the employee, not to Rasa.
    handoff_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when a submit may run twice for one decision (see ``open_request``): unique.
    idempotency_key: Mapped[str | None] = mapped_column(String(120))

    policyholder: Mapped[Policyholder] = relationship()
    employee: Mapped[Employee | None] = relationship()
    policy: Mapped[Policy | None] = relationship()
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id"
    )


class RequestEvent(Base):
    """A request's history: who did what, when."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))  # RequestAction
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    note: Mapped[str] = mapped_column(MaskedText, default="")
    created_at: Mapped[datetime] = _now_column()

    request: Mapped[Request] = relationship(back_populates="events")


class Contact(Base):
    """The ledger: one row per message or touch point between the company and a policyholder."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_policyholder_created", "policyholder_id", "created_at"),
        Index("ix_contacts_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    policyholder_id: Mapped[int | None] = mapped_column(ForeignKey("policyholders.id"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in|out
    channel: Mapped[str] = mapped_column(String(20), default=ContactChannel.TELEGRAM)
    sender: Mapped[str] = mapped_column(String(20))  # ContactSender
    text: Mapped[str] = mapped_column(MaskedText)  # personal numbers masked
    intent: Mapped[str | None] = mapped_column(String(40), index=True)
    confidence: Mapped[float | None]
    labelled_intent: Mapped[str | None] = mapped_column(String(40))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger)
    telegram_update_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # An edited Telegram message: the row of the original message (not a foreign key, see 0005).
    edit_of_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = _now_column()


class OutboxMessage(Base):
    """A message waiting to be delivered to Telegram; the worker retries it with backoff."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_chat_message", "chat_id", "telegram_message_id"),
        Index("ux_outbox_dedupe_key", "dedupe_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    reply_markup: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    policyholder_id: Mapped[int | None] = mapped_column(ForeignKey("policyholders.id"))
    purpose: Mapped[str] = mapped_column(String(30), default=OutboxPurpose.ALERT)
    # Set for messages that must be queued at most once ever (the weekly digest per department
    # and week); the unique index makes a second enqueue fail, in any process.
    dedupe_key: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = _now_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = _now_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Network and 5xx errors are retried until then; None: 24 hours after ``created_at``.
    retry_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The ledger row of a reply sent through the outbox: it gets the Telegram message id.
    contact_id: Mapped[int | None] = mapped_column(BigInteger)


class EmployeeInvite(Base):
    __tablename__ = "employee_invites"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now_column()


class AdminUser(Base):
    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))  # admin|head|auditor
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now_column()


class AdminSession(Base):
    """A signed-in console session; the cookie holds the token, this row its SHA-256."""

    __tablename__ = "admin_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    admin_user_id: Mapped[int] = mapped_column(
        ForeignKey("admin_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = _now_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginThrottle(Base):
    """Sign-in attempts from one client address in the current window."""

    __tablename__ = "admin_login_throttle"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    admin_user_id: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id"))
    action: Mapped[str] = mapped_column(String(30))  # login|view|export|label|...
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(MaskedText, default="")
    created_at: Mapped[datetime] = _now_column()


class AssignmentRun(Base):
    """One applied assignment of policyholders to employees (``milchak assign --apply``)."""

    __tablename__ = "assignment_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    mode: Mapped[str] = mapped_column(String(10))  # full|stable|seed
    capacity: Mapped[int] = mapped_column(Integer)
    switch_penalty_m: Mapped[int] = mapped_column(Integer)
    policyholders: Mapped[int] = mapped_column(Integer)
    employees: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)  # policyholders whose employee changed
    total_m: Mapped[int] = mapped_column(BigInteger)
    longest_m: Mapped[int] = mapped_column(Integer)
    operator: Mapped[str] = mapped_column(String(100))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = _now_column()


class AssignmentChange(Base):
    """A policyholder who changed employee in an assignment run."""

    __tablename__ = "assignment_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assignment_runs.id"), index=True)
    policyholder_id: Mapped[int] = mapped_column(ForeignKey("policyholders.id"))
    from_employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    to_employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    distance_m: Mapped[int] = mapped_column(Integer)


class ChatClaim(Base):
    """A webhook update of a chat waiting for, or holding, the chat's turn across app replicas.

    ``bot.services.chat_claims``: the live row with the smallest update id runs once no other
    row holds the chat; ``lease_until`` is renewed while its replica lives, and a row whose
    lease ran out (a dead replica) is deleted by the next claimant.
    """

    __tablename__ = "chat_claims"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(String(64))
    holding: Mapped[bool] = mapped_column(Boolean, default=False)
    lease_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    @property
    def lease_until_utc(self) -> datetime:
        """``lease_until`` with its time zone (SQLite hands it back without one)."""
        return as_utc(self.lease_until)
