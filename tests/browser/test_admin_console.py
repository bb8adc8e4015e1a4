"""The admin console in headless Chromium against a real server and database."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Browser, Page, expect

from tests.auxil.admin_data import (
    LOAN_TEXT,
    PASSWORD,
    SCRIPT_TEXT,
    UNDELIVERED_ALERT,
    UNDELIVERED_NOTICE,
)
from tests.browser.conftest import LOCK_USER, Console, screenshot, sign_in


def _names_in_list(page: Page) -> set[str]:
    return set(page.locator("#conversations tbody tr td:first-child a").all_inner_texts())


def test_sign_in_shows_conversations(page: Page, console: Console) -> None:
    page.goto(f"{console.base}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    screenshot(page, "login")
    sign_in(page, console, "admin")
    expect(page.locator("h1")).to_have_text("대화 기록")
    assert _names_in_list(page) == {"이영숙", "한철수", "오미나", "윤서준"}
    screenshot(page, "conversations")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "conversations-phone")


def test_wrong_password_is_refused(page: Page, console: Console) -> None:
    sign_in(page, console, "admin", "틀린-비밀번호")
    expect(page.locator(".alert")).to_contain_text("올바르지 않습니다")
    expect(page).to_have_url(re.compile(r"/admin/login$"))


def test_filters(page: Page, console: Console) -> None:
    sign_in(page, console, "admin")
    page.select_option("select[name=department]", label="영업지원부")
    page.click("text=조회")
    assert _names_in_list(page) == {"윤서준"}

    page.goto(f"{console.base}/admin/")
    page.check("input[name=low]")
    page.click("text=조회")
    assert _names_in_list(page) == {"한철수", "오미나"}

    page.goto(f"{console.base}/admin/")
    page.select_option("select[name=kind]", "loan")
    page.click("text=조회")
    assert _names_in_list(page) == {"이영숙"}

    page.goto(f"{console.base}/admin/")
    page.fill("input[name=date_from]", "2026-11-25")
    page.fill("input[name=date_to]", "2026-11-25")
    page.click("text=조회")
    assert _names_in_list(page) == {"한철수"}


def test_korean_search(page: Page, console: Console) -> None:
    sign_in(page, console, "admin")
    page.fill("input[name=q]", "약관대출")
    page.press("input[name=q]", "Enter")
    assert _names_in_list(page) == {"이영숙", "윤서준"}
    expect(page.locator("#conversations")).to_contain_text("대출")
    screenshot(page, "search")
    page.fill("input[name=q]", "지급")  # two characters: below the trigram index, still found
    page.press("input[name=q]", "Enter")
    assert _names_in_list(page) == {"한철수"}


def test_transcript_in_order_with_intents_and_requests(page: Page, console: Console) -> None:
    sign_in(page, console, "admin")
    page.click("#conversations >> text=이영숙")
    expect(page.locator("h1")).to_contain_text("이영숙")
    texts = page.locator("ol.transcript .text").all_inner_texts()
    assert texts[0] == "지난달 문의"
    assert (
        texts.index("안녕하세요")
        < texts.index(LOAN_TEXT)
        < texts.index("김영환입니다. 오늘 송금해 드릴게요.")
    )
    loan_turn = page.locator(f"li#c{console.data.contacts['loan']}")
    expect(loan_turn.locator(".intent")).to_have_text("request_loan 0.93")
    expect(loan_turn.locator(".who")).to_have_text("고객")
    expect(page.locator(f"li#c{console.data.contacts['kim_reply']} .who")).to_have_text("직원")
    expect(page.locator(f"li#c{console.data.contacts['hello']} .who")).to_have_text("챗봇")
    expect(page.locator("table.list")).to_contain_text("R-20261124-0001")
    screenshot(page, "conversation")
    page.click("table.list >> text=R-20261124-0001")
    expect(page.locator("ol.history")).to_contain_text("송금 완료")
    screenshot(page, "request")


def test_script_message_is_inert(page: Page, console: Console) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, console, "admin")
    page.goto(f"{console.base}/admin/conversations/{console.data.policyholders['한철수']}")
    turn = page.locator(f"li#c{console.data.contacts['script']} .text")
    expect(turn).to_have_text(SCRIPT_TEXT)
    assert page.locator("main script").count() == 0
    page.goto(f"{console.base}/admin/?low=1")
    expect(page.locator("#conversations")).to_contain_text("<script>")
    assert page.locator("main script").count() == 0
    assert dialogs == []


def test_export_csv_for_current_filter(page: Page, console: Console) -> None:
    sign_in(page, console, "admin")
    page.goto(f"{console.base}/admin/?low=1")
    with page.expect_download() as info:
        page.click("text=CSV 내보내기")
    body = info.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert {row["id"] for row in rows} == {
        str(console.data.contacts["script"]),
        str(console.data.contacts["unsure"]),
    }
    assert all(row["phone"].startswith("010-****-") for row in rows)

    page.goto(f"{console.base}/admin/?department={console.data.departments['기획부']}")
    with page.expect_download() as info:
        page.click("text=CSV 내보내기")
    rows = list(csv.DictReader(io.StringIO(info.value.path().read_text(encoding="utf-8-sig"))))
    assert len(rows) == 12  # every ledger row of 기획부's three policyholders, one per contact
    formula = next(r for r in rows if r["id"] == str(console.data.contacts["formula"]))
    assert formula["text"] == '\'=HYPERLINK("http://x")'


def test_head_sees_only_own_department(page: Page, console: Console) -> None:
    sign_in(page, console, "support_head")
    assert _names_in_list(page) == {"윤서준"}
    options = page.locator("select[name=department] option").all_inner_texts()
    assert options == ["영업지원부"]
    # A filter naming another department, typed into the URL, still shows nothing outside.
    page.goto(f"{console.base}/admin/?department={console.data.departments['기획부']}")
    assert _names_in_list(page) == set()
    page.goto(f"{console.base}/admin/?q=약관대출")
    assert _names_in_list(page) == {"윤서준"}
    # Another department's conversation and request, by editing the URL.
    response = page.goto(
        f"{console.base}/admin/conversations/{console.data.policyholders['이영숙']}"
    )
    assert response is not None and response.status == 404
    expect(page.locator("body")).not_to_contain_text(LOAN_TEXT)
    response = page.goto(
        f"{console.base}/admin/requests/{console.data.requests['R-20261124-0001']}"
    )
    assert response is not None and response.status == 404
    response = page.goto(
        f"{console.base}/admin/conversations/{console.data.policyholders['윤서준']}"
    )
    assert response is not None and response.status == 200
    page.goto(f"{console.base}/admin/requests")
    expect(page.locator("#requests")).to_contain_text("R-20261127-0005")
    expect(page.locator("#requests")).not_to_contain_text("R-20261124-0001")
    page.goto(f"{console.base}/admin/reports/weekly?week=2026-W48")
    expect(page.locator("section.dept h2")).to_have_text(["영업지원부"])
    response = page.goto(f"{console.base}/admin/review")
    assert response is not None and response.status == 403


def test_auditor_reads_masked_data_only(page: Page, console: Console) -> None:
    sign_in(page, console, "auditor")
    names = _names_in_list(page)
    assert "이*숙" in names and "이영숙" not in names
    expect(page.locator("#conversations")).to_contain_text("010-****-3087")
    expect(page.locator("#conversations")).not_to_contain_text("01055123087")
    response = page.goto(f"{console.base}/admin/review")
    assert response is not None and response.status == 403


def test_csrf_token_is_enforced(page: Page, console: Console) -> None:
    sign_in(page, console, "admin")
    page.goto(f"{console.base}/admin/review")
    contact = console.data.contacts["unsure"]
    # A forged form post with no token, and one with a wrong token, from the same browser.
    response = page.request.post(
        f"{console.base}/admin/review/{contact}/label", form={"intent": "greet"}
    )
    assert response.status == 403
    response = page.request.post(
        f"{console.base}/admin/review/{contact}/label",
        form={"intent": "greet", "csrf_token": "forged"},
    )
    assert response.status == 403
    page.goto(f"{console.base}/admin/review?show=labelled")
    expect(page.locator("body")).not_to_contain_text("책 싸게 사는 방법")
    # Tampering with the hidden field in the real form is refused too.
    page.goto(f"{console.base}/admin/review")
    page.locator("#review input[name=csrf_token]").first.evaluate("el => el.value = 'tampered'")
    page.locator("form.inline button").first.click()
    expect(page.locator("body")).to_contain_text("보안 토큰이 맞지 않습니다")
    # A sign-in post without the token is refused before the password is looked at.
    response = page.request.post(
        f"{console.base}/admin/login", form={"username": "admin", "password": PASSWORD}
    )
    assert response.status == 403


def test_review_label_and_nlu_export(page: Page, console: Console) -> None:
    sign_in(page, console, "admin")
    page.goto(f"{console.base}/admin/review")
    screenshot(page, "review")
    row = page.locator("#review tbody tr", has_text="책 싸게 사는 방법")
    row.locator("select[name=intent]").select_option("suggest_service")
    row.locator("button").click()
    expect(page.locator("#review")).not_to_contain_text("책 싸게 사는 방법")
    with page.expect_download() as info:
        page.click("text=Rasa NLU YAML 내려받기")
    yaml_text = info.value.path().read_text(encoding="utf-8")
    assert "- intent: suggest_service\n  examples: |\n    - 책 싸게 사는 방법 있나요" in yaml_text
    page.goto(f"{console.base}/admin/audit")
    expect(page.locator("#audit")).to_contain_text("의도 지정")
    expect(page.locator("#audit")).to_contain_text("contact:")


def test_requests_board_and_weekly_report(page: Page, console: Console) -> None:
    sign_in(page, console, "admin")
    page.goto(f"{console.base}/admin/requests")
    expect(page.locator("#requests")).to_contain_text("R-20261125-0002")
    screenshot(page, "requests")
    page.check("input[name=breached]")
    page.click("text=조회")
    # Acknowledged after its deadline, and still unacknowledged past its deadline.
    expect(page.locator("#requests tbody tr")).to_have_count(2)
    expect(page.locator("#requests")).to_contain_text("R-20261125-0002")
    expect(page.locator("#requests")).to_contain_text("R-20261127-0004")
    page.goto(f"{console.base}/admin/reports/weekly?week=2026-W48")
    expect(page.locator("section.dept h2")).to_have_text(["기획부", "영업지원부"])
    expect(page.locator("svg.chart").first).to_contain_text("기획부")
    expect(page.locator("section.dept").first).to_contain_text("보험금 지급 (2)")
    screenshot(page, "report")
    with page.expect_download() as info:
        page.click("text=CSV 내려받기")
    body = info.value.path().read_text(encoding="utf-8-sig")
    assert body.splitlines()[1].startswith("부서,기획부,,3,9,3,")


def test_lockout_after_repeated_failures(page: Page, console: Console) -> None:
    for _ in range(5):
        sign_in(page, console, LOCK_USER, "wrong-password")
    expect(page.locator(".alert")).to_contain_text("계정이 잠겼습니다")
    sign_in(page, console, LOCK_USER)  # the right password no longer helps
    expect(page.locator(".alert")).to_contain_text("계정이 잠겼습니다")
    expect(page).to_have_url(re.compile(r"/admin/login$"))


def test_logout_ends_the_session(page: Page, console: Console) -> None:
    sign_in(page, console, "admin")
    page.click("text=로그아웃")
    expect(page).to_have_url(re.compile(r"/admin/login$"))
    page.goto(f"{console.base}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))


def test_undelivered_messages_can_be_queued_again(page: Page, console: Console) -> None:
    sign_in(page, console, "admin")
    page.click("nav >> text=발송 실패")
    table = page.locator("#undelivered")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text(UNDELIVERED_ALERT)
    expect(table).to_contain_text("김영환 기획부장")
    expect(table).to_contain_text("TimedOut")
    expect(table).not_to_contain_text("전달된 알림")
    screenshot(page, "undelivered")
    table.locator("tbody tr", has_text=UNDELIVERED_NOTICE).locator("button").click()
    expect(page.locator("#requeued")).to_contain_text("다시 보내기 대기열")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).not_to_contain_text(UNDELIVERED_NOTICE)
    page.goto(f"{console.base}/admin/audit")
    expect(page.locator("#audit")).to_contain_text("다시 보내기")
    # Only admins see or use it.
    sign_in(page, console, "planning_head")
    response = page.goto(f"{console.base}/admin/outbox")
    assert response is not None and response.status == 403


def test_a_copied_cookie_dies_at_logout(browser: Browser, page: Page, console: Console) -> None:
    """Signing out ends the session on the server: a copy of the cookie taken before is dead."""
    sign_in(page, console, "admin")
    expect(page.locator("#conversations")).to_be_visible()
    copied = page.context.cookies()
    page.click("text=로그아웃")
    expect(page).to_have_url(re.compile(r"/admin/login$"))
    thief = browser.new_context(locale="ko-KR")
    try:
        thief.add_cookies(copied)  # type: ignore[arg-type]
        stolen = thief.new_page()
        stolen.goto(f"{console.base}/admin/")
        expect(stolen).to_have_url(re.compile(r"/admin/login\?next="))
    finally:
        thief.close()


def test_employees_with_their_policyholders_and_distances(page: Page, console: Console) -> None:
    sign_in(page, console, "admin")
    page.click("nav >> text=담당 배정")
    expect(page.locator("h1")).to_contain_text("담당 배정")
    rows = page.locator("#employees tbody tr")
    expect(rows).to_have_count(4)
    kim = page.locator("#employees tbody tr", has_text="김영환 기획부장")
    expect(kim.locator("td").nth(3)).to_have_text("2")  # 이영숙, 한철수
    expect(kim.locator("td").nth(5)).to_have_text("2.4")  # 한철수 lives farthest
    screenshot(page, "employees")

    page.click("text=김영환 기획부장")
    holders = page.locator("#holders tbody tr")
    expect(holders).to_have_count(2)
    expect(holders.nth(0)).to_contain_text("이영숙")  # nearest first
    expect(holders.nth(0).locator("td").nth(2)).to_have_text("0.00")
    expect(holders.nth(1)).to_contain_text("한철수")
    expect(holders.nth(1).locator("td").nth(3)).to_have_text("시·군·구 대략")
    screenshot(page, "employee-holders")
