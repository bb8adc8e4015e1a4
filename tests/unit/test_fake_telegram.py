"""The fake Bot API server answers a real python-telegram-bot client as Telegram would."""

import asyncio

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Forbidden, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from tests.auxil.fake_telegram import FakeTelegram


async def test_bot_sends_and_receives_over_http() -> None:
    async with FakeTelegram() as fake:
        bot = Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
        async with bot:
            assert bot.username == "milchak_bot"
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton("접수", callback_data="req:ack:1")]]
            )
            message = await bot.send_message(chat_id=900001, text="안녕하세요", reply_markup=markup)
            assert message.chat.id == 900001
            assert message.text == "안녕하세요"
            assert message.reply_markup == markup
            [sent] = fake.sent(900001)
            assert sent.message_id == message.message_id
            assert sent.buttons == [("접수", "req:ack:1")]

            await bot.edit_message_text(
                chat_id=900001, message_id=message.message_id, text="접수됨"
            )
            assert fake.message(message.message_id).text == "접수됨"
            assert fake.message(message.message_id).edits == ["안녕하세요"]
            assert fake.message(message.message_id).reply_markup is None

            fake.push_text(4242, "대출 받고 싶어요")
            fake.push_contact(4242, "010-5512-3087", 4242)
            fake.push_sticker(4242)
            fake.push_callback(900001, "req:ack:1", message.message_id)
            updates = await bot.get_updates(timeout=1)
            assert [u.update_id for u in updates] == [1, 2, 3, 4]
            assert updates[0].message is not None and updates[0].message.text == "대출 받고 싶어요"
            assert updates[1].message is not None and updates[1].message.contact is not None
            assert updates[1].message.contact.user_id == 4242
            assert updates[2].message is not None and updates[2].message.sticker is not None
            query = updates[3].callback_query
            assert query is not None and query.data == "req:ack:1"
            assert query.message is not None and query.message.message_id == message.message_id

            # Confirmed updates are not delivered again.
            assert await bot.get_updates(offset=5, timeout=0) == ()

            await bot.set_my_commands([("mine", "내 계약자")])
            assert [c.command for c in await bot.get_my_commands()] == ["mine"]


async def test_long_polling_returns_as_soon_as_an_update_arrives() -> None:
    async with FakeTelegram() as fake:
        bot = Bot(fake.token, base_url=fake.base_url)
        async with bot:
            loop = asyncio.get_running_loop()
            started = loop.time()
            loop.call_later(0.2, fake.push_text, 7, "안녕")
            updates = await bot.get_updates(timeout=5)
            assert len(updates) == 1
            assert loop.time() - started < 2


async def test_failure_injection() -> None:
    async with FakeTelegram() as fake:
        bot = Bot(fake.token, base_url=fake.base_url)
        async with bot:
            fake.fail_next("sendMessage", 1, status=429, retry_after=3)
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(chat_id=1, text="a")
            assert caught.value.retry_after == 3
            await bot.send_message(chat_id=1, text="b")  # only the next call failed
            fake.block_chat(2)
            with pytest.raises(Forbidden, match="blocked"):
                await bot.send_message(chat_id=2, text="c")
            assert [m.text for m in fake.sent(1)] == ["b"]
            assert fake.sent(2) == []


async def test_application_polls_and_replies() -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"받았어요: {update.effective_message.text}")

    async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        await update.callback_query.edit_message_text("눌렀어요")

    async with FakeTelegram() as fake:
        application = (
            Application.builder()
            .token(fake.token)
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        application.add_handler(MessageHandler(filters.TEXT, echo))
        application.add_handler(CallbackQueryHandler(press))
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=2)
            try:
                fake.push_text(4242, "안녕하세요")
                reply = await fake.wait_for_message(4242, lambda m: "받았어요" in m.text)
                assert reply.text == "받았어요: 안녕하세요"
                fake.push_text(4242, "답장", reply_to_message_id=reply.message_id)
                await fake.wait_for_count(4242, 2)
                fake.push_callback(4242, "x", reply.message_id)
                await fake.wait_for_message(4242, lambda m: m.text == "눌렀어요")
                await fake.wait_for_call("answerCallbackQuery")
                assert len(fake.sent(4242)) == 2
                # A repeated update id is handed to the bot again (the app must dedupe it;
                # this echo bot does not, so it answers twice).
                fake.push_raw(fake.updates[0])
                third = (await fake.wait_for_count(4242, 3))[2]
                assert third.text == "받았어요: 안녕하세요"
                await fake.wait_until_consumed()
            finally:
                await application.updater.stop()
                await application.stop()
