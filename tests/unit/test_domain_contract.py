"""domain.yml and the code agree: every intent has training data, every action is served, every
form slot is declared, asked for and validated where the validator says so.

Rasa's own `rasa data validate` checks the domain against the stories and rules; it cannot see
the app's action server, which is where a renamed action or a forgotten validator would hide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.actions.sdk import FormValidator
from bot.actions.server import ACTIONS

ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


DOMAIN = _load(ROOT / "domain.yml")
TRAINING = [_load(path) for path in sorted((ROOT / "data").rglob("*.yml"))]


def _custom_actions() -> set[str]:
    return {name for name in DOMAIN["actions"] if not name.startswith("utter_")}


def _intents_with_examples() -> set[str]:
    return {item["intent"] for data in TRAINING for item in data.get("nlu", []) if "intent" in item}


def test_every_intent_has_training_examples() -> None:
    missing = set(DOMAIN["intents"]) - _intents_with_examples()
    assert not missing, f"intents without NLU examples in data/: {sorted(missing)}"


def test_every_custom_action_is_served_and_nothing_else() -> None:
    assert _custom_actions() == set(ACTIONS), (
        f"declared only: {sorted(_custom_actions() - set(ACTIONS))}; "
        f"served only: {sorted(set(ACTIONS) - _custom_actions())}"
    )


@pytest.mark.parametrize("form", sorted(DOMAIN["forms"]))
def test_form_slots_are_declared_asked_and_validated(form: str) -> None:
    required = DOMAIN["forms"][form]["required_slots"]
    undeclared = [slot for slot in required if slot not in DOMAIN["slots"]]
    assert not undeclared, f"{form} requires undeclared slots {undeclared}"

    # A slot the form asks for needs a question: an action_ask_ action or an utter_ask_ response.
    # A slot filled only from the intent that opened the form (booking_kind) is never asked.
    askable = {
        a.removeprefix("action_ask_") for a in DOMAIN["actions"] if a.startswith("action_ask_")
    }
    askable |= {
        r.removeprefix("utter_ask_") for r in DOMAIN["responses"] if r.startswith("utter_ask_")
    }
    for slot in required:
        mappings = DOMAIN["slots"][slot]["mappings"]
        from_intent_only = all(mapping["type"] == "from_intent" for mapping in mappings)
        assert slot in askable or from_intent_only, f"{form}: nothing asks for {slot}"

    validator = ACTIONS.get(f"validate_{form}")
    assert isinstance(validator, FormValidator), f"no validate_{form} action"
    methods = {
        name.removeprefix("validate_") for name in dir(validator) if name.startswith("validate_")
    }
    assert methods <= set(required), (
        f"validate_{form} checks slots the form never fills: {sorted(methods - set(required))}"
    )
