"""The capacitated assignment solver: optimal, within capacity, feasible when tight, stable."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from bot.services.assignment_blocks import solve_by_blocks
from bot.services.assignment_solver import CapacityError, solve


def _costs(people: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """Whole-metre distances, rounded as the solver rounds them."""
    delta = people[:, None, :] - sites[None, :, :]
    return np.rint(np.hypot(delta[..., 0], delta[..., 1])).astype(np.int64)


def _exact(cost: np.ndarray, capacity: list[int]) -> int:
    """Optimum by the Hungarian method on the complete graph, each site copied per place."""
    slots = np.repeat(np.arange(len(capacity)), capacity)
    rows, cols = linear_sum_assignment(cost[:, slots])
    return int(cost[rows, slots[cols]].sum())


def _clustered(rng: np.random.Generator, n: int, centres: np.ndarray, spread: float) -> np.ndarray:
    pick = rng.integers(len(centres), size=n)
    return centres[pick] + rng.normal(0, spread, (n, 2))


def test_optimal_against_brute_force_on_small_cases() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        people = rng.uniform(0, 5_000, (7, 2))
        sites = rng.uniform(0, 5_000, (3, 2))
        capacity = [3, 2, 3]
        cost = _costs(people, sites)
        best = min(
            sum(cost[p, s] for p, s in enumerate(choice))
            for choice in itertools.product(range(3), repeat=7)
            if all(Counter(choice)[s] <= capacity[s] for s in range(3))
        )

        sparse = solve(people, sites, capacity, neighbours=2, reach=1.0, complete_up_to=0)
        solution = solve(people, sites, capacity)  # small: the complete graph at once

        assert solution.total_m == best and sparse.total_m == best
        assert int(cost[np.arange(7), sparse.site].sum()) == best


def test_optimal_against_the_complete_graph_when_capacity_is_tight() -> None:
    """Clustered homes, every place taken: the sparse graph, widened where it was infeasible and
    priced against the complete one, still finds the exact optimum."""
    rng = np.random.default_rng(11)
    centres = rng.uniform(0, 30_000, (6, 2))
    people = _clustered(rng, 400, centres, 1_500)
    sites = _clustered(rng, 20, centres[:4], 3_000)  # two clusters have no site of their own
    capacity = [20] * 20

    solution = solve(people, sites, capacity, neighbours=3, reach=1.0, complete_up_to=0)

    assert solution.total_m == _exact(_costs(people, sites), capacity)
    assert np.bincount(solution.site, minlength=20).tolist() == capacity
    assert solution.rounds > 1  # the first sparse graph was infeasible: the guard widened it


def test_capacity_is_respected_and_everyone_is_placed() -> None:
    rng = np.random.default_rng(5)
    people = rng.uniform(0, 10_000, (500, 2))
    sites = rng.uniform(0, 10_000, (30, 2))
    capacity = rng.integers(10, 30, size=30)

    solution = solve(people, sites, capacity)

    assert (solution.site >= 0).all() and len(solution.site) == 500
    assert (np.bincount(solution.site, minlength=30) <= capacity).all()
    assert solution.total_m == _exact(_costs(people, sites), capacity.tolist())


def test_not_enough_places_is_refused_with_the_capacity_that_would_do() -> None:
    people = np.zeros((251, 2))
    sites = np.zeros((10, 2))

    with pytest.raises(CapacityError) as error:
        solve(people, sites, [25] * 10)

    assert error.value.minimum_capacity == 26 and error.value.total_capacity == 250


def test_a_site_with_no_capacity_gets_nobody() -> None:
    people = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])
    sites = np.array([[0.0, 0.0], [1_000.0, 0.0]])

    solution = solve(people, sites, [0, 3])

    assert solution.site.tolist() == [1, 1, 1]


def test_stable_keeps_pairs_unless_a_move_saves_more_than_the_penalty() -> None:
    rng = np.random.default_rng(8)
    centres = rng.uniform(0, 20_000, (5, 2))
    people = _clustered(rng, 300, centres, 1_200)
    sites = _clustered(rng, 15, centres, 2_000)
    start = solve(people, sites, [20] * 15).site

    # One site leaves. With a penalty above any distance saved, only its own people move.
    capacity = [22] * 15
    capacity[4] = 0
    orphans = int((start == 4).sum())
    fewest = solve(people, sites, capacity, current=start, switch_penalty_m=1_000_000)
    assert int((fewest.site != start).sum()) == orphans
    # With a town-sized penalty a few more move when that saves more than the penalty each,
    # still far fewer than re-solving from scratch.
    scratch = solve(people, sites, capacity).site
    stable = solve(people, sites, capacity, current=start, switch_penalty_m=5_000)
    moved = int((stable.site != start).sum())
    assert orphans <= moved < int((scratch != start).sum())
    assert stable.total_m < fewest.total_m

    # Exactly the optimum of distance plus the penalty per move.
    cost = _costs(people, sites)
    penalised = cost + 5_000 * (np.arange(15)[None, :] != start[:, None])
    slots = np.repeat(np.arange(15), capacity)
    rows, cols = linear_sum_assignment(penalised[:, slots])
    assert int(penalised[np.arange(300), stable.site].sum()) == int(
        penalised[rows, slots[cols]].sum()
    )

    # Without a penalty the stable mode is the plain optimum.
    free = solve(people, sites, capacity, current=start, switch_penalty_m=0)
    assert free.total_m == _exact(cost, capacity)


def test_blocks_place_everyone_within_capacity_near_the_optimum() -> None:
    """The national-scale path on a small, lumpy map cut into blocks of 32 sites: feasible, and
    within a few percent (its loss at national density is measured in bench/assign.py)."""
    rng = np.random.default_rng(21)
    centres = rng.uniform(0, 20_000, (30, 2))
    people = _clustered(rng, 2_000, centres, 800)
    sites = _clustered(rng, 80, centres, 800)
    capacity = [25] * 80  # every place taken

    blocks = solve_by_blocks(people, sites, capacity, block_sites=32)

    assert (blocks.site >= 0).all()
    assert np.bincount(blocks.site, minlength=80).tolist() == capacity
    exact = solve(people, sites, capacity).total_m
    assert exact <= blocks.total_m < exact * 1.08
