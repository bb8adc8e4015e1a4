"""What masking costs per stored text (it runs on every write of free text).

Run: .venv/bin/python -m bench.masking_speed [--repeat 20000]
Prints microseconds per call of ``mask_personal_numbers`` for texts like those the ledger
stores: small talk without digits, a request with an amount and an account number, an
employee's alert with a date, a time and the phone on file, and a long message.
"""

import argparse
import timeit

from bot.services.masking import mask_personal_numbers

TEXTS = {
    "no digits": "안녕하세요 문의 좀 드릴게요",
    "amount + account": "약관대출 300만원 받고 싶어요 계좌는 110-123-456789로 보내 주세요",
    "alert (date, phone)": "[약관대출] R-20261125-0007\n계약자: 이영숙 (010-5512-3087)\n"
    "접수 시각: 2026-11-25 10:00",
    "4,000 characters": "보험금 청구 관련해서 여쭤볼게요. 주민번호 620417-2123456 " * 80,
}


def main(repeat: int) -> None:
    print(f"mask_personal_numbers, mean of {repeat:,} calls:")
    for label, text in TEXTS.items():
        seconds = timeit.timeit(lambda text=text: mask_personal_numbers(text), number=repeat)
        print(f"  {label:<22} {len(text):>5} chars  {seconds / repeat * 1e6:8.1f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20_000)
    main(parser.parse_args().repeat)
