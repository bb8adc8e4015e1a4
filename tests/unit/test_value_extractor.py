"""``KoreanValueExtractor`` in Rasa's own Message type: rule values win over DIET's entities.

Runs in the Rasa virtualenv (the component imports Rasa); DIET's output is given, so the test
says exactly which learned entities survive next to the rule-based ones.
"""

import json

from tests.auxil.rasa_python import run_with_model

SCRIPT = """
import json, os, sys
os.environ["MILCHAK_NOW"] = "2026-11-25T10:00:00+09:00"
from rasa.shared.nlu.training_data.message import Message
from nlu.components.value_extractor import KoreanValueExtractor
cases = json.loads(sys.stdin.read())
messages = [Message(data={"text": c["text"], "entities": c["diet"]}) for c in cases]
KoreanValueExtractor().process(messages)
print(json.dumps([
    [(e["entity"], e["start"], e["end"], e.get("value")) for e in m.get("entities")]
    for m in messages
], ensure_ascii=False))
"""


def _diet(entity: str, start: int, end: int, value: str) -> dict[str, object]:
    return {"entity": entity, "start": start, "end": end, "value": value, "extractor": "DIET"}


def test_rule_values_win_over_learned_entities() -> None:
    cases = [
        # DIET learned policy numbers (KL-1994-000123) and reads an ISO date as one.
        {"text": "2026-12-18", "diet": [_diet("product", 0, 10, "2026-12-18")]},
        {"text": "3백만원이요", "diet": [_diet("product", 0, 4, "3백만원")]},
        # A place or product beside a value, not on it, stays.
        {
            "text": "무배당암보험으로 3백만원",
            "diet": [_diet("product", 0, 6, "무배당암보험")],
        },
        {
            "text": "부평구 산곡동으로 12월 3일",
            "diet": [_diet("place", 0, 7, "부평구 산곡동")],
        },
        # A relation word inside a product name does not remove the product.
        {"text": "자녀보험이요", "diet": [_diet("product", 0, 4, "자녀보험")]},
    ]
    got = run_with_model(SCRIPT, json.dumps(cases, ensure_ascii=False))
    assert [[tuple(e) for e in row] for row in got] == [
        [("date", 0, 10, "2026-12-18")],
        [("amount", 0, 4, 3_000_000)],
        [("product", 0, 6, "무배당암보험"), ("amount", 9, 13, 3_000_000)],
        [("place", 0, 7, "부평구 산곡동"), ("date", 10, 16, "2026-12-03")],
        [("product", 0, 4, "자녀보험")],
    ]
