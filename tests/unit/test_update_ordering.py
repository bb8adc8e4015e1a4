"""The update processor: chats run side by side, each chat's updates one at a time, in order.

Plain asyncio, no Telegram: updates go through ``process_update`` as the Application sends
them, one task per update created in arrival order. Overlap is proven with events that only
another chat's update can set; ``wait_for`` turns the deadlock of sequential processing into a
failure.
"""

import asyncio
from datetime import UTC, datetime

import pytest
from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.ext import Application

from bot.telegram.ordering import ChatOrderedUpdateProcessor, ordering_key

TIMEOUT = 5.0  # generous: only a deadlock comes anywhere near it
_update_ids = iter(range(1, 1_000_000))


def text_update(chat_id: int, text: str = "안녕하세요") -> Update:
    update_id = next(_update_ids)
    user = User(id=abs(chat_id), first_name="사용자", is_bot=False)
    chat = Chat(id=chat_id, type="private" if chat_id > 0 else "group")
    message = Message(
        message_id=update_id, date=datetime.now(UTC), chat=chat, from_user=user, text=text
    )
    return Update(update_id=update_id, message=message)


def inline_button_update(user_id: int) -> Update:
    """A button under an inline-mode message: the update has a user but no chat."""
    user = User(id=user_id, first_name="사용자", is_bot=False)
    query = CallbackQuery(
        id="q1", from_user=user, chat_instance="ci", inline_message_id="im1", data="x"
    )
    return Update(update_id=next(_update_ids), callback_query=query)


async def settle() -> None:
    """Let every task that can run take its steps (no timing involved)."""
    for _ in range(20):
        await asyncio.sleep(0)


def submit(processor: ChatOrderedUpdateProcessor, update: object, handler) -> asyncio.Task:  # type: ignore[no-untyped-def]
    # As the Application does: one task per update, created in the order updates arrive.
    return asyncio.create_task(processor.process_update(update, handler()))


async def test_same_chat_runs_in_arrival_order_and_never_overlaps() -> None:
    processor = ChatOrderedUpdateProcessor(8)
    release_first = asyncio.Event()
    log: list[str] = []
    running = 0

    def handler(index: int):  # type: ignore[no-untyped-def]
        async def handle() -> None:
            nonlocal running
            running += 1
            assert running == 1, "two updates of one chat ran at once"
            log.append(f"start {index}")
            if index == 0:
                await release_first.wait()
            # Earlier updates take longer: unserialised, later ones would finish first.
            for _ in range(5 - index):
                await asyncio.sleep(0)
            log.append(f"end {index}")
            running -= 1

        return handle

    tasks = [submit(processor, text_update(1001), handler(i)) for i in range(5)]
    await settle()
    assert log == ["start 0"]  # the rest queue behind the first
    assert processor.tracked_chats == 1
    release_first.set()
    await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)
    assert log == [f"{step} {i}" for i in range(5) for step in ("start", "end")]


async def test_different_chats_run_at_the_same_time() -> None:
    processor = ChatOrderedUpdateProcessor(8)
    b_ran = asyncio.Event()

    async def chat_a() -> None:
        await b_ran.wait()  # sequential processing never gets to B: deadlock

    async def chat_b() -> None:
        b_ran.set()

    tasks = [
        submit(processor, text_update(1001), chat_a),
        submit(processor, text_update(2002), chat_b),
    ]
    await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)


async def test_one_chats_backlog_does_not_hold_up_other_chats() -> None:
    """Updates waiting for their chat's turn do not take the slots that the bound allows."""
    processor = ChatOrderedUpdateProcessor(2)
    b_ran = asyncio.Event()
    done_in_a: list[int] = []

    def in_a(index: int):  # type: ignore[no-untyped-def]
        async def handle() -> None:
            if index == 0:
                await b_ran.wait()
            done_in_a.append(index)

        return handle

    async def in_b() -> None:
        b_ran.set()

    tasks = [submit(processor, text_update(1001), in_a(i)) for i in range(5)]
    tasks.append(submit(processor, text_update(2002), in_b))
    await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)
    assert done_in_a == [0, 1, 2, 3, 4]


async def test_the_bound_is_respected() -> None:
    processor = ChatOrderedUpdateProcessor(3)
    full, release = asyncio.Event(), asyncio.Event()
    running = peak = started = 0

    async def handle() -> None:
        nonlocal running, peak, started
        running += 1
        started += 1
        peak = max(peak, running)
        if running == 3:
            full.set()
        await release.wait()
        running -= 1

    tasks = [submit(processor, text_update(3000 + i), handle) for i in range(10)]
    await asyncio.wait_for(full.wait(), TIMEOUT)
    await settle()
    assert started == 3 and processor.current_concurrent_updates == 3
    assert processor.tracked_chats == 10  # seven chats wait for a slot
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)
    assert started == 10 and peak == 3


async def test_locks_of_idle_chats_are_dropped_even_after_a_failure() -> None:
    processor = ChatOrderedUpdateProcessor(4)
    ran: list[str] = []

    async def fail() -> None:
        raise RuntimeError("handler failed")

    async def succeed() -> None:
        ran.append("second")

    failing = submit(processor, text_update(1001), fail)
    following = submit(processor, text_update(1001), succeed)
    others = [submit(processor, text_update(4000 + i), succeed) for i in range(3)]
    results = await asyncio.wait_for(
        asyncio.gather(failing, following, *others, return_exceptions=True), TIMEOUT
    )
    assert isinstance(results[0], RuntimeError)
    assert ran == ["second"] * 4  # the chat goes on after a failed update
    assert processor.tracked_chats == 0
    assert processor.current_concurrent_updates == 0


async def test_a_cancelled_waiter_leaves_no_lock_behind() -> None:
    processor = ChatOrderedUpdateProcessor(4)
    release = asyncio.Event()

    async def hold() -> None:
        await release.wait()

    async def never_runs() -> None:
        raise AssertionError("a cancelled update ran")

    holder = submit(processor, text_update(1001), hold)
    waiter_coroutine = never_runs()
    waiter = asyncio.create_task(processor.process_update(text_update(1001), waiter_coroutine))
    await settle()
    waiter.cancel()
    waiter_coroutine.close()
    release.set()
    await asyncio.wait_for(holder, TIMEOUT)
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert processor.tracked_chats == 0


async def test_updates_without_a_chat_are_ordered_by_user_or_not_at_all() -> None:
    assert ordering_key(text_update(1001)) == 1001
    assert ordering_key(text_update(-5005)) == -5005  # a group: its own chat id
    # Chat-less button presses queue with the user's private chat (same id).
    assert ordering_key(inline_button_update(1001)) == 1001
    assert ordering_key("not an update") is None

    processor = ChatOrderedUpdateProcessor(2)
    other_ran = asyncio.Event()

    async def waits() -> None:
        await other_ran.wait()

    async def sets() -> None:
        other_ran.set()

    # Unkeyed updates are not serialised with each other.
    tasks = [submit(processor, object(), waits), submit(processor, object(), sets)]
    await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)
    assert processor.tracked_chats == 0


def test_bound_is_validated_and_reported_to_the_application() -> None:
    with pytest.raises(ValueError):
        ChatOrderedUpdateProcessor(0)
    processor = ChatOrderedUpdateProcessor(8)
    application = Application.builder().token("123:ABC").concurrent_updates(processor).build()
    assert application.update_processor is processor
    assert application.concurrent_updates == 8
