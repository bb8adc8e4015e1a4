"""The assignment at national scale (a million people, tens of thousands of sites), by blocks.

One min-cost flow over a million people is too slow (OR-Tools' cost scaling grows faster than
linearly: about two minutes of CPU for 1,000,000 × 40,000), while blocks of a few thousand people
solve in a fraction of a second each. Cutting a full map into blocks loses where a crowded
district must push people outwards across many blocks, so the blocks are steered by prices:

1. A coarse flow: people grouped in cells of at most 32 neighbours, each cell a supply at its
   centre, arcs to its 12 nearest sites; whoever it still sends through its hub (a crowded
   district that saw too few sites) is paired exactly with the places the hub handed out. Its
   optimum gives a first, feasible assignment (each cell shares its places out among its
   people, nearest first) and, by shortest paths over its residual, a price per site: how much
   farther its people could have gone, the large-scale shape of the optimum.
2. Sites are cut into blocks of about ``block_sites`` by recursive median splits (a k-d tree);
   everyone is solved in the block of the site the coarse flow gave them.
3. Each block is solved by ``assignment_solver.solve`` on a sparse graph: each person's current
   pair (so it is feasible at once) and their cheapest sites at distance + price (the costs
   themselves stay plain distances).
4. Later passes cut the sites along turned axes and re-solve each block with the people its
   sites already have, which can only improve the borders.

Should the coarse flow fail, people start in the block of their cheapest site and a small flow
over the blocks moves the surplus across borders (``_balance``).

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
BLOCK_NEIGHBOURS = 8  # without a feasible start (``_balance``): widening rounds add more
LATER_NEIGHBOURS = 16  # with one, the graph is feasible at once and looks a little wider
BLOCK_REACH = 2.0
_CELL_PEOPLE = 32  # people per cell of the coarse flow that prices the sites
_CELL_SITES = 12  # nearest sites of a cell in the coarse flow
_SITE_CELLS = 3  # nearest cells of a site in the coarse flow
# Solves of the coarse flow, widening where the hub was needed, before the hub's residue is
# paired exactly. Measured at 1,000,000 × 40,000 (bench/assign.py): 1 solve 66 s CPU, mean 402 m;
# 4 solves 100 s CPU, mean 410 m. Pairing the residue exactly does as well as widening.
_COARSE_SOLVES = 1


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
    price, start = _coarse_prices(people_xy, sites_xy, cap, open_sites)
    if start is not None:  # the coarse flow's assignment is feasible: blocks start from it
        site = _solve_blocks(
            people_xy, sites_xy, cap, block, block[start], current, switch_penalty_m, start, price
        )
    else:
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
) -> tuple[FloatArray, IntArray | None]:
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
    site_tree, cell_tree = cKDTree(sites_xy[open_sites]), cKDTree(centre)

    def near_sites(of: IntArray, k: int) -> tuple[IntArray, IntArray]:
        k = min(k, len(open_sites))
        _, idx = site_tree.query(centre[of], k=k)
        return np.repeat(of, k), open_sites[np.asarray(idx).reshape(-1)]

    def near_cells(of: IntArray, k: int) -> tuple[IntArray, IntArray]:
        k = min(k, nc)
        _, idx = cell_tree.query(sites_xy[of], k=k)
        return np.asarray(idx).reshape(-1), np.repeat(of, k)

    found = [near_sites(np.arange(nc), _CELL_SITES), near_cells(open_sites, _SITE_CELLS)]
    key = np.zeros(0, dtype=np.int64)
    hub, sink = nc + m, nc + m + 1
    big = int(10 * np.hypot(*np.ptp(np.vstack([people_xy, sites_xy]), axis=0))) + 1
    all_cells, all_sites = np.arange(nc, dtype=np.int64), np.arange(m, dtype=np.int64)
    for widening in range(_COARSE_SOLVES):
        key = np.unique(np.concatenate([key, *(c * m + t for c, t in found)]))
        cells, sites = np.divmod(key, m)
        gap = centre[cells] - sites_xy[sites]
        cost = np.rint(np.hypot(gap[:, 0], gap[:, 1])).astype(np.int64)
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
            return np.zeros(m), None
        flows = flow.flows(arcs)
        hub_cells = np.flatnonzero(flows[len(key) : len(key) + nc])
        if not len(hub_cells):
            break
        # A crowded district saw too few sites: widen it, as assignment_solver does.
        hub_sites = np.flatnonzero(flows[len(key) + nc : len(key) + nc + m])
        grow = 4 ** (widening + 1)
        found = [
            near_sites(hub_cells, _CELL_SITES * grow),
            near_cells(hub_sites, _SITE_CELLS * grow),
        ]
    start = _start_from_cells(people_xy, sites_xy, cell, cells, sites, flows, nc)
    used = flows[: len(key)] > 0
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
        price = -_shortest_from_all(
            m, np.concatenate(tails), np.concatenate(heads), np.concatenate(weights)
        ).astype(np.float64)
    except SolverError:  # the hub made the coarse flow's residual inconsistent: no prices
        price = np.zeros(m)
    return price, start


def _start_from_cells(
    people_xy: FloatArray,
    sites_xy: FloatArray,
    cell: IntArray,
    cells: IntArray,
    sites: IntArray,
    flows: IntArray,
    nc: int,
) -> IntArray:
    """A first feasible assignment from the coarse flow: each cell's people share out the
    places its flow took, nearest first. Every site ends within its capacity."""
    m = len(sites_xy)
    pairs = len(cells)
    start = np.full(len(people_xy), -1, dtype=np.int64)
    members = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[members], np.arange(nc + 1))
    taken = np.flatnonzero(flows[:pairs])
    per_cell = np.bincount(cells[taken], minlength=nc)
    single = taken[per_cell[cells[taken]] == 1]
    whole = per_cell[cells[single]] == 1
    for arc in single[whole]:  # most cells go to one site whole: no choice to make
        c = cells[arc]
        start[members[bounds[c] : bounds[c] + flows[arc]]] = sites[arc]
    # Pairs are sorted by cell, so each cell's arcs are one run of ``taken``.
    runs = np.searchsorted(cells[taken], np.arange(nc + 1))
    for c in np.flatnonzero(per_cell > 1):
        people = members[bounds[c] : bounds[c + 1]]
        for arc in taken[runs[c] : runs[c + 1]]:
            free = people[start[people] < 0]
            gap = people_xy[free] - sites_xy[sites[arc]]
            nearest = np.argsort(np.hypot(gap[:, 0], gap[:, 1]), kind="stable")[: flows[arc]]
            start[free[nearest]] = sites[arc]
    # Whoever still went through the hub takes the places it handed out, paired exactly.
    hub_places = flows[pairs + nc : pairs + nc + m]
    left = np.flatnonzero(start < 0)
    if len(left):
        places = np.flatnonzero(hub_places)
        paired = solve(people_xy[left], sites_xy[places], hub_places[places], certify=False)
        start[left] = places[paired.site]
    return start


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
