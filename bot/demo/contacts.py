"""Korean message templates for generated contact-ledger rows (``milchak seed --contacts``).

Inbound texts are what policyholders really type for each intent of the NLU contract; bot and
employee texts are what the ledger would show for the other side of the conversation.
"""

from __future__ import annotations

from bot.db.models import RequestKind

# Relative frequency of each intent among inbound messages.
INTENT_WEIGHTS: dict[str, int] = {
    "greet": 8,
    "goodbye": 4,
    "thank": 6,
    "affirm": 4,
    "deny": 2,
    "cancel": 2,
    "complaint": 8,
    "suggest_service": 7,
    "request_loan": 10,
    "book_moving": 4,
    "book_funeral": 2,
    "book_wedding": 3,
    "ask_policy": 16,
    "contact_employee": 8,
    "apply_card": 5,
    "inform": 5,
    "out_of_scope": 6,
}

# Intents that can end in a routed request, and the request kind they open.
REQUEST_KINDS: dict[str, RequestKind] = {
    "complaint": RequestKind.COMPLAINT,
    "suggest_service": RequestKind.SUGGESTION,
    "request_loan": RequestKind.LOAN,
    "book_moving": RequestKind.MOVING,
    "book_funeral": RequestKind.FUNERAL,
    "book_wedding": RequestKind.WEDDING,
    "contact_employee": RequestKind.CALLBACK,
    "apply_card": RequestKind.CARD,
    "out_of_scope": RequestKind.QUESTION,
}

INBOUND: dict[str, tuple[str, ...]] = {
    "greet": (
        "안녕하세요",
        "안녕하세요~",
        "수고 많으십니다",
        "여보세요",
        "안녕하세요 문의 좀 드릴게요",
    ),
    "goodbye": ("수고하세요", "안녕히 계세요", "이만 들어가 볼게요", "다음에 또 연락드릴게요"),
    "thank": (
        "감사합니다",
        "고맙습니다~",
        "친절하게 알려주셔서 감사해요",
        "네 잘 알겠습니다 감사합니다",
    ),
    "affirm": ("네", "네 맞아요", "그렇게 해주세요", "좋아요", "예 그걸로 할게요"),
    "deny": ("아니요", "아니에요", "그건 아니고요", "아뇨 괜찮습니다"),
    "cancel": ("취소할게요", "그만할래요", "아 됐어요 취소해 주세요", "신청 취소"),
    "complaint": (
        "지난달 보험료가 두 번 빠져나갔어요",
        "설계사분이 연락이 안 돼요 너무하네요",
        "보험금 청구한 지 2주가 넘었는데 아직 소식이 없어요",
        "콜센터 전화가 계속 안 됩니다",
        "안내문이 엉뚱한 주소로 가요 몇 번을 말씀드렸는데",
        "약관 설명을 제대로 못 들었어요 불만입니다",
        "자동이체 날짜를 바꿔 달라고 했는데 안 바뀌었어요",
    ),
    "suggest_service": (
        "계약자한테 책 할인 같은 것도 해주면 좋겠어요",
        "중고차 살 때 도와주는 서비스 있으면 좋겠네요",
        "건강검진 할인도 해주세요",
        "아이들 학원비 할인 같은 혜택은 없나요",
        "주말에도 상담이 되면 좋겠어요",
        "병원 예약 대행 서비스 있으면 편할 것 같아요",
    ),
    "request_loan": (
        "약관대출 받고 싶어요",
        "{amount} 대출 가능한가요",
        "보험에서 대출 좀 받으려고요 {amount}요",
        "급하게 {amount} 필요한데 대출 되나요",
        "대출 한도가 얼마예요?",
        "전화로 대출 신청한다고 들었는데요",
    ),
    "book_moving": (
        "{date}에 이사하는데 트랜스팩 할인 되나요",
        "이사 업체 좀 소개해 주세요 {place}로 가요",
        "{relation} 이사 예약하고 싶어요",
        "이삿짐센터 할인 받을 수 있다던데요",
    ),
    "book_funeral": (
        "{relation}께서 돌아가셨어요 장례 도움 받을 수 있나요",
        "장례 준비를 도와주실 수 있나요",
        "임종의 전화 연결 부탁드립니다",
        "{relation} 상을 당했습니다 장례식장 알아봐 주세요",
    ),
    "book_wedding": (
        "{relation} 결혼식 준비 중인데 그린그린 할인 되나요",
        "{date}에 {relation} 결혼해요 예식 할인 있나요",
        "웨딩 업체 소개 좀 해주세요",
        "결혼식장 예약 도와주세요 {place} 쪽으로요",
    ),
    "ask_policy": (
        "제 보험 만기가 언제예요?",
        "다음 보험료 언제 나가요",
        "{product} 보장 내용 알려주세요",
        "가입한 보험 목록 보여주세요",
        "해약환급금이 얼마나 되나요",
        "제 보험 아직 유효한가요",
        "보험료 얼마씩 내고 있죠?",
    ),
    "contact_employee": (
        "담당자분이랑 통화하고 싶어요",
        "제 담당 직원이 누구예요?",
        "담당자님 연락처 좀 알려주세요",
        "직원분이 전화 좀 주셨으면 해요",
        "김 부장님께 전화 부탁드린다고 전해주세요",
    ),
    "apply_card": (
        "국제국민카드 신청하고 싶어요",
        "제휴카드 만들 수 있나요",
        "카드 발급 조건이 어떻게 되나요",
        "국민카드 신청할게요",
    ),
    "inform": ("{amount}요", "{date}요", "{place}", "{relation}요", "{product}요"),
    "out_of_scope": (
        "오늘 날씨 어때요",
        "주식 추천 좀 해주세요",
        "로또 번호 알려줘",
        "근처 맛집 아세요?",
        "자동차 보험도 되나요",
        "실손보험 청구는 어떻게 해요",
    ),
}

BOT_REPLIES: dict[str, tuple[str, ...]] = {
    "greet": ("안녕하세요, 국제생명 밀착관리 챗봇입니다. 무엇을 도와드릴까요?",),
    "goodbye": ("이용해 주셔서 감사합니다. 좋은 하루 보내세요.",),
    "thank": ("별말씀을요. 더 궁금하신 점이 있으면 언제든 말씀해 주세요.",),
    "affirm": ("네, 알겠습니다.",),
    "deny": ("네, 알겠습니다. 다른 도움이 필요하시면 말씀해 주세요.",),
    "cancel": ("진행 중이던 신청을 취소했습니다.",),
    "complaint": ("불편을 드려 죄송합니다. 어떤 일이 있으셨는지 조금 더 자세히 말씀해 주세요.",),
    "suggest_service": ("좋은 의견 감사합니다. 담당 직원에게 전달하겠습니다.",),
    "request_loan": (
        "대출 받으실 계약을 선택해 주세요.",
        "얼마를 대출받으시겠어요? (10만원 이상, 1만원 단위)",
    ),
    "book_moving": ("트랜스팩(이사) 예약을 도와드릴게요. 이사 날짜가 언제인가요?",),
    "book_funeral": ("삼가 고인의 명복을 빕니다. 임종의 전화로 바로 연결해 드리겠습니다.",),
    "book_wedding": ("축하드립니다! 그린그린(예식) 예약을 도와드릴게요. 예식 날짜가 언제인가요?",),
    "ask_policy": ("가입하신 계약을 알려드릴게요.", "다음 보험료 납입일과 만기일을 알려드릴게요."),
    "contact_employee": ("담당 직원에게 전화를 부탁드릴까요?",),
    "apply_card": ("국제-국민카드는 유지 중인 계약이 있으면 신청하실 수 있습니다. 신청할까요?",),
    "inform": ("네, 확인했습니다.",),
    "out_of_scope": ("죄송하지만 제가 답하기 어려운 질문이에요. 담당 직원에게 전달해 드릴까요?",),
}

LOW_CONFIDENCE_REPLY = "죄송해요, 잘 이해하지 못했어요. 담당 직원에게 질문을 전달해 드릴까요?"

REQUEST_RECEIVED = (
    "접수되었습니다. 접수번호는 {reference}입니다. 담당 직원 {employee}께서 연락드릴 예정입니다."
)

EMPLOYEE_FOLLOW_UPS: tuple[str, ...] = (
    "안녕하세요, 국제생명 {employee}입니다. 요청하신 건으로 전화드렸습니다.",
    "고객님, 말씀하신 내용 처리 완료했습니다. 불편을 드려 죄송합니다.",
    "퇴근길에 댁에 들러 안내문 전달드렸습니다.",
    "요청하신 건 확인했습니다. 내일 중으로 다시 연락드리겠습니다.",
)

AMOUNTS: tuple[str, ...] = (
    "3백만원", "오십만 원", "1,000,000원", "200만원", "5백만 원", "천만원", "150만원", "80만원",
)  # fmt: skip
DATES: tuple[str, ...] = (
    "다음주 토요일", "이달 30일", "12월 20일", "내일", "모레", "다음달 초", "이번 주 일요일",
)  # fmt: skip
RELATIONS: tuple[str, ...] = ("아버지", "어머니", "아들", "딸", "제", "장인어른", "손자", "남편")
PLACES: tuple[str, ...] = (
    "인천 남동구", "부천", "송도", "부평역 근처", "구월동", "서울 강서구", "김포",
)  # fmt: skip
