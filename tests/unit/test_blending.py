"""The intent blend behind BlendedIntentClassifier."""

import pytest

from nlu.blending import blend, distribution


def test_distribution_normalises_and_drops_empty_rankings() -> None:
    ranking = [{"name": "complaint", "confidence": 3.0}, {"name": "out_of_scope", "confidence": 1}]
    assert distribution(ranking) == {"complaint": 0.75, "out_of_scope": 0.25}
    assert distribution([]) == {}
    assert distribution([{"name": "greet", "confidence": 0.0}]) == {}


def test_a_sure_and_an_unsure_model_meet_in_the_middle() -> None:
    diet = {"complaint": 1.0}
    regression = {"out_of_scope": 0.6, "complaint": 0.4}
    ranked = blend(diet, regression, 0.5)
    assert ranked[0] == ("complaint", pytest.approx(0.7))
    assert ranked[1] == ("out_of_scope", pytest.approx(0.3))
    assert sum(p for _, p in ranked) == pytest.approx(1.0)


@pytest.mark.parametrize(("weight", "winner"), [(1.0, "greet"), (0.0, "goodbye")])
def test_the_weight_decides_whose_ranking_counts(weight: float, winner: str) -> None:
    assert (
        blend({"greet": 0.9, "goodbye": 0.1}, {"goodbye": 0.8, "greet": 0.2}, weight)[0][0]
        == winner
    )


def test_ties_break_by_name_so_results_are_repeatable() -> None:
    assert [name for name, _ in blend({"b": 0.5, "a": 0.5}, {}, 1.0)] == ["a", "b"]
