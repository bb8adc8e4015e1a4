"""Korean labels for codes shown to people (one place for all surfaces)."""

REQUEST_KIND_LABELS = {
    "complaint": "불만 접수",
    "suggestion": "서비스 제안",
    "loan": "약관대출 신청",
    "moving": "이사 서비스 예약",
    "funeral": "장례 서비스 요청",
    "wedding": "결혼 서비스 예약",
    "callback": "담당자 연락 요청",
    "card": "국제-국민카드 신청",
    "question": "상담 요청",
    "retention": "계약 유지 관리(보험료 미납)",
}

# Short names for reports, charts and the digest, where the kinds stand side by side.
KIND_LABELS = {
    "complaint": "불만",
    "suggestion": "서비스 희망",
    "loan": "대출",
    "moving": "이사",
    "funeral": "장례",
    "wedding": "결혼",
    "callback": "전화 요청",
    "card": "카드",
    "question": "문의",
    "retention": "유지 관리",
}

REQUEST_STATUS_LABELS = {
    "new": "접수 대기",
    "acknowledged": "접수됨",
    "in_progress": "처리 중",
    "resolved": "처리 완료",
    "cancelled": "취소됨",
}

POLICY_STATUS_LABELS = {
    "active": "정상 유지",
    "lapsed": "실효",
    "matured": "만기",
    "surrendered": "해지",
    "paid_up": "납입 완료",
}


def won(amount: int) -> str:
    """1000000 → '1,000,000원'."""
    return f"{amount:,}원"


def kind_label(kind: str) -> str:
    """Korean label of a request kind."""
    return REQUEST_KIND_LABELS.get(kind, kind)
