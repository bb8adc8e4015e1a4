"""Korean text employees see in Telegram (합니다체; short notes may be 해요체)."""

from bot.db.models import RequestAction

EMP_RELAY_IN = (
    "💬 [{reference}] {policyholder} 님:\n{text}\n\n(이 메시지에 답장하면 계약자에게 전달됩니다.)"
)
EMP_RATING = "⭐ [{reference}] {policyholder} 님 평가: {stars}점{comment}"
HISTORY_LABELS = {
    RequestAction.ACKNOWLEDGED: "접수",
    RequestAction.RESOLVED: "완료",
    RequestAction.HANDED_OVER: "이관",
    RequestAction.ESCALATED: "에스컬레이션",
    RequestAction.REROUTED: "재배정",
    RequestAction.REPLIED: "답장",
}
ESCALATION_NOTE = (
    "⏰ 접수 기한({deadline})이 지나도록 {previous}께서 접수하지 않아 넘어온 요청입니다."
)
HANDOVER_NOTE = "↪️ {previous}께서 이관한 요청입니다."
BLOCKED_NOTE = "⚠️ {previous}께 알림을 보낼 수 없어(텔레그램 차단) 넘어온 요청입니다."
