"""Tell the admins on Telegram when milchak is degraded: once when it starts, once when it ends.

Two conditions are watched every ``MILCHAK_HEALTH_INTERVAL`` seconds from the readiness checks:
Rasa down for longer than ``MILCHAK_ALERT_RASA_DOWN_SECONDS``, and an outbox message waiting
longer than ``MILCHAK_OUTBOX_MAX_AGE_SECONDS``. Each admin chat in ``MILCHAK_ALERT_CHAT_IDS``
hears a condition once when it fires and once when it clears, not once per message or per
check; a chat that could not be reached is tried again at the next check.

The alerts go straight to the Bot API, not through the outbox: a stuck outbox is one of the
things to tell. The state is in memory, so every app process alerts on its own (its own Rasa);
after a restart of the app a condition that still holds is announced again, once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from bot import metrics, texts
from bot.config import Settings
from bot.health import Health, Readiness
from bot.services.periodic import run_every
from bot.supervisor import Clock, keep_running

log = logging.getLogger(__name__)

SendAlert = Callable[[int, str], Awaitable[object]]
"""Sends ``text`` to a Telegram chat id (``bot.send_message``)."""


class Alarm:
    """One condition: firing once it has held for ``after`` seconds, and who was told what."""

    def __init__(self, condition: str, *, after: float) -> None:
        self.condition = condition
        self.after = after
        self.firing = False
        self.lasted = 0.0  # how long the last episode lasted, for the recovery message
        self._bad_since: float | None = None
        self._told: dict[int, bool] = {}  # chat → the state it last heard (nothing = not firing)

    def observe(self, bad: bool, now: float) -> None:
        """Record the condition as seen at ``now`` (seconds, any monotonic clock)."""
        if bad and self._bad_since is None:
            self._bad_since = now
        was_firing = self.firing
        if self._bad_since is not None:
            self.lasted = now - self._bad_since
        self.firing = bad and self.lasted >= self.after
        if not bad:
            self._bad_since = None
        if self.firing and not was_firing:
            log.error("ALERT %s: for %.0f s", self.condition, self.lasted)
        elif was_firing and not self.firing:
            log.warning("RESOLVED %s after %.0f s", self.condition, self.lasted)

    def owed(self, chats: Iterable[int]) -> list[int]:
        """Chats that have not heard the current state (a chat never told it fired is owed no
        recovery)."""
        return [chat for chat in chats if self._told.get(chat, False) != self.firing]

    def told(self, chat: int) -> None:
        """``chat`` has received the current state."""
        self._told[chat] = self.firing


class OpsWatch:
    """The alarms, checked against the readiness of the parts."""

    def __init__(
        self,
        health: Health,
        settings: Settings,
        send: SendAlert | None,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self.health = health
        self.chats = settings.alert_chat_ids
        self.send = send
        self.rasa = Alarm("rasa_down", after=settings.alert_rasa_down_seconds)
        # The readiness rule already waits MILCHAK_OUTBOX_MAX_AGE_SECONDS: alert at once.
        self.outbox = Alarm("outbox_stuck", after=0.0)
        self._clock = clock

    async def check(self) -> None:
        """One round: read the parts, update the alarms, tell whoever is owed a message."""
        readiness = await self.health.readiness()
        now = self._clock()
        self.rasa.observe(not readiness.parts["rasa"].ok, now)
        outbox = readiness.parts["outbox"]
        # An unreachable database is not a stuck outbox; the outbox alarm keeps its state.
        if "depth" in outbox.detail:
            self.outbox.observe(not outbox.ok, now)
        await self._announce(self.rasa, self._rasa_text())
        await self._announce(self.outbox, self._outbox_text(readiness))

    def _rasa_text(self) -> str:
        minutes = max(1, round(self.rasa.lasted / 60))
        if self.rasa.firing:
            restarts = sum(s.restarts for s in self.health.supervisors)
            return texts.OPS_RASA_DOWN.format(minutes=minutes, restarts=restarts)
        return texts.OPS_RASA_BACK.format(minutes=minutes)

    def _outbox_text(self, readiness: Readiness) -> str:
        detail = readiness.parts["outbox"].detail
        depth = detail.get("depth", "?")
        if self.outbox.firing:
            minutes = max(1, round(float(detail.get("oldest_pending_seconds", 0)) / 60))
            return texts.OPS_OUTBOX_STUCK.format(minutes=minutes, depth=depth)
        return texts.OPS_OUTBOX_BACK.format(depth=depth)

    async def _announce(self, alarm: Alarm, text: str) -> None:
        if self.send is None:
            return  # terminal chat: the log line from Alarm.observe is all there is
        for chat in alarm.owed(self.chats):
            try:
                await self.send(chat, text)
            except Exception:
                log.warning("could not send the %s alert to chat %s", alarm.condition, chat)
                continue
            alarm.told(chat)
            metrics.ALERTS_SENT.labels(alarm.condition, "firing" if alarm.firing else "ok").inc()


def run_ops_watch(watch: OpsWatch, settings: Settings, stop: asyncio.Event) -> asyncio.Task[None]:
    """Check every ``MILCHAK_HEALTH_INTERVAL`` seconds until ``stop``, as a kept-alive worker."""
    return asyncio.create_task(
        keep_running(
            "ops watch",
            lambda: run_every(settings.health_interval, stop, watch.check, name="ops watch"),
            stop,
        )
    )
