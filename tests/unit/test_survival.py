"""Survival analysis: our inputs to lifelines are right, and the results are lifelines' own.

The fixed data set is the Stanford heart transplant study that lifelines ships: transplant is the
textbook time-varying covariate (a patient must survive until a heart is found), exactly like a
policyholder who must keep their policy until an employee reaches them.
"""

from __future__ import annotations

from datetime import date

import pytest
from lifelines import CoxPHFitter, CoxTimeVaryingFitter, KaplanMeierFitter
from lifelines.datasets import load_stanford_heart_transplants
from lifelines.statistics import logrank_test

from bot.services.survival import (
    DAYS_PER_MONTH,
    PolicyLife,
    Subject,
    analyse,
    episodes,
    fit_cox,
    fit_landmark,
    landmark_groups,
    subjects_from,
)


def _stanford_subjects() -> tuple[list[Subject], object]:
    """One Subject per patient: follow-up from 0 to the last stop, transplant time as contact."""
    data = load_stanford_heart_transplants()
    subjects = []
    for _, rows in data.groupby("id", sort=True):
        rows = rows.sort_values("start")
        transplanted = rows.loc[rows["transplant"] == 1, "start"]
        subjects.append(
            Subject(
                entry=float(rows["start"].iloc[0]),
                stop=float(rows["stop"].iloc[-1]),
                event=bool(rows["event"].iloc[-1]),
                reached_at=float(transplanted.iloc[0]) if len(transplanted) else None,
            )
        )
    return subjects, data


def test_cox_matches_lifelines_on_the_stanford_transplant_data() -> None:
    subjects, data = _stanford_subjects()
    ours = fit_cox(subjects)
    reference = CoxTimeVaryingFitter()
    reference.fit(
        data[["id", "start", "stop", "event", "transplant"]],  # type: ignore[index]
        id_col="id",
        event_col="event",
        start_col="start",
        stop_col="stop",
    )
    row = reference.summary.loc["transplant"]
    assert ours.hazard_ratio == pytest.approx(float(row["exp(coef)"]), rel=1e-6)
    assert ours.lower == pytest.approx(float(row["exp(coef) lower 95%"]), rel=1e-6)
    assert ours.upper == pytest.approx(float(row["exp(coef) upper 95%"]), rel=1e-6)
    assert ours.p == pytest.approx(float(row["p"]), rel=1e-6)
    assert ours.subjects == 103 and ours.events == 75
    # The published result: no clear effect of transplant once it counts from when it happened.
    assert 0.6 < ours.hazard_ratio < 2.1 and ours.p > 0.05

    # The naive comparison ("ever transplanted") finds a large benefit that is not there:
    # the immortal-time bias this module refuses to show as the effect.
    naive = [(s.stop, s.event, int(s.reached_at is not None)) for s in subjects]
    import pandas as pd

    frame = pd.DataFrame(naive, columns=["stop", "event", "ever"])
    biased = CoxPHFitter().fit(frame, duration_col="stop", event_col="event")
    assert float(biased.summary.loc["ever", "exp(coef)"]) < 0.5 * ours.hazard_ratio


def test_episodes_split_at_the_first_contact() -> None:
    frame = episodes(
        [
            Subject(entry=0, stop=10, event=True, reached_at=4),  # split: exit after contact
            Subject(entry=2, stop=8, event=False, reached_at=None),  # never reached
            Subject(entry=5, stop=9, event=True, reached_at=1),  # reached before entry
            Subject(entry=0, stop=6, event=True, reached_at=7),  # reached after it ended
            Subject(entry=3, stop=3, event=False, reached_at=None),  # nothing to follow
        ]
    )
    assert frame.values.tolist() == [
        [0, 0, 4, 0, 0],
        [0, 4, 10, 1, 1],
        [1, 2, 8, 0, 0],
        [2, 5, 9, 1, 1],
        [3, 0, 6, 1, 0],
    ]


def _m(days: int) -> float:
    return days / DAYS_PER_MONTH


def test_landmark_groups_and_curves_by_hand() -> None:
    """As of 2026-01-01 with the landmark on 2025-01-01 (twelve months before).

    Reached before the landmark: P1 (exits 2025-03-02, 60 days after), P2 (surrenders
    2025-06-30, 180 days), P3 and P4 (in force to the end, 365 days). Not reached: P5 (reached
    only after the landmark, so it counts as not reached; in force to the end), P6 (exits
    2025-02-10, 40 days). Not followed: P7 (lapsed before the landmark), P8 (contracted after).

    Kaplan–Meier, reached: S = 1 until day 60, 3/4 until day 180, 3/4·2/3 = 1/2 after.
    Not reached: 1/2 from day 40.
    """
    contract = date(2023, 5, 1)
    reached, later = date(2024, 6, 1), date(2025, 3, 1)
    lives = [
        PolicyLife(contract, (("lapsed", date(2025, 3, 2)),), reached),
        PolicyLife(contract, (("surrendered", date(2025, 6, 30)),), reached),
        PolicyLife(contract, (), reached),
        PolicyLife(
            contract, (("unpaid", date(2025, 5, 1)), ("normal", date(2025, 5, 20))), reached
        ),
        PolicyLife(contract, (), later),
        PolicyLife(contract, (("lapsed", date(2025, 2, 10)),), None),
        PolicyLife(contract, (("lapsed", date(2024, 8, 1)),), None),
        PolicyLife(date(2025, 4, 1), (), None),
    ]
    day, as_of = date(2025, 1, 1), date(2026, 1, 1)
    a, b = landmark_groups(lives, day=day, as_of=as_of)
    assert a == [(_m(60), True), (_m(180), True), (_m(365), False), (_m(365), False)]
    assert b == [(_m(365), False), (_m(40), True)]
    landmark = fit_landmark(a, b, day=day)
    steps = dict(zip(landmark.reached.times, landmark.reached.survival, strict=True))
    assert steps[_m(60)] == pytest.approx(0.75) and steps[_m(180)] == pytest.approx(0.5)
    assert landmark.not_reached.survival[-1] == pytest.approx(0.5)
    assert (landmark.reached.subjects, landmark.reached.events) == (4, 2)
    expected = logrank_test(
        [t for t, _ in a], [t for t, _ in b],
        event_observed_A=[e for _, e in a], event_observed_B=[e for _, e in b],
    )  # fmt: skip
    assert landmark.logrank_p == pytest.approx(expected.p_value)
    km = KaplanMeierFitter().fit([t for t, _ in a], [e for _, e in a])
    assert landmark.reached.lower == pytest.approx(
        km.confidence_interval_survival_function_.iloc[:, 0].tolist()
    )


def test_follow_up_is_left_truncated_at_the_window() -> None:
    """A 2020 contract enters the 24-month window (from 2024-01-01) at its age then; its holder
    reached in 2024-07 counts from that age; a 2025 contract enters at age 0."""
    lives = [
        PolicyLife(date(2020, 1, 1), (("lapsed", date(2025, 1, 1)),), date(2024, 7, 1)),
        PolicyLife(date(2025, 3, 1), (), None),
        PolicyLife(date(2020, 1, 1), (("matured", date(2023, 1, 1)),), None),  # ended before
    ]
    subjects = subjects_from(lives, as_of=date(2026, 1, 1))
    old, new = subjects
    assert old.entry == pytest.approx(_m((date(2024, 1, 1) - date(2020, 1, 1)).days))
    assert old.stop == pytest.approx(_m((date(2025, 1, 1) - date(2020, 1, 1)).days))
    assert old.event and old.reached_at == pytest.approx(
        _m((date(2024, 7, 1) - date(2020, 1, 1)).days)
    )
    assert new.entry == 0 and not new.event and new.reached_at is None
    assert len(subjects) == 2


def test_analyse_says_why_when_a_group_is_empty() -> None:
    lives = [PolicyLife(date(2023, 1, 1), (), None) for _ in range(5)]
    report = analyse(lives, as_of=date(2026, 1, 1))
    assert report.landmark is None and report.cox is None
    assert len(report.problems) == 2
