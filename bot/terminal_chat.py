"""A terminal chat as the demo policyholder 이영숙: the real pipeline, no Telegram token needed."""

import asyncio
import sys
import threading

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import texts
from bot.conversation import Inbound, handle_message
from bot.db import session_scope
from bot.db.models import OutboxMessage, Policyholder
from bot.rasa_client import RasaClient
from bot.services.sla import Deadlines

DEMO_PHONE = "01055123087"  # 이영숙
QUIT = {"/quit", "/exit", "종료"}


async def console_sender(message: OutboxMessage) -> int | None:
    """Outbox delivery for the terminal chat: employees' alerts are printed."""
    print("\n" + texts.CHAT_ALERT.format(chat_id=message.chat_id, text=message.text), flush=True)
    return None


def _read_lines(queue: "asyncio.Queue[str | None]", loop: asyncio.AbstractEventLoop) -> None:
    # A daemon thread, so Ctrl-C never waits for a pending input().
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def run_chat(
    sessions: async_sessionmaker[AsyncSession],
    rasa: RasaClient,
    stop: asyncio.Event,
    *,
    deadlines: Deadlines,
    phone: str = DEMO_PHONE,
) -> None:
    """Chat until end of input, /quit or a stop signal."""
    async with session_scope(sessions) as session:
        policyholder = await session.scalar(select(Policyholder).where(Policyholder.phone == phone))
    if policyholder is None:
        raise SystemExit("데모 계약자가 없습니다. 먼저 `milchak seed --demo`를 실행하세요.")
    print(texts.CHAT_BANNER.format(name=policyholder.name), flush=True)
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    threading.Thread(
        target=_read_lines, args=(queue, asyncio.get_running_loop()), daemon=True
    ).start()
    buttons: list[tuple[str, str]] = []
    while not stop.is_set():
        print("나> ", end="", flush=True)
        line_task = asyncio.ensure_future(queue.get())
        stop_task = asyncio.ensure_future(stop.wait())
        await asyncio.wait({line_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        stop_task.cancel()
        if not line_task.done():
            line_task.cancel()
            break
        line = line_task.result()
        if line is None or line.strip() in QUIT:
            break
        text, shown = line, None
        if line.strip().isdigit() and 0 < int(line.strip()) <= len(buttons):
            title, text = buttons[int(line.strip()) - 1]
            shown = f"[버튼] {title}"
        outgoing = await handle_message(
            sessions, rasa, Inbound(policyholder.id, text, shown), deadlines=deadlines
        )
        buttons = []
        for item in outgoing or []:
            print(f"밀착> {item.text}")
            for title, payload in item.buttons:
                buttons.append((title, payload))
                print(f"   [{len(buttons)}] {title}")
    print("\n상담을 마칩니다. 감사합니다.")
