"""Persistency in words: the terminal report (``milchak report persistency``) and the lines the
weekly digest gives each head. Same figures and definitions as the console page."""

from __future__ import annotations

from bot.services.persistency import (
    MEASURES,
    PersistencyReport,
    Rate,
    UnitFigures,
    format_change,
    format_interval,
    format_rate,
    rate_line,
    window_text,
)
from bot.services.retention import RetentionOutcomes
from bot.services.survival import SurvivalReport

DEMO_NOTE = (
    "※ 데모 데이터: 계약 이력은 시뮬레이션이며 연락한 계약의 해지·실효 위험을 낮게 잡아 만들었습니다. "
    "아래의 연락 효과는 그 가정이 만든 것입니다."
)


def _short(rate: Rate) -> str:
    if not rate.policies:
        return "대상 없음"
    return (
        f"{format_rate(rate.by_ape)} ({rate.retained:,}/{rate.policies:,}건, "
        f"{format_interval(rate)})"
    )


def _unit_lines(
    unit: UnitFigures, previous: dict[int, Rate] | None, report: PersistencyReport
) -> list[str]:
    lines = []
    for n in MEASURES:
        rate = unit.rates[n]
        change = ""
        if previous is not None and n in previous:
            change = f" · 지난달 대비 {format_change(rate.by_ape, previous[n].by_ape)}"
        lines.append(f"  {n}회차 ({window_text(report.window, n)}): {rate_line(rate)}{change}")
    return lines


def survival_lines(survival: SurvivalReport) -> list[str]:
    lines = [f"■ 연락과 유지 (생존 분석, {survival.window_start} ~ {survival.as_of})"]
    landmark = survival.landmark
    if landmark is not None:
        reached, other = landmark.reached, landmark.not_reached
        lines.append(
            f"  {landmark.day} 이후 {landmark.horizon_months}개월 유지 비율: "
            f"연락한 계약 {format_rate(reached.survival[-1])} ({reached.subjects:,}건 중 "
            f"{reached.events:,}건 해지·실효) · 연락하지 않은 계약 "
            f"{format_rate(other.survival[-1])} ({other.subjects:,}건 중 {other.events:,}건) · "
            f"로그순위 검정 p={landmark.logrank_p:.3g}"
        )
    cox = survival.cox
    if cox is not None:
        lines.append(
            f"  연락의 위험비 (Cox, 연락한 날부터 적용): {cox.hazard_ratio:.2f} "
            f"(95% 신뢰구간 {cox.lower:.2f}–{cox.upper:.2f}, p={cox.p:.3g}; "
            f"계약 {cox.subjects:,}건, 해지·실효 {cox.events:,}건)"
        )
    lines += [f"  참고: {problem}" for problem in survival.problems]
    lines.append(
        "  한 번이라도 연락한 계약과 아닌 계약의 단순 비교는 오래 유지된 계약에 유리하게 치우쳐 "
        "보여 주지 않습니다. 관찰 자료이므로 인과 효과의 증명은 아닙니다."
    )
    return lines


def outcome_line(outcomes: RetentionOutcomes) -> str:
    return (
        f"■ 실효 방지 (최근 12개월): 유지 관리 요청 {outcomes.opened:,}건 · 전화·방문 완료 "
        f"{outcomes.contacted:,}건 · 요청 뒤 납입(실효 방지) {outcomes.paid:,}건 · 요청 뒤 "
        f"실효·해지 {outcomes.lapsed:,}건 · 결과 대기 {outcomes.pending:,}건"
    )


def format_persistency_text(
    report: PersistencyReport,
    *,
    previous: dict[int, Rate] | None,
    survival: SurvivalReport | None,
    outcomes: RetentionOutcomes | None,
    demo: bool,
    by_employee: bool,
) -> str:
    """The whole report for the terminal."""
    product = f"상품: {report.product}" if report.product else "전체 상품"
    lines = [f"계약유지율 {report.window.as_of} 기준 ({product})", ""]
    if demo:
        lines += [DEMO_NOTE, ""]
    top = report.departments[0].figures if by_employee and report.departments else report.company
    lines.append(f"■ {top.label}")
    lines += _unit_lines(top, previous, report)
    lines.append("")
    if by_employee:
        lines.append("■ 직원별 (담당 계약자의 계약; 작은 집단이니 건수와 신뢰구간을 함께 보세요)")
        for dept in report.departments:
            for emp in dept.employees:
                parts = " · ".join(f"{n}회차 {_short(emp.rates[n])}" for n in MEASURES)
                lines.append(f"  {emp.label}: {parts}")
    else:
        lines.append("■ 부서별 (보험료 기준, 건수, 95% 신뢰구간)")
        for dept in report.departments:
            parts = " · ".join(f"{n}회차 {_short(dept.figures.rates[n])}" for n in MEASURES)
            lines.append(f"  {dept.figures.label}: {parts}")
    lines.append("")
    if survival is not None:
        lines += [*survival_lines(survival), ""]
    if outcomes is not None:
        lines.append(outcome_line(outcomes))
    return "\n".join(lines).rstrip() + "\n"


def digest_lines(current: dict[int, Rate], previous: dict[int, Rate]) -> list[str]:
    """The weekly digest's persistency block for one department."""
    lines = ["■ 계약유지율 (최근 12개월 코호트, 보험료 기준)"]
    for n in MEASURES:
        rate = current[n]
        if not rate.policies:
            lines.append(f"· {n}회차: 대상 계약 없음")
            continue
        change = format_change(rate.by_ape, previous[n].by_ape if n in previous else None)
        lines.append(
            f"· {n}회차 {format_rate(rate.by_ape)} (건수 {rate.retained:,}/{rate.policies:,}) · "
            f"지난달 대비 {change}"
        )
    return lines
