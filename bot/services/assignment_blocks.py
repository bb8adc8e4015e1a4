"""The assignment at national scale (a million people, tens of thousands of sites), by blocks.

One min-cost flow over a million people is too slow (OR-Tools' cost scaling grows faster than
linearly: about two minutes of CPU for 1,000,000 × 40,000), while blocks of a few thousand people
solve in a fraction of a second each. Cutting a full map into blocks loses where a crowded
district must push people outwards across many blocks, so the blocks are steered by prices:

1. A coarse flow: people grouped in cells of at most 32 neighbours, each cell a supply at its
   centre. Shortest paths over its residual give every site a price (metres): how much farther
   its people could have gone, the large-scale shape of the optimum.
2. Sites are cut into blocks of about ``block_sites`` by recursive median splits (a k-d tree).
   Each person starts in the block of their cheapest site at distance + price; blocks with more
   people than places pass people on through a small flow over the blocks (each person offered
   once, to their cheapest block outside, at the extra cost), with a hub keeping it feasible.
3. Each block is solved by ``assignment_solver.solve`` on a sparse graph whose arcs are each
   person's cheapest sites at distance + price (the costs themselves stay plain distances).
4. Later passes cut the sites along turned axes and re-solve each block with the people its
   sites already have, which can only improve the borders.

``bench/assign.py`` measures the loss against the exact optimum on a 25,000 × 1,000 window.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.spatial import cKDTree

from bot.services.assignment_solver import (
    CapacityError,
    FloatArray,
    IntArray,
    Solution,
    SolverError,
    _shortest_from_all,
    solve,
)

DEFAULT_BLOCK_SITES = 512
_CANDIDATES = 8  # nearest sites looked at for a person's way out of their block
_BUCKET_M = 10  # crossing costs are grouped by 10 m: one arc per (from, to, bucket)
BLOCK_NEIGHBOURS = 8
LATER_NEIGHBOURS = 16  # later passes start feasible (no widening), so they look a little wider
BLOCK_REACH = 2.0
_CELL_PEOPLE = 32  # people per cell of the coarse flow that prices the sites
_CELL_SITES = 12  # nearest sites of a cell in the coarse flow


def solve_by_blocks(
    people_xy: FloatArray,
    sites_xy: FloatArray,
    capacity: IntArray | list[int],
    *,
    block_sites: int = DEFAULT_BLOCK_SITES,
    passes: int = 2,
    current: IntArray | None = None,
    switch_penalty_m: int = 0,
) -> Solution:
    """Near-optimal assignment for very large inputs; same contract as ``solve``."""
    started = time.perf_counter()
    people_xy = np.asarray(people_xy, dtype=np.float64).reshape(-1, 2)
    sites_xy = np.asarray(sites_xy, dtype=np.float64).reshape(-1, 2)
    cap = np.asarray(capacity, dtype=np.int64)
    n, m = len(people_xy), len(sites_xy)
    if int(cap.sum()) < n:
        raise CapacityError(people=n, total_capacity=int(cap.sum()), sites=m)
    current = None if current is None else np.asarray(current, dtype=np.int64)
    if n == 0:
        return solve(people_xy, sites_xy, cap)

    open_sites = np.flatnonzero(cap > 0)
    block = np.full(m, -1, dtype=np.int64)
    block[open_sites] = _kd_blocks(sites_xy[open_sites], block_sites, angle=0.0)
    price = _coarse_prices(people_xy, sites_xy, cap, open_sites)
    destination = _balance(people_xy, sites_xy, cap, open_sites, block, price)
    site = _solve_blocks(
        people_xy, sites_xy, cap, block, destination, current, switch_penalty_m, price=price
    )

    # Later passes along other borders: each new block keeps exactly the people its sites had.
    for number in range(1, passes):
        block = np.full(m, -1, dtype=np.int64)
        angle = (np.pi / 4, np.pi / 8, 3 * np.pi / 8)[(number - 1) % 3]
        block[open_sites] = _kd_blocks(sites_xy[open_sites], block_sites, angle=angle)
        site = _solve_blocks(
            people_xy, sites_xy, cap, block, block[site], current, switch_penalty_m, site, price
        )

    delta = people_xy - sites_xy[site]
    return Solution(
        site=site,
        distance_m=np.rint(np.hypot(delta[:, 0], delta[:, 1])).astype(np.int64),
        arcs=0,
        rounds=passes,
        seconds=time.perf_counter() - started,
    )


def _kd_blocks(xy: FloatArray, size: int, *, angle: float) -> IntArray:
    """Block number per point: median splits along the longer side until ``size`` or fewer.

    The axes are turned by ``angle`` so that each pass's borders cross the previous ones.
    """
    if angle:
        c, s = np.cos(angle), np.sin(angle)
        xy = np.column_stack([c * xy[:, 0] + s * xy[:, 1], c * xy[:, 1] - s * xy[:, 0]])
    out = np.zeros(len(xy), dtype=np.int64)
    stack = [np.arange(len(xy))]
    next_block = 0
    while stack:
        members = stack.pop()
        if len(members) <= size:
            out[members] = next_block
            next_block += 1
            continue
        points = xy[members]
        axis = int(np.argmax(np.ptp(points, axis=0)))
        order = np.argsort(points[:, axis], kind="stable")
        half = len(members) // 2
        stack.append(members[order[:half]])
        stack.append(members[order[half:]])
    return out


def _balance(
    people_xy: FloatArray,
    sites_xy: FloatArray,
    cap: IntArray,
    open_sites: IntArray,
    block: IntArray,
    price: FloatArray,
) -> IntArray:
    """Block each person is solved in: that of their cheapest site at distance + price, unless
    the block flow moves them."""
    n = len(people_xy)
    k = min(_CANDIDATES, len(open_sites))
    dist, idx = cKDTree(sites_xy[open_sites]).query(people_xy, k=k)
    idx = open_sites[np.asarray(idx).reshape(n, k)]
    dist = np.asarray(dist).reshape(n, k) + price[idx]
    order = np.argsort(dist, axis=1, kind="stable")
    dist = np.take_along_axis(dist, order, axis=1)
    blocks = block[np.take_along_axis(idx, order, axis=1)]
    home = blocks[:, 0]
    outside = blocks != home[:, None]
    movable = np.flatnonzero(outside.any(axis=1))
    column = outside[movable].argmax(axis=1)
    to_block = blocks[movable, column]
    extra = np.rint(dist[movable, column] - dist[movable, 0]).astype(np.int64)

    nb = int(block.max()) + 1
    people = np.bincount(home, minlength=nb)
    places = np.bincount(block[open_sites], weights=cap[open_sites], minlength=nb).astype(np.int64)
    if (people <= places).all():
        return home

    # One arc per (home, to, 10 m bucket), its capacity the people in it.
    bucket = extra // _BUCKET_M
    key = (home[movable] * nb + to_block) * (int(bucket.max()) + 1) + bucket
    order = np.argsort(key, kind="stable")
    movable, key, to_block, bucket = movable[order], key[order], to_block[order], bucket[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    counts = np.diff(np.r_[starts, len(key)])
    arc_from = home[movable[starts]]
    arc_to = to_block[starts]
    arc_cost = bucket[starts] * _BUCKET_M + _BUCKET_M // 2

    sink, hub = nb, nb + 1
    big = int(10 * np.hypot(*np.ptp(np.vstack([people_xy, sites_xy]), axis=0))) + 1
    all_blocks = np.arange(nb, dtype=np.int64)
    tails = np.concatenate([arc_from, all_blocks, all_blocks, np.full(nb, hub)])
    heads = np.concatenate([arc_to, np.full(nb, sink), np.full(nb, hub), all_blocks])
    caps = np.concatenate([counts, places, people, places])
    costs = np.concatenate(
        [arc_cost, np.zeros(nb, np.int64), np.full(nb, big), np.zeros(nb, np.int64)]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.concatenate([people, [-n, 0]]).astype(np.int64)
    flow.set_nodes_supplies(np.arange(nb + 2), supplies)
    if flow.solve() != flow.OPTIMAL:
        raise SolverError("the flow between blocks found no optimum")
    flows = flow.flows(arcs)

    destination = home.copy()
    crossing = flows[: len(starts)]
    for arc in np.flatnonzero(crossing):
        chosen = movable[starts[arc] : starts[arc] + crossing[arc]]
        destination[chosen] = arc_to[arc]
    # Rare: a crowded region whose border people were not enough goes through the hub.
    sent = flows[len(starts) + nb : len(starts) + 2 * nb]  # block → hub
    taken = flows[len(starts) + 2 * nb :]  # hub → block
    if sent.any():
        _through_hub(people_xy, sites_xy, open_sites, block, destination, home, sent, taken)
    return destination


def _coarse_prices(
    people_xy: FloatArray, sites_xy: FloatArray, cap: IntArray, open_sites: IntArray
) -> FloatArray:
    """Site prices (metres) from the optimum of a coarse problem: people grouped in cells of at
    most ``_CELL_PEOPLE`` neighbours, each cell a supply at its centre.

    In a full region every site's price says how much farther its people could have gone: the
    global shape of the flow (a crowded district pushing people outwards) that blocks alone
    cannot see. Prices come from shortest paths over the coarse flow's residual, as in
    ``assignment_solver``.
    """
    m = len(sites_xy)
    cell = _kd_blocks(people_xy, _CELL_PEOPLE, angle=0.0)
    nc = int(cell.max()) + 1
    count = np.bincount(cell, minlength=nc)
    centre = np.zeros((nc, 2))
    np.add.at(centre, cell, people_xy)
    centre /= count[:, None]
    k = min(_CELL_SITES, len(open_sites))
    _, idx = cKDTree(sites_xy[open_sites]).query(centre, k=k)
    cells = np.repeat(np.arange(nc), k)
    sites = open_sites[np.asarray(idx).reshape(-1)]
    _, near = cKDTree(centre).query(sites_xy[open_sites], k=min(3, nc))
    cells = np.concatenate([cells, np.asarray(near).reshape(-1)])
    sites = np.concatenate([sites, np.repeat(open_sites, min(3, nc))])
    key = np.unique(cells * m + sites)
    cells, sites = np.divmod(key, m)
    gap = centre[cells] - sites_xy[sites]
    cost = np.rint(np.hypot(gap[:, 0], gap[:, 1])).astype(np.int64)

    hub, sink = nc + m, nc + m + 1
    big = int(10 * np.hypot(*np.ptp(np.vstack([people_xy, sites_xy]), axis=0))) + 1
    all_cells, all_sites = np.arange(nc, dtype=np.int64), np.arange(m, dtype=np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([cells, all_cells, np.full(m, hub), nc + all_sites]),
        np.concatenate([nc + sites, np.full(nc, hub), nc + all_sites, np.full(m, sink)]),
        np.concatenate([count[cells], count, cap, cap]),
        np.concatenate([cost, np.full(nc, big), np.zeros(2 * m, dtype=np.int64)]),
    )
    supplies = np.zeros(nc + m + 2, dtype=np.int64)
    supplies[:nc], supplies[sink] = count, -len(people_xy)
    flow.set_nodes_supplies(np.arange(nc + m + 2), supplies)
    if flow.solve() != flow.OPTIMAL:
        return np.zeros(m)
    used = flow.flows(arcs)[: len(key)] > 0
    # Edge s → t for every cell using s and able to use t: moving one of its people costs this.
    using = np.flatnonzero(used)
    order = np.argsort(cells, kind="stable")
    bounds = np.searchsorted(cells[order], np.arange(nc + 1))
    tails, heads, weights = [], [], []
    for arc in using:
        c = cells[arc]
        others = order[bounds[c] : bounds[c + 1]]
        tails.append(np.full(len(others), sites[arc]))
        heads.append(sites[others])
        weights.append(cost[others] - cost[arc])
    try:
        return -_shortest_from_all(
            m, np.concatenate(tails), np.concatenate(heads), np.concatenate(weights)
        ).astype(np.float64)
    except SolverError:  # the hub made the coarse flow's residual inconsistent: no prices
        return np.zeros(m)


def _through_hub(
    people_xy: FloatArray,
    sites_xy: FloatArray,
    open_sites: IntArray,
    block: IntArray,
    destination: IntArray,
    home: IntArray,
    sent: IntArray,
    taken: IntArray,
) -> None:
    """Move the hub's flow: senders pair with the nearest receivers (a small transport problem
    between block centres), and each sends the people living nearest the receiver's centre."""
    nb = len(sent)
    centres = np.zeros((nb, 2))
    np.add.at(centres, block[open_sites], sites_xy[open_sites])
    centres /= np.maximum(np.bincount(block[open_sites], minlength=nb), 1)[:, None]
    senders, receivers = np.flatnonzero(sent), np.flatnonzero(taken)
    gap = centres[senders][:, None, :] - centres[receivers][None, :, :]
    cost = np.rint(np.hypot(gap[..., 0], gap[..., 1])).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    tails = np.repeat(np.arange(len(senders)), len(receivers))
    heads = len(senders) + np.tile(np.arange(len(receivers)), len(senders))
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails, heads, np.full(len(tails), int(sent.sum())), cost.reshape(-1)
    )
    supplies = np.concatenate([sent[senders], -taken[receivers]]).astype(np.int64)
    flow.set_nodes_supplies(np.arange(len(supplies)), supplies)
    if flow.solve() != flow.OPTIMAL:
        raise SolverError("the hub's flow between blocks found no optimum")
    for arc in np.flatnonzero(flow.flows(arcs)):
        count = int(flow.flow(int(arcs[arc])))
        sender, receiver = senders[tails[arc]], receivers[heads[arc] - len(senders)]
        candidates = np.flatnonzero((home == sender) & (destination == sender))
        gap_to = people_xy[candidates] - centres[receiver]
        nearest = np.argsort(np.hypot(gap_to[:, 0], gap_to[:, 1]), kind="stable")[:count]
        destination[candidates[nearest]] = receiver


def _solve_blocks(
    people_xy: FloatArray,
    sites_xy: FloatArray,
    cap: IntArray,
    block: IntArray,
    destination: IntArray,
    current: IntArray | None,
    switch_penalty_m: int,
    start: IntArray | None = None,
    price: FloatArray | None = None,
) -> IntArray:
    """Solve each block exactly with the people sent to it; site index per person."""
    site = np.full(len(people_xy), -1, dtype=np.int64) if start is None else start.copy()
    people_order = np.argsort(destination, kind="stable")
    people_bounds = np.searchsorted(destination[people_order], np.arange(block.max() + 2))
    site_order = np.argsort(block, kind="stable")
    site_bounds = np.searchsorted(block[site_order], np.arange(block.max() + 2))
    for b in range(int(block.max()) + 1):
        members = people_order[people_bounds[b] : people_bounds[b + 1]]
        if not len(members):
            continue
        sites = site_order[site_bounds[b] : site_bounds[b + 1]]
        lookup = np.full(len(sites_xy), -1, dtype=np.int64)
        lookup[sites] = np.arange(len(sites))
        local_current = None
        if current is not None:
            local_current = np.where(current[members] >= 0, lookup[current[members]], -1)
        # After the first pass everyone already has a site in their block: keep that pair in
        # the graph, so it is feasible without a widening round.
        local_start = None if start is None else lookup[start[members]]
        solution = solve(
            people_xy[members],
            sites_xy[sites],
            cap[sites],
            current=local_current,
            switch_penalty_m=switch_penalty_m,
            certify=False,
            neighbours=BLOCK_NEIGHBOURS if start is None else LATER_NEIGHBOURS,
            reach=BLOCK_REACH,
            guide=None if price is None else price[sites],
            include=local_start,
        )
        site[members] = sites[solution.site]
    return site
