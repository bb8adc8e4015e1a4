"""Korean text the bot sends outside the Rasa dialogue: verification, bad input, outages (해요체)."""

# Verification
WELCOME = (
    "안녕하세요, 국제생명 밀착 상담 챗봇이에요. 계약자 본인 확인을 위해 아래 "
    "‘📱 내 전화번호 보내기’ 버튼을 눌러 주세요."
)
SHARE_PHONE_BUTTON = "📱 내 전화번호 보내기"
VERIFY_FIRST = "상담을 시작하려면 먼저 본인 확인이 필요해요. 아래 버튼으로 전화번호를 보내 주세요."
NOT_OWN_CONTACT = (
    "본인 확인은 본인의 전화번호로만 할 수 있어요. 아래 버튼을 눌러 내 번호를 보내 주세요."
)
UNKNOWN_NUMBER = (
    "죄송해요, 이 전화번호로 등록된 계약을 찾지 못했어요. 계약하실 때 알려 주신 번호가 다르다면 "
    "고객센터({phone})로 연락해 주세요."
)
# No name here: whoever shares a contact must not learn whose number it is before the birth
# date proves they are that person.
ASK_BIRTH = "확인을 위해 생년월일을 입력해 주세요. (예: 620417 또는 1962-04-17)"
BAD_BIRTH_FORMAT = "생년월일을 ‘620417’이나 ‘1962-04-17’처럼 입력해 주세요."
WRONG_BIRTH = "입력하신 생년월일이 등록된 정보와 달라요. 다시 입력해 주세요. (남은 횟수 {tries}회)"
WRONG_TRIES = " (남은 횟수 {tries}회)"
LOCKED = "확인에 여러 번 실패해서 {until}까지 본인 확인이 잠겼어요. 도움이 필요하시면 고객센터({phone})로 연락해 주세요."
VERIFIED = "{name}님, 본인 확인이 끝났어요! 담당 직원은 {employee}님이에요. 무엇을 도와드릴까요?"
VERIFIED_NO_EMPLOYEE = "{name}님, 본인 확인이 끝났어요! 무엇을 도와드릴까요?"

# Input the bot cannot read
MEDIA = {
    "sticker": "스티커 고마워요! 다만 스티커는 읽지 못해서, 필요하신 내용을 글로 적어 주시겠어요?",
    "photo": "사진은 아직 확인하지 못해요. 어떤 도움이 필요하신지 글로 적어 주시겠어요? 서류가 필요하면 담당 직원이 따로 안내해 드릴게요.",
    "voice": "음성 메시지는 아직 듣지 못해요. 불편하시겠지만 글로 적어 주시겠어요?",
    "location": "위치를 받았어요. 다만 위치만으로는 도와드리기 어려워서, 필요하신 내용을 글로 적어 주시겠어요?",
    "other": "이 형식의 메시지는 아직 읽지 못해요. 필요하신 내용을 글로 적어 주시겠어요?",
}
MEDIA_LEDGER = {
    "sticker": "[스티커]",
    "photo": "[사진]",
    "voice": "[음성 메시지]",
    "location": "[위치]",
    "other": "[기타 메시지]",
}
EMPTY_OR_EMOJI = (
    "말씀을 글자로 적어 주시면 도와드릴게요. 예: ‘대출 받고 싶어요’, ‘내 보험 알려 주세요’"
)
TOO_LONG = (
    "메시지가 너무 길어요. 보내 주신 내용은 저장했어요. 핵심만 짧게 나누어 다시 보내 주시겠어요?"
)
NOT_KOREAN = "죄송해요, 지금은 한국어로만 상담할 수 있어요. 한국어로 말씀해 주시겠어요?"

# Buttons, edits, groups
STALE_CHOICE = "이미 처리된 선택이에요."
STALE_CHOICE_LEDGER = "[버튼] {title} (이미 처리된 선택)"
EDIT_NOTED = (
    "수정하신 내용도 기록해 두었어요. 다만 이미 답변드린 말씀이라, 바뀐 내용으로 다시 "
    "진행하시려면 새 메시지로 보내 주세요."
)
EDIT_LEDGER = "[수정] {text}"
EDIT_LEDGER_UNVERIFIED = "[수정된 메시지]"
PRIVATE_ONLY = (
    "밀착 상담은 1:1 대화에서만 할 수 있어요. 개인정보 보호를 위해 단체 대화방에서는 답하지 "
    "않아요. 저를 눌러 1:1 대화로 말씀해 주세요."
)
GROUP_LEDGER = "[단체 대화방] {text}"

# A handler failed: whether the customer's words were kept decides what we may promise.
ERROR_STORED = (
    "죄송해요, 잠시 문제가 생겼어요. 보내 주신 말씀은 저장되어 있어요. 잠시 후 다시 말씀해 주세요."
)
ERROR_NOT_STORED = (
    "죄송해요, 잠시 문제가 생겼어요. 방금 보내 주신 말씀을 받지 못했을 수 있어요. "
    "잠시 후 다시 보내 주세요."
)

# Rasa down
RASA_DOWN = (
    "죄송해요, 지금 상담 시스템에 잠시 문제가 있어요. 보내 주신 말씀은 그대로 저장해서 "
    "담당 직원에게 전달했어요. (접수번호 {reference}) 곧 연락드릴게요."
)
RASA_SLOW_OPENED = (
    "답변이 늦어져서 죄송해요. 말씀하신 요청은 접수됐어요. (접수번호 {reference}) "
    "담당 직원이 확인하고 연락드릴게요."
)
RASA_DOWN_FOLLOWUP_ALERT = "[추가 메시지] {reference} {name}님: {text}"

# Terminal chat
CHAT_BANNER = (
    "밀착 터미널 상담 — {name}님으로 대화합니다. 종료하려면 Ctrl-D 또는 ‘/quit’을 입력하세요.\n"
    "버튼은 번호로 고를 수 있어요."
)
CHAT_ALERT = "[직원 알림 → {chat_id}] {text}"

# What the employee did with a request (sent through the outbox)
PH_ACKNOWLEDGED = (
    "요청하신 건이 접수됐어요.\n접수 번호: {reference}\n담당: {employee}\n곧 연락드릴게요."
)
PH_RESOLVED = (
    "요청하신 건이 처리됐어요.\n접수 번호: {reference}\n담당: {employee}\n\n"
    "상담은 어떠셨나요? 별점(1~5)을 눌러 주세요."
)
PH_HANDED_OVER = (
    "담당자가 바뀌었어요.\n접수 번호: {reference}\n새 담당: {employee}\n이어서 도와드릴게요."
)
PH_RELAY_SIGNATURE = "{text}\n\n— 국제생명 {employee}"
PH_RELAY_FIRST_NOTE = "\n(이 대화에 메시지를 보내시면 담당 직원에게 바로 전달돼요.)"
PH_RATING_THANKS = (
    "별점 {stars}점, 고마워요! 더 하실 말씀이 있으면 적어 주세요. "
    "없으시면 [건너뛰기]를 눌러 주세요."
)
PH_COMMENT_THANKS = "소중한 의견 고마워요. 담당 직원에게 잘 전할게요."
PH_RATING_DONE = "평가해 주셔서 고마워요."

# Rating buttons (a short answer on the pressed button)
RATING_EXPIRED = "이미 평가가 끝났거나 평가할 수 없는 요청이에요."
RATING_THANKS_TOAST = "고마워요!"
# Operations alerts to the admins' chats (MILCHAK_ALERT_CHAT_IDS), bot/ops_alerts.py
OPS_RASA_DOWN = (
    "🚨 [밀착 운영] 상담 엔진(Rasa)이 {minutes}분째 응답하지 않아요 (자동 재시작 {restarts}회). "
    "고객 메시지는 저장되고 담당 직원에게 문의로 넘어가고 있어요. /readyz 와 rasa.log를 확인해 주세요."
)
OPS_RASA_BACK = "✅ [밀착 운영] 상담 엔진(Rasa)이 다시 응답해요. 약 {minutes}분 동안 멈춰 있었어요."
OPS_OUTBOX_STUCK = (
    "🚨 [밀착 운영] 보낼 메시지가 {minutes}분 넘게 나가지 못하고 있어요 (대기 {depth}건). "
    "텔레그램 연결과 발송 작업을 확인해 주세요."
)
OPS_OUTBOX_BACK = "✅ [밀착 운영] 대기 중이던 메시지가 다시 나가고 있어요 (남은 대기 {depth}건)."
