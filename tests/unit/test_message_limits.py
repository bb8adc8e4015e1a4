"""Telegram's 4,096-character limit: long texts split at breaks, or shortened with a pointer."""

from bot.services.message_limits import TELEGRAM_MAX, shorten, split_message, telegram_length


def test_length_is_counted_like_telegram() -> None:
    assert telegram_length("가나다") == 3
    assert telegram_length("👍") == 2  # outside the BMP: two UTF-16 code units


def test_a_short_text_is_one_message() -> None:
    assert split_message("안녕하세요") == ["안녕하세요"]
    assert shorten("안녕하세요", pointer="콘솔") == "안녕하세요"


def test_long_text_is_split_at_line_breaks_without_losing_words() -> None:
    lines = [f"{n}번째 계약 안내: 월 보험료 50,000원" for n in range(400)]
    text = "\n".join(lines)
    parts = split_message(text)
    assert len(parts) > 1
    assert all(telegram_length(p) <= TELEGRAM_MAX for p in parts)
    assert "\n".join(parts).split("\n") == lines  # cut between lines, nothing lost


def test_text_without_breaks_is_cut_anyway() -> None:
    parts = split_message("가" * 9000)
    assert [len(p) for p in parts] == [4096, 4096, 808]


def test_emoji_are_never_cut_past_the_limit() -> None:
    parts = split_message("👍" * 3000)  # 6,000 units
    assert all(telegram_length(p) <= TELEGRAM_MAX for p in parts)
    assert "".join(parts) == "👍" * 3000


def test_shorten_keeps_within_the_limit_and_points_to_the_rest() -> None:
    short = shorten("가" * 5000, pointer="(전체 내용은 관리 콘솔에서 확인하세요.)")
    assert telegram_length(short) <= TELEGRAM_MAX
    assert short.endswith("…\n(전체 내용은 관리 콘솔에서 확인하세요.)")
