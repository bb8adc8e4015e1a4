"""Which Rasa replica talks to which policyholder: consistent hashing of the sender id.

Rasa's open-source Redis lock store can let two instances handle one conversation at once
(RasaHQ/rasa #9213, #11256), so each sender goes to one fixed replica and the lock is only a
second guard. Consistent hashing keeps that mapping stable when a replica is added or removed:
only the senders of that replica move. Each replica owns many points on the ring (virtual
nodes) so that senders spread evenly.

``preference(sender)`` lists every replica, the sender's own first, then the ones it fails over
to in ring order: while the first is down the second takes its senders, and the same second for
all of them, so a sender's turns still go to one replica at a time.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence

VIRTUAL_NODES = 64


def _point(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


class HashRing:
    """A consistent-hash ring over ``nodes`` (Rasa base URLs)."""

    def __init__(self, nodes: Sequence[str], *, virtual_nodes: int = VIRTUAL_NODES) -> None:
        unique = list(dict.fromkeys(nodes))
        if not unique:
            raise ValueError("a hash ring needs at least one node")
        self.nodes = tuple(unique)
        points = sorted(
            (_point(f"{node}#{index}"), node) for node in unique for index in range(virtual_nodes)
        )
        self._hashes = [point for point, _ in points]
        self._owners = [node for _, node in points]

    def node_for(self, key: str) -> str:
        """The node that owns ``key``."""
        return self.preference(key)[0]

    def preference(self, key: str) -> list[str]:
        """Every node, ``key``'s owner first, then the next distinct nodes clockwise."""
        if len(self.nodes) == 1:
            return [self.nodes[0]]
        start = bisect.bisect(self._hashes, _point(key))
        order: list[str] = []
        for offset in range(len(self._owners)):
            node = self._owners[(start + offset) % len(self._owners)]
            if node not in order:
                order.append(node)
                if len(order) == len(self.nodes):
                    break
        return order
