"""Korean text of the assignment: the operator's terminal summary and the employees' notices."""

MODE_LABELS = {"full": "처음부터 최적 배정", "stable": "안정 재배정"}

# Terminal (operator)
SUMMARY_HEAD = (
    "배정 계획({mode}, 직원 1인당 최대 {capacity}명): 계약자 {holders:,}명 → 직원 {staff:,}명 "
    "({seconds:.1f}초)"
)
SUMMARY_PENALTY = "변경 벌점: 담당을 바꾸려면 {km:.1f} km 넘게 가까워져야 합니다."
SUMMARY_LEAVING = "배정에서 빠지는 직원: {numbers}"
SUMMARY_DISTANCE = (
    "집 사이 거리: 합계 {total:,.1f} km, 평균 {mean:.2f} km, 최장 {longest:.1f} km "
    "({holder} → {employee})"
)
SUMMARY_CHANGED = "담당 직원이 바뀌는 계약자: {changed:,}명 ({share:.1f}%)"
SUMMARY_TABLE_HEAD = "부서별: 부서 / 직원 / 계약자 / 평균 km / 최장 km / 변경"
SUMMARY_TABLE_ROW = (
    "  {name} / {employees:,} / {holders:,} / {mean:.2f} / {longest:.1f} / {changed:,}"
)
SUMMARY_UNLOCATED_HOLDERS = (
    "좌표가 없는 계약자 {count:,}명은 지금 담당 그대로 두었습니다 (주소를 확인해 주세요)."
)
SUMMARY_UNLOCATED_STAFF = "집 좌표가 없는 직원 {count:,}명은 배정하지 않았습니다: {names}"
DRY_RUN = "미리보기입니다. 저장하려면 --apply 를 붙여 다시 실행하세요."
APPLIED = "배정을 저장했습니다 (배정 기록 #{run}). 직원 {notices:,}명에게 텔레그램 알림을 보냅니다."
CSV_WRITTEN = "계약자별 배정: {path}"

# Errors (operator)
CAPACITY_TOO_SMALL = (
    "계약자 {holders:,}명을 직원 {staff:,}명이 1인당 {capacity}명씩(합계 {total:,}명) 맡을 수 "
    "없습니다. --capacity {minimum} 이상으로 실행하거나 직원을 늘려 주세요."
)
NO_STAFF = "집 좌표가 있는 직원이 없어 배정할 수 없습니다."
UNKNOWN_EMPLOYEES = "알 수 없는 사번입니다: {numbers}"

# Telegram (employee)
NOTICE_HEAD = (
    "[담당 계약자 변경] 새로 맡는 계약자 {gained}명, 다른 직원에게 넘어가는 계약자 {lost}명이에요."
)
NOTICE_GAINED = "새로 맡는 분 (집에서 거리):"
NOTICE_GAINED_LINE = "· {name}님 — {address} ({km:.1f} km)"
NOTICE_LOST = "다른 직원에게 넘어가는 분:"
NOTICE_LOST_LINE = "· {name}님 → {to}"
NOTICE_MORE = "  외 {count}명"
NOTICE_FOOT = "새로 맡은 분께는 가까운 시일에 인사 연락을 부탁드려요."
