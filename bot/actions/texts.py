"""Korean text the custom actions send to policyholders (해요체 throughout)."""

GREETING = "안녕하세요, {name}님! 국제생명 밀착 상담이에요. 무엇을 도와드릴까요?"
MENU = (
    ("약관대출 신청", "/request_loan"),
    ("내 보험 조회", "/ask_policy"),
    ("담당자 연결", "/contact_employee"),
)
YES_NO_AGAIN = "‘네’ 또는 ‘아니요’로 답해 주세요."
YES = "네"
NO = "아니요"
PROBLEM = "죄송해요, 처리 중에 문제가 생겼어요. 잠시 후 다시 말씀해 주세요. 급하시면 {phone}로 전화 주세요."

# Policies
NO_POLICIES = "조회되는 보험 계약이 없어요. 담당 직원에게 확인을 요청하시려면 ‘담당자 연결’이라고 말씀해 주세요."
POLICIES_HEADER = "{name}님의 보험 계약이에요."
POLICY_LINE = "• {product} ({number}) — {status}"
POLICY_PREMIUM = "  {cycle} 보험료 {premium}, 다음 납입일 {due}"  # cycle: 월, 연납, …
POLICY_MATURITY = "  만기일 {maturity}, 해지환급금 {surrender}"
POLICY_LOAN = "  약관대출 가능 금액 {limit} (연 {rate}%)"
POLICY_COVERAGE = "  보장 내용: {coverage}"

# Loan
LOAN_NO_POLICY = "약관대출을 받을 수 있는 계약이 없어요. 자세한 내용은 담당 직원에게 문의해 주세요."
LOAN_ASK_POLICY = "어느 보험으로 약관대출을 받으시겠어요?"
LOAN_POLICY_UNKNOWN = "말씀하신 보험을 찾지 못했어요. 아래에서 골라 주세요."
LOAN_POLICY_NOT_LOANABLE = "죄송해요, 선택하신 계약으로는 약관대출을 신청할 수 없어요."
LOAN_ASK_AMOUNT = (
    "얼마를 빌리고 싶으세요? {product} 계약은 최대 {limit}까지 가능해요. (예: 300만원)"
)
LOAN_AMOUNT_UNREADABLE = "죄송해요, 금액을 알아듣지 못했어요."
LOAN_AMOUNT_TOO_SMALL = "약관대출은 최소 100,000원부터 신청할 수 있어요."
LOAN_AMOUNT_STEP = (
    "약관대출은 만 원 단위로 신청할 수 있어요. 예를 들어 {rounded}처럼 말씀해 주세요."
)
LOAN_AMOUNT_OVER_LIMIT = (
    "죄송해요, 말씀하신 금액은 {product} 계약의 대출 가능 금액(최대 {limit})을 넘어요."
)
LOAN_CONFIRM = (
    "신청 내용을 확인해 주세요.\n"
    "• 계약: {product} ({number})\n"
    "• 대출 금액: {amount}\n"
    "• 대출 이율: 연 {rate}%\n"
    "• 입금 계좌: {account}\n"
    "이대로 신청할까요?"
)
LOAN_CONFIRM_YES = "네, 신청할게요"
LOAN_DONE = (
    "약관대출 신청을 접수했어요. (접수번호 {reference})\n"
    "담당 {employee}님께 전달했고, 확인 후 등록된 계좌로 입금해 드릴게요."
)
LOAN_LIMITS_HEADER = "약관대출은 계약별로 아래 금액까지 받으실 수 있어요."
LOAN_LIMITS_HOW = "신청하시려면 ‘약관대출 신청할게요’라고 말씀해 주세요."
LOAN_NOT_SENT = "약관대출 신청을 하지 않았어요. 다른 도움이 필요하시면 말씀해 주세요."

# Partner bookings
ASK_BOOKING_KIND = "어떤 제휴 서비스가 필요하세요? 이사, 장례, 결혼 중에서 골라 주세요."
BOOKING_KIND_BUTTONS = (
    ("이사", "/book_moving"),
    ("장례", "/book_funeral"),
    ("결혼", "/book_wedding"),
)
BOOKING_NOUN = {"moving": "이사", "funeral": "장례", "wedding": "결혼"}
ASK_RELATION = {
    "moving": "누구의 이사인가요? (예: 본인, 아들, 어머니)",
    "funeral": "삼가 고인의 명복을 빕니다. 어느 분의 장례인지 알려 주시겠어요? (예: 아버지, 어머니)",
    "wedding": "축하드려요! 누구의 결혼식인가요? (예: 본인, 딸, 아들)",
}
ASK_DATE = {
    "moving": "이사 날짜는 언제인가요? (예: 다음주 토요일, 12월 20일)",
    "funeral": "발인(장례) 날짜는 언제인가요? 아직 모르시면 ‘오늘’이나 ‘내일’처럼 말씀해 주세요.",
    "wedding": "결혼식 날짜는 언제인가요? (예: 내년 3월 14일)",
}
ASK_PLACE = {
    "moving": "어디로 이사하시나요? 동네나 주소를 알려 주세요.",
    "funeral": "장례식장이나 모실 곳은 어디인가요?",
    "wedding": "결혼식장은 어디인가요?",
}
RELATION_UNREADABLE = "죄송해요, 어느 분의 일인지 알아듣지 못했어요."
RELATION_INELIGIBLE = (
    "죄송해요. 제휴 할인 서비스는 계약자 본인과 직계존비속(부모님·조부모님·자녀·손자녀)만 "
    "이용하실 수 있어서 {relation}의 {noun}에는 도와드리기 어려워요."
)
DATE_UNREADABLE = "죄송해요, 날짜를 알아듣지 못했어요."
DATE_PAST = "말씀하신 날짜가 이미 지났어요 ({date}). 앞으로의 날짜를 말씀해 주세요."
PLACE_TOO_SHORT = "장소를 조금 더 자세히 알려 주시겠어요?"
NOT_AN_ANSWER = "네, 천천히 말씀해 주셔도 괜찮아요."
BOOKING_CONFIRM = (
    "{noun} 서비스 예약 내용을 확인해 주세요.\n"
    "• 대상: {relation}\n"
    "• 날짜: {date}\n"
    "• 장소: {place}\n"
    "• 제휴사: {partner} ({discount})\n"
    "이대로 요청할까요?"
)
BOOKING_DONE = (
    "{noun} 서비스 요청을 접수했어요. (접수번호 {reference})\n"
    "담당 {employee}님께 전달했어요. 제휴사 {partner}({phone})에서 {discount} 혜택을 드려요."
)
FUNERAL_DONE_EXTRA = (
    "긴급 건으로 바로 연락드릴게요. 급하시면 {partner}({phone})로 24시간 언제든 전화하셔도 돼요."
)
BOOKING_NOT_SENT = "{noun} 서비스 요청을 하지 않았어요. 필요하시면 언제든 다시 말씀해 주세요."
BOOKING_NOT_VERIFIED = (
    "죄송해요. 제휴 서비스는 본인 확인을 마친 계약자만 신청하실 수 있어요. "
    "본인 확인을 다시 해 주신 뒤 말씀해 주세요."
)
BOOKING_KIND_UNKNOWN = "죄송해요, 이사·장례·결혼 중 어떤 서비스인지 알아듣지 못했어요."

# Complaints
COMPLAINT_CATEGORIES = (
    "보험금 지급",
    "대출",
    "보험료·수납",
    "해지·환급",
    "직원 응대",
    "제휴 서비스",
    "기타",
)
ASK_COMPLAINT_CATEGORY = "불편을 드려 죄송해요. 어떤 일에 관한 불편인가요?"
COMPLAINT_DONE = (
    "불편을 드려 정말 죄송해요. 말씀하신 내용을 접수했어요. (접수번호 {reference})\n"
    "담당 {employee}님께 전달했고, 24시간 안에 연락드릴게요."
)

# Offers answered with 네 / 아니요
CALLBACK_OFFER = (
    "{name}님의 담당 직원은 {employee}님({department})이에요. 담당 직원에게 연락을 요청해 드릴까요?"
)
CALLBACK_YES = "네, 연락 주세요"
CALLBACK_DONE = "연락 요청을 남겼어요. (접수번호 {reference}) {employee}님께서 곧 연락드릴 거예요."
NO_EMPLOYEE = (
    "아직 담당 직원이 배정되지 않았어요. 고객센터({phone})로 연락 주시면 바로 도와드릴게요."
)
CARD_OFFER = (
    "국제-국민카드는 국제생명 계약자를 위한 제휴 신용카드예요. 주부나 자영업자처럼 카드 발급이 "
    "어려우셨던 분도 신청하실 수 있어요. {name}님은 신청 대상이세요. 신청을 담당 직원에게 전달할까요?"
)
CARD_INELIGIBLE = (
    "죄송해요. 국제-국민카드는 유지 중인 계약이 있는 만 19세 이상 계약자 본인만 신청하실 수 있어요. "
    "자세한 내용은 담당 직원에게 문의해 주세요."
)
CARD_YES = "네, 신청할게요"
CARD_DONE = "국제-국민카드 신청을 접수했어요. (접수번호 {reference}) {employee}님께서 서류 안내를 위해 연락드릴게요."
FALLBACK = "죄송해요, 말씀을 잘 이해하지 못했어요. 이 질문을 담당 직원에게 전달해 드릴까요?"
FALLBACK_YES = "담당자에게 전달"
POLICY_QUESTION_OFFER = "자세한 내용은 담당 직원이 확인해서 안내해 드릴 수 있어요. 이 질문을 담당 직원에게 전달해 드릴까요?"
QUESTION_DONE = (
    "질문을 담당 {employee}님께 전달했어요. (접수번호 {reference}) 확인 후 답변드릴게요."
)
OFFER_DECLINED = "알겠어요. 다른 도움이 필요하시면 언제든 말씀해 주세요."

# Suggestions
SUGGESTION_ASK = "네, 어떤 의견인지 편하게 말씀해 주세요. 담당 직원에게 그대로 전할게요."
SUGGESTION_DONE = (
    "좋은 의견 고마워요! 말씀하신 내용을 담당 {employee}님께 전달했어요. 서비스를 만드는 데 꼭 "
    "참고할게요. (접수번호 {reference})"
)

# Form control
CANCELLED = "{what} 취소했어요. 다른 도움이 필요하시면 말씀해 주세요."
PAUSED = "{what} 잠시 멈출게요. 나중에 다시 말씀하시면 이어서 도와드릴게요."
FORM_NAMES = {
    "loan_form": "약관대출 신청",
    "booking_form": "서비스 예약",
    "complaint_form": "불편 사항 접수",
}
INTERJECTION_GREET = "안녕하세요!"
INTERJECTION_THANK = "천만에요!"


def josa(word: str, pair: str) -> str:
    """Attach the particle that fits the last syllable: josa("접수", "을/를") → "접수를"."""
    with_final, without_final = pair.split("/")
    last = word[-1] if word else ""
    has_final = "가" <= last <= "힣" and (ord(last) - ord("가")) % 28 != 0
    return word + (with_final if has_final else without_final)
