"""The optimal capacitated assignment: each person to one site, no site over its capacity,
least total distance — a min-cost flow on a sparse graph of near pairs.

Graph: person → site arcs (capacity 1, cost = metres) for each person's ``neighbours`` nearest
sites and each site's nearest ``reach × capacity`` people (so a site in a thinly peopled place
still has candidates), site → sink arcs with the site's capacity. The far pairs left out are
never worth taking in practice: an optimal solution of the sparse graph is within a fraction of a
percent of the full one (``bench/assign.py`` measures it against the exact, complete graph).

Feasibility guard: the sparse graph can be infeasible although the total capacity suffices (a
crowded district whose sites are all full and whose people know no site further out). Every
person therefore also has an arc to a hub that reaches every site, at a cost no real chain of
moves comes near; a person routed through the hub gets more neighbours (and the sites it reached
more people), and the flow is solved again, until nobody needs the hub.

Stability: with ``current`` (each person's site now, -1 for none) every arc but the current one
costs ``switch_penalty_m`` more, so a pair is kept unless moving it saves more than the penalty;
people without a current site (a departed employee's) pay no penalty and land where they cost
the fewest other moves.

OR-Tools' ``SimpleMinCostFlow`` (cost-scaling push-relabel, C++) solves it; scipy's k-d tree
finds the near pairs. Costs are whole metres (the solver needs integers).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow
from scipy.spatial import cKDTree

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

DEFAULT_NEIGHBOURS = 12
# Up to this many pairs the complete graph is solved directly: one flow, exact by construction
# (6,250 × 250 is 1.6 million pairs, about a second); beyond it, the sparse graph and pricing.
COMPLETE_GRAPH_PAIRS = 2_000_000
DEFAULT_REACH = 2.0
_MAX_ROUNDS = 40
_HUB_SITES_PER_PERSON = 8


class CapacityError(ValueError):
    """The sites together cannot take everyone; ``minimum_capacity`` would (same for all)."""

    def __init__(self, *, people: int, total_capacity: int, sites: int) -> None:
        self.people = people
        self.total_capacity = total_capacity
        self.sites = sites
        self.minimum_capacity = math.ceil(people / sites) if sites else 0
        super().__init__(f"total capacity {total_capacity} is below the {people} people to place")


class SolverError(RuntimeError):
    """OR-Tools did not find an optimal flow (it should not happen on a feasible graph)."""


@dataclass(frozen=True, slots=True)
class Solution:
    """Site index and distance (whole metres) per person, and how the solve went."""

    site: IntArray
    distance_m: IntArray
    arcs: int  # person → site arcs in the last graph solved
    rounds: int  # solves: 1 when the first sparse graph was feasible
    seconds: float

    @property
    def total_m(self) -> int:
        return int(self.distance_m.sum())


def solve(
    people_xy: FloatArray,
    sites_xy: FloatArray,
    capacity: IntArray | list[int],
    *,
    current: IntArray | None = None,
    switch_penalty_m: int = 0,
    neighbours: int = DEFAULT_NEIGHBOURS,
    reach: float = DEFAULT_REACH,
    certify: bool = True,
    complete_up_to: int = COMPLETE_GRAPH_PAIRS,
    guide: FloatArray | None = None,
    include: IntArray | None = None,
) -> Solution:
    """Assign every person (plane metres, shape (n, 2)) to a site with room, least total distance.

    ``include`` (a site per person, -1 for none) puts those pairs in the graph, without the
    penalty ``current`` brings: a feasible start makes the sparse graph feasible at once.
    With ``certify`` (the default) the result is the optimum of the complete problem, proved by
    the site prices; without, the optimum of the sparse graph (``assignment_blocks`` uses that
    for its many small blocks). Raises ``CapacityError`` when the capacities add up to fewer
    places than people.
    """
    started = time.perf_counter()
    people_xy = np.asarray(people_xy, dtype=np.float64).reshape(-1, 2)
    sites_xy = np.asarray(sites_xy, dtype=np.float64).reshape(-1, 2)
    cap = np.asarray(capacity, dtype=np.int64)
    n, m = len(people_xy), len(sites_xy)
    if cap.shape != (m,) or (cap < 0).any():
        raise ValueError("capacity needs one non-negative value per site")
    if int(cap.sum()) < n:
        raise CapacityError(people=n, total_capacity=int(cap.sum()), sites=m)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Solution(empty, empty, 0, 0, time.perf_counter() - started)
    if current is not None:
        current = np.asarray(current, dtype=np.int64)
        if current.shape != (n,) or (current >= m).any():
            raise ValueError("current needs one site index (or -1) per person")

    graph = _Graph(people_xy, sites_xy, cap, current, switch_penalty_m, guide)
    open_sites = np.flatnonzero(cap > 0)
    if certify and n * len(open_sites) <= complete_up_to:
        neighbours = len(open_sites)
    complete = neighbours >= len(open_sites)
    graph.add_nearest_sites(np.arange(n), neighbours, open_sites)
    if not complete:
        graph.add_nearest_people(open_sites, np.ceil(cap[open_sites] * reach).astype(np.int64))
    for given in (current, include):  # a feasible assignment in the graph: no hub round
        if given is not None:
            kept = np.flatnonzero(given >= 0)
            graph.add_pairs(kept, given[kept])

    widenings = 0
    for round_no in range(1, _MAX_ROUNDS + 1):
        site, hub_people, hub_sites = graph.solve()
        if len(hub_people):
            # Widen the graph where it was too narrow: more sites for the people who found
            # none, more people for the sites that took them, and a few direct candidates.
            widenings += 1
            grow = 4**widenings
            graph.add_nearest_sites(hub_people, neighbours * grow, open_sites)
            graph.add_nearest_people(
                hub_sites, np.ceil(cap[hub_sites] * reach * grow).astype(np.int64)
            )
            graph.add_nearest_sites(hub_people, _HUB_SITES_PER_PERSON, hub_sites)
            continue
        if certify and not complete:
            better_people, better_sites = graph.price(site)
        else:
            better_people, better_sites = site[:0], site[:0]
        if not len(better_people):
            return Solution(
                site=site,
                distance_m=graph.distance(np.arange(n), site),
                arcs=graph.size,
                rounds=round_no,
                seconds=time.perf_counter() - started,
            )
        graph.add_pairs(better_people, better_sites)
    raise SolverError("no certified optimum after widening the graph repeatedly")


class _Graph:
    """The person → site pairs collected so far, and the flow network built from them."""

    def __init__(
        self,
        people_xy: FloatArray,
        sites_xy: FloatArray,
        cap: IntArray,
        current: IntArray | None,
        penalty: int,
        guide: FloatArray | None = None,
    ) -> None:
        self.guide = guide
        self.people_xy = people_xy
        self.sites_xy = sites_xy
        self.cap = cap
        self.current = current
        self.penalty = int(penalty)
        self.n, self.m = len(people_xy), len(sites_xy)
        self._site_tree = cKDTree(sites_xy)
        self._people_tree: cKDTree | None = None
        self._keys: list[IntArray] = []
        self._pairs: IntArray = np.zeros(0, dtype=np.int64)  # sorted unique p * m + s
        diagonal = float(np.hypot(*(np.ptp(np.vstack([people_xy, sites_xy]), axis=0))))
        # Dearer than any realistic chain of moves, small enough that the solver's internal
        # cost scaling (cost × nodes) stays far from int64 overflow.
        self.hub_cost = int(10 * (diagonal + self.penalty)) + 1

    @property
    def size(self) -> int:
        return len(self._merged())

    def add_pairs(self, people: IntArray, sites: IntArray) -> None:
        self._keys.append(people.astype(np.int64) * self.m + sites.astype(np.int64))

    def add_nearest_sites(self, people: IntArray, k: int, among: IntArray) -> None:
        """Arcs from each of ``people`` to its ``k`` nearest sites of ``among``."""
        k = min(int(k), len(among))
        if k == 0 or not len(people):
            return
        tree = self._site_tree if len(among) == self.m else cKDTree(self.sites_xy[among])
        wide = k if self.guide is None else min(len(among), 3 * k)
        dist, idx = tree.query(self.people_xy[people], k=wide)
        idx = np.asarray(idx).reshape(len(people), wide)
        sites = idx if len(among) == self.m else among[idx]
        if self.guide is not None and wide > k:
            # Site prices known in advance (assignment_blocks): the k cheapest at distance +
            # price, not the k nearest, are the ones an optimum is likely to use.
            adjusted = np.asarray(dist).reshape(len(people), wide) + self.guide[sites]
            sites = np.take_along_axis(sites, np.argsort(adjusted, axis=1)[:, :k], axis=1)
        self.add_pairs(np.repeat(people, k), sites.reshape(-1))

    def add_nearest_people(self, sites: IntArray, counts: IntArray) -> None:
        """Arcs to each of ``sites`` from its ``counts[i]`` nearest people."""
        if not len(sites):
            return
        if self._people_tree is None:
            self._people_tree = cKDTree(self.people_xy)
        k = int(min(counts.max(), self.n))
        _, idx = self._people_tree.query(self.sites_xy[sites], k=k)
        idx = np.asarray(idx).reshape(len(sites), k)
        wanted = np.arange(k)[None, :] < counts[:, None]
        self.add_pairs(idx[wanted], np.broadcast_to(sites[:, None], idx.shape)[wanted])

    def _merged(self) -> IntArray:
        if self._keys:
            keys = np.sort(np.concatenate([self._pairs, *self._keys]))
            self._pairs = keys[np.r_[True, keys[1:] != keys[:-1]]]
            self._keys = []
        return self._pairs

    def distance(self, people: IntArray, sites: IntArray) -> IntArray:
        delta = self.people_xy[people] - self.sites_xy[sites]
        return np.rint(np.hypot(delta[:, 0], delta[:, 1])).astype(np.int64)

    def cost(self, people: IntArray, sites: IntArray) -> IntArray:
        """Arc cost: whole metres, plus the switching penalty off the current pair."""
        cost = self.distance(people, sites)
        if self.current is not None and self.penalty:
            cost += self.penalty * (sites != self.current[people])
        return cost

    def price(self, site: IntArray) -> tuple[IntArray, IntArray]:
        """Pairs outside the graph that would lower the cost of the graph's optimum ``site``.

        Linear-programming duality: site prices w ≥ 0 (zero where a site has room) such that
        every person's own site is their cheapest in the graph at cost + price come from
        shortest paths on the sites (Bellman-Ford; edge s → t costs moving one of s's people to
        t). A pair anywhere is worth adding only if its cost + price undercuts the person's;
        none means the graph's optimum is the optimum of the complete problem.
        """
        n, m = self.n, self.m
        everyone = np.arange(n)
        own = self.cost(everyone, site)
        pairs = self._merged()
        people, sites = np.divmod(pairs, m)
        moving = sites != site[people]
        price = -_shortest_from_all(
            m,
            site[people[moving]],
            sites[moving],
            self.cost(people[moving], sites[moving]) - own[people[moving]],
        )
        limit = own + price[site]  # nobody gains from a site at least this far
        found_people, found_sites = [], []
        todo, k = everyone, min(m, 16)
        while len(todo):
            dist, idx = self._site_tree.query(self.people_xy[todo], k=k)
            dist, idx = (
                np.asarray(dist).reshape(len(todo), k),
                np.asarray(idx).reshape(len(todo), k),
            )
            rows = np.repeat(todo, k)
            cheaper = self.cost(rows, idx.reshape(-1)) + price[idx.reshape(-1)] < limit[rows]
            found_people.append(rows[cheaper])
            found_sites.append(idx.reshape(-1)[cheaper])
            if k == m:
                break
            todo = todo[np.rint(dist[:, -1]) < limit[todo]]
            k = min(m, k * 4)
        return np.concatenate(found_people), np.concatenate(found_sites)

    def solve(self) -> tuple[IntArray, IntArray, IntArray]:
        """Site per person (-1 through the hub), the people and the sites the hub connected."""
        pairs = self._merged()
        people, sites = np.divmod(pairs, self.m)
        cost = self.cost(people, sites)
        n, m = self.n, self.m
        hub, sink = n + m, n + m + 1
        all_people = np.arange(n, dtype=np.int64)
        all_sites = np.arange(m, dtype=np.int64)
        tails = np.concatenate([people, all_people, np.full(m, hub), n + all_sites])
        heads = np.concatenate([n + sites, np.full(n, hub), n + all_sites, np.full(m, sink)])
        caps = np.concatenate([np.ones(len(pairs) + n, dtype=np.int64), self.cap, self.cap])
        costs = np.concatenate([cost, np.full(n, self.hub_cost), np.zeros(2 * m, dtype=np.int64)])
        flow = min_cost_flow.SimpleMinCostFlow()
        arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        supplies = np.zeros(n + m + 2, dtype=np.int64)
        supplies[:n] = 1
        supplies[sink] = -n
        flow.set_nodes_supplies(np.arange(n + m + 2), supplies)
        status = flow.solve()
        if status != flow.OPTIMAL:
            raise SolverError(f"min-cost flow ended with status {status}")
        flows = flow.flows(arcs)
        used = flows[: len(pairs)] > 0
        site = np.full(n, -1, dtype=np.int64)
        site[people[used]] = sites[used]
        hub_people = np.flatnonzero(flows[len(pairs) : len(pairs) + n] > 0)
        hub_sites = np.flatnonzero(flows[len(pairs) + n : len(pairs) + n + m] > 0)
        return site, hub_people, hub_sites


def _shortest_from_all(nodes: int, tails: IntArray, heads: IntArray, weights: IntArray) -> IntArray:
    """Bellman-Ford distances from a source joined to every node at 0 (so all are ≤ 0).

    Vectorised: each pass relaxes every edge at once; parallel edges keep their cheapest.
    """
    dist = np.zeros(nodes, dtype=np.int64)
    if not len(tails):
        return dist
    key = tails * nodes + heads
    order = np.argsort(key, kind="stable")
    key, weights = key[order], weights[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    weights = np.minimum.reduceat(weights, starts)
    tails, heads = np.divmod(key[starts], nodes)
    for _ in range(nodes + 1):
        relaxed = dist.copy()
        np.minimum.at(relaxed, heads, dist[tails] + weights)
        if (relaxed == dist).all():
            return dist
        dist = relaxed
    raise SolverError("negative cycle among sites: the flow was not optimal")
