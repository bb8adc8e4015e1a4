"""All rule-based value entities of a message, as Rasa-style entity dicts.

Shared by the Rasa extractor component and the evaluation script, so both see the same values.
Standard library only.
"""

from datetime import datetime
from typing import Any

from nlu.dates import find_dates, parse_date
from nlu.money import find_amounts, parse_amount
from nlu.relations import find_relations, relation_code

RULE_ENTITIES = frozenset({"amount", "date", "relation"})


def extract_values(text: str, now: datetime) -> list[dict[str, Any]]:
    """``amount`` / ``date`` / ``relation`` entities with normalised values, in text order.

    A date wins over an amount on the same characters. The speaker (``self``) is dropped when a
    family member is also named: in 제가 아버지 장례를 치러요 the event is the father's.
    """
    dates = find_dates(text, now)
    amounts = [
        s for s in find_amounts(text) if not any(s.start < d.end and d.start < s.end for d in dates)
    ]
    relations = find_relations(text)
    if any(s.value != "self" for s in relations):
        relations = [s for s in relations if s.value != "self"]
    found: list[dict[str, Any]] = [
        *(
            {"entity": "date", "start": s.start, "end": s.end, "value": s.value.isoformat()}
            for s in dates
        ),
        *({"entity": "amount", "start": s.start, "end": s.end, "value": s.value} for s in amounts),
        *(
            {"entity": "relation", "start": s.start, "end": s.end, "value": s.value}
            for s in relations
        ),
    ]
    return sorted(found, key=lambda e: (e["start"], e["end"]))


def normalise(entity: str, text: str, now: datetime) -> int | str | None:
    """The normalised value of ``text`` taken as an ``entity`` of that type, if it has one."""
    if entity == "amount":
        return parse_amount(text)
    if entity == "date":
        found = parse_date(text, now)
        return found.isoformat() if found else None
    if entity == "relation":
        return relation_code(text)
    return None
