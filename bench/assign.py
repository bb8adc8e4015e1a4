"""Benchmarks of the nearest-25 assignment (issue 14); prints its figures.

    .venv/bin/python -m bench.assign                 # everything (the national case: minutes)
    .venv/bin/python -m bench.assign --skip-large    # 6,250 × 250 and one employee leaving
    .venv/bin/python -m bench.assign --compare       # + the solver libraries side by side

Homes are synthetic, clustered like 수도권 (``bench/synthetic_homes.py``). Times are wall clock
and CPU of this process: on a shared machine the CPU time is the one to compare.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from datetime import date
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow
from scipy.spatial import cKDTree

from bench.synthetic_homes import CapitalArea
from bot.geo.distance import to_plane_array
from bot.services.assignment import DEFAULT_SWITCH_PENALTY_M
from bot.services.assignment_blocks import DEFAULT_BLOCK_SITES, solve_by_blocks
from bot.services.assignment_solver import solve

T = TypeVar("T")
Array = NDArray[np.float64]


def timed(work: Callable[[], T]) -> tuple[T, float, float]:
    """Result, wall seconds and CPU seconds of ``work``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def total_m(people: Array, sites: Array, site: NDArray[np.int64]) -> float:
    delta = people - sites[site]
    return float(np.hypot(delta[:, 0], delta[:, 1]).sum())


def greedy_nearest(
    people: Array, sites: Array, capacity: int, candidates: int = 40
) -> NDArray[np.int64]:
    """The demo seed's assignment before issue 14: pairs in order of distance, first come first
    served, over each person's ``candidates`` nearest sites; leftovers take the nearest room."""
    k = min(candidates, len(sites))
    dist, idx = cKDTree(sites).query(people, k=k)
    order = np.argsort(dist, axis=None, kind="stable")
    room = np.full(len(sites), capacity)
    result = np.full(len(people), -1, dtype=np.int64)
    for flat in order:
        p, j = divmod(int(flat), k)
        s = int(idx[p, j])
        if result[p] < 0 and room[s] > 0:
            result[p] = s
            room[s] -= 1
    for p in np.flatnonzero(result < 0):
        open_sites = np.flatnonzero(room > 0)
        gap = sites[open_sites] - people[p]
        best = open_sites[int(np.argmin(np.hypot(gap[:, 0], gap[:, 1])))]
        result[p] = best
        room[best] -= 1
    return result


def exact_complete(people: Array, sites: Array, capacity: int) -> tuple[float, float, float]:
    """The optimum on the complete graph (every pair an arc): total metres, wall, CPU."""

    def run() -> float:
        n, m = len(people), len(sites)
        tails = np.repeat(np.arange(n, dtype=np.int64), m)
        heads = np.tile(np.arange(m, dtype=np.int64), n)
        cost = np.rint(
            np.hypot(people[tails, 0] - sites[heads, 0], people[tails, 1] - sites[heads, 1])
        ).astype(np.int64)
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            np.concatenate([tails, n + np.arange(m)]),
            np.concatenate([n + heads, np.full(m, n + m)]),
            np.concatenate([np.ones(n * m, dtype=np.int64), np.full(m, capacity)]),
            np.concatenate([cost, np.zeros(m, dtype=np.int64)]),
        )
        del tails, heads, cost
        supplies = np.zeros(n + m + 1, dtype=np.int64)
        supplies[:n], supplies[-1] = 1, -n
        flow.set_nodes_supplies(np.arange(n + m + 1), supplies)
        if flow.solve() != flow.OPTIMAL:
            raise RuntimeError("complete graph: no optimum")
        return float(flow.optimal_cost())

    return timed(run)


def optimum_250(seed: int) -> tuple[Array, Array, NDArray[np.int64]]:
    print("== 6,250 policyholders × 250 employees, at most 25 each (synthetic 수도권)")
    area = CapitalArea(seed)
    people, sites = area.homes(6_250), area.homes(250)
    solution, wall, cpu = timed(lambda: solve(people, sites, [25] * 250))
    best = solution.total_m
    print(
        f"optimum (certified): {wall:.2f} s wall, {cpu:.2f} s CPU; total {best / 1000:,.1f} km, "
        f"mean {best / 6_250:,.0f} m, longest {solution.distance_m.max():,} m"
    )
    greedy, _, g_cpu = timed(lambda: greedy_nearest(people, sites, 25))
    g_total = total_m(people, sites, greedy)
    print(
        f"greedy (the seed's old way): {g_cpu:.2f} s CPU; total {g_total / 1000:,.1f} km = "
        f"{100 * (g_total / best - 1):+.1f} % over the optimum, longest "
        f"{np.hypot(*(people - sites[greedy]).T).max():,.0f} m"
    )
    return people, sites, solution.site


def demo_homes() -> tuple[Array, Array, NDArray[np.int64]]:
    print("== the demo organisation's own homes (build_demo_plan), 6,248 × 250")
    from bot.demo.seed import CAPACITY, FIXED_HOLDERS, build_demo_plan

    plan = build_demo_plan(today=date(2026, 11, 25))
    fixed = len(FIXED_HOLDERS)
    people = to_plane_array([(h["lat"], h["lon"]) for h in plan.holders[fixed:]])
    sites = to_plane_array([(e["lat"], e["lon"]) for e in plan.employees])
    capacity = np.full(len(sites), CAPACITY)
    capacity[0] -= fixed
    solution, wall, cpu = timed(lambda: solve(people, sites, capacity))
    print(
        f"optimum: {wall:.2f} s wall, {cpu:.2f} s CPU; mean {solution.total_m / len(people):,.0f} m"
    )
    greedy = greedy_nearest(people, sites, CAPACITY)  # capacity as the old seed had it
    g_total = total_m(people, sites, greedy)
    print(
        f"greedy: mean {g_total / len(people):,.0f} m = "
        f"{100 * (g_total / solution.total_m - 1):+.1f} % over the optimum"
    )
    return people, sites, solution.site


def leaving(label: str, people: Array, sites: Array, start: NDArray[np.int64]) -> None:
    print(f"== one employee of {len(sites)} leaves ({label}; the others take up to 26 each)")
    before = total_m(people, sites, start)
    leaver = int(np.bincount(start).argmax())  # any full employee
    capacity = np.full(len(sites), 26)
    capacity[leaver] = 0
    orphans = int((start == leaver).sum())
    runs: dict[str, dict[str, object]] = {"from scratch": {}}
    for km in (1, 2, 5, 10, 1_000):
        note = " (default)" if km * 1000 == DEFAULT_SWITCH_PENALTY_M else ""
        runs[f"stable, penalty {km:,} km{note}"] = {"current": start, "switch_penalty_m": km * 1000}
    for name, options in runs.items():
        solution, _, cpu = timed(lambda o=options: solve(people, sites, capacity, **o))  # type: ignore[arg-type]
        moved = int((solution.site != start).sum())
        added = total_m(people, sites, solution.site) - before
        print(
            f"{name}: {moved:,} of {len(people):,} move ({100 * moved / len(people):.1f} %; the "
            f"leaver had {orphans}), total distance {added / 1000:+,.1f} km; {cpu:.2f} s CPU"
        )


def large(seed: int, block_sites: int) -> None:
    print("== 1,000,000 policyholders × 40,000 employees, at most 25 each (synthetic 수도권)")
    area = CapitalArea(seed)
    people, sites = area.homes(1_000_000), area.homes(40_000)
    before = peak_mb()
    solution, wall, cpu = timed(
        lambda: solve_by_blocks(people, sites, [25] * 40_000, block_sites=block_sites)
    )
    loads = np.bincount(solution.site, minlength=40_000)
    print(
        f"blocks of {block_sites} sites: {wall:.1f} s wall, {cpu:.1f} s CPU; mean "
        f"{solution.total_m / 1e6:,.0f} m; max load {loads.max()}; peak memory {peak_mb():,.0f} MB "
        f"(before this case: {before:,.0f} MB)"
    )

    # A window of the same map at the same density: the 1,000 employees nearest a point and
    # the 25,000 policyholders nearest it. (A random 1-in-40 thinning would be another problem,
    # forty times sparser.)
    rng = np.random.default_rng(seed)
    centre = people[rng.integers(len(people))]
    _, site_idx = cKDTree(sites).query(centre, k=1_000)
    _, people_idx = cKDTree(people).query(centre, k=25_000)
    w_people, w_sites = people[people_idx], sites[site_idx]
    window, _, w_cpu = timed(
        lambda: solve_by_blocks(w_people, w_sites, [25] * 1_000, block_sites=block_sites)
    )
    exact, _, e_cpu = exact_complete(w_people, w_sites, 25)
    print(
        f"window 25,000 × 1,000: blocks {window.total_m / 25_000:,.1f} m mean ({w_cpu:.1f} s CPU), "
        f"exact (complete graph, 25 M arcs) {exact / 25_000:,.1f} m ({e_cpu:.1f} s CPU); "
        f"gap {100 * (window.total_m / exact - 1):.2f} %"
    )


def compare(seed: int) -> None:
    """The same 6,250 × 250 optimum with the libraries that could solve it."""
    from scipy.optimize import linear_sum_assignment, linprog
    from scipy.sparse import coo_array

    print("== solver libraries on 6,250 × 250 (complete graph)")
    area = CapitalArea(seed)
    people, sites = area.homes(6_250), area.homes(250)
    cost = np.rint(np.hypot(*(people[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)))
    n, m = cost.shape
    _, wall, cpu = exact_complete(people, sites, 25)
    print(f"OR-Tools SimpleMinCostFlow: {wall:.2f} s wall, {cpu:.2f} s CPU")

    def hungarian() -> float:
        slots = np.repeat(np.arange(m), 25)
        rows, cols = linear_sum_assignment(cost[:, slots])
        return float(cost[rows, slots[cols]].sum())

    _, wall, cpu = timed(hungarian)
    print(
        f"scipy linear_sum_assignment (each employee as 25 slots): {wall:.2f} s wall, {cpu:.2f} s CPU"
    )

    def highs() -> float:
        rows = np.repeat(np.arange(n), m)
        cols = np.arange(n * m)
        a_eq = coo_array((np.ones(n * m), (rows, cols)), shape=(n, n * m))
        a_ub = coo_array((np.ones(n * m), (np.tile(np.arange(m), n), cols)), shape=(m, n * m))
        result = linprog(
            cost.reshape(-1),
            A_ub=a_ub,
            b_ub=np.full(m, 25),
            A_eq=a_eq,
            b_eq=np.ones(n),
            bounds=(0, 1),
            method="highs",
        )
        return float(result.fun)

    _, wall, cpu = timed(highs)
    print(f"scipy linprog / HiGHS (transportation LP): {wall:.2f} s wall, {cpu:.2f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--block-sites", type=int, default=DEFAULT_BLOCK_SITES)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    people, sites, start = optimum_250(args.seed)
    leaving("synthetic 수도권", people, sites, start)
    leaving("the demo's homes", *demo_homes())
    if args.compare:
        compare(args.seed)
    if not args.skip_large:
        large(args.seed, args.block_sites)


if __name__ == "__main__":
    main()
