"""Rasa entity extractor for the values forms need: ``amount`` (won), ``date`` (ISO), ``relation``.

The rules in ``nlu.money``, ``nlu.dates`` and ``nlu.relations`` find these spans and their
normalised values; DIET keeps ``place`` and ``product``. Should DIET also tag one of the three
(it is not trained to, but a model might be), its entity survives only when it does not overlap a
rule-based one and its text normalises; otherwise the rule-based entity wins. A date or an amount
is never a place or a product either: DIET, which learned policy numbers like KL-1994-000123,
reads 2026-12-18 as one, so its entities on a rule-based date or amount are dropped. The other
way round, a kinship word inside a learned place or product (자녀보험) belongs to that name.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.values import RULE_ENTITIES, extract_values, normalise

NOW_ENV = "MILCHAK_NOW"
# Rule-based entities whose characters no learned entity may claim.
_NEVER_LEARNED_ON = frozenset({"amount", "date"})


def reference_now() -> datetime:
    """Now in Seoul, or ``$MILCHAK_NOW`` (an ISO datetime) for reproducible evaluation."""
    from nlu.dates import SEOUL

    fixed = os.environ.get(NOW_ENV)
    if fixed:
        parsed = datetime.fromisoformat(fixed)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=SEOUL)
    return datetime.now(SEOUL)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class KoreanValueExtractor(GraphComponent, EntityExtractorMixin):
    """Adds normalised ``amount``, ``date`` and ``relation`` entities to each message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Nothing to configure."""
        return {}

    @staticmethod
    def supported_languages() -> list[str] | None:
        """Korean only."""
        return ["ko"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KoreanValueExtractor:
        """The extractor has no state."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Add rule-based value entities, dropping DIET's duplicates of them."""
        now = reference_now()
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            found = self.add_extractor_name(extract_values(text, now))
            kept = []
            for entity in message.get(ENTITIES, []):
                learned_value = entity["entity"] in RULE_ENTITIES
                claimed = [f for f in found if learned_value or f["entity"] in _NEVER_LEARNED_ON]
                if any(_overlaps(entity, f) for f in claimed):
                    continue
                if learned_value:
                    value = normalise(entity["entity"], text[entity["start"] : entity["end"]], now)
                    if value is None:
                        continue
                    entity = {**entity, "value": value}
                kept.append(entity)
            # 자녀보험 is a product, not a child: a kinship word inside a learned name is the name.
            names = [e for e in kept if e["entity"] not in RULE_ENTITIES]
            found = [
                f
                for f in found
                if f["entity"] != "relation" or not any(_overlaps(f, n) for n in names)
            ]
            merged = sorted(kept + found, key=lambda e: (e["start"], e["end"]))
            message.set(ENTITIES, merged, add_to_output=True)
        return messages


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a["start"] < b["end"] and b["start"] < a["end"])
