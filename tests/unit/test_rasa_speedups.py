"""``bot.rasa_speedups`` changes how fast Rasa answers, never what it answers.

Runs in Rasa's own Python: every event type name resolves to the class Rasa's own walk finds,
unknown names behave as in Rasa, stored events load back equal; action answers are accepted and
refused exactly as ``jsonschema.validate`` does.
"""

import json
import subprocess

import pytest

from bot.config import PROJECT_ROOT

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

_CHECK = """
import json
import jsonschema
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import (
    ActionExecuted, ActiveLoop, BotUttered, Event, SessionStarted, SlotSet, UserUttered,
    deserialise_events,
)
from rasa.shared.utils.common import all_subclasses

names = sorted({cls.type_name for cls in all_subclasses(Event)})
stock = {name: Event.resolve_by_type(name) for name in names}
events = [
    SessionStarted(), ActionExecuted("action_listen"),
    UserUttered("대출 받고 싶어요", {"name": "request_loan", "confidence": 0.9}),
    ActiveLoop("loan_form"), SlotSet("requested_slot", "loan_amount"), BotUttered("얼마나요?"),
]
stored = [event.as_dict() for event in events]
stock_loaded = deserialise_events(stored)
schema = RemoteAction.action_response_format_spec()
answers = [{"events": [{"event": "slot", "name": "x", "value": 1}], "responses": []},
           {"events": [{"event": 7}], "responses": []}, {"events": "none"}]

def refusals(validate):
    found = []
    for answer in answers:
        try:
            validate(answer)
            found.append(None)
        except jsonschema.ValidationError as error:
            found.append(error.message.split(".")[0])
    return found

stock_refusals = refusals(lambda answer: jsonschema.validate(answer, schema))

from bot import rasa_speedups
rasa_speedups.install()

try:
    Event.resolve_by_type("no_such_event")
    unknown = "no error"
except ValueError as error:
    unknown = str(error)
print(json.dumps({
    "names": len(names),
    "same_classes": all(Event.resolve_by_type(name) is stock[name] for name in names),
    "default": Event.resolve_by_type("no_such_event", SlotSet) is SlotSet,
    "topic": Event.resolve_by_type("topic"),
    "unknown": unknown,
    "loaded_equal": deserialise_events(stored) == stock_loaded,
    "refusals": refusals(lambda answer: RemoteAction._validate_action_result(None, answer)),
    "stock_refusals": stock_refusals,
}))
"""


@pytest.fixture(scope="module")
def checked() -> dict:
    if not RASA_PYTHON.exists():
        pytest.skip("no Rasa virtualenv (`make setup`)")
    done = subprocess.run(
        [str(RASA_PYTHON), "-W", "ignore", "-c", _CHECK],
        cwd=PROJECT_ROOT,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict = json.loads(done.stdout.splitlines()[-1])
    return result


def test_every_event_type_resolves_to_rasas_own_class(checked: dict) -> None:
    assert checked["names"] > 20
    assert checked["same_classes"] is True


def test_unknown_event_types_behave_as_in_rasa(checked: dict) -> None:
    assert checked["default"] is True
    assert checked["topic"] is None
    assert checked["unknown"] == "Unknown event name 'no_such_event'."


def test_stored_events_load_back_equal(checked: dict) -> None:
    assert checked["loaded_equal"] is True


def test_action_answers_are_refused_as_jsonschema_refuses_them(checked: dict) -> None:
    assert checked["refusals"][0] is None
    assert checked["refusals"][1:] == checked["stock_refusals"][1:]
    assert all(checked["refusals"][1:])
