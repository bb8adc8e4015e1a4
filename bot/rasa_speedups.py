"""Rasa 3.6's two measured wastes on milchak's turn, removed inside the Rasa process.

**Validating action answers.** Rasa checks every custom action's answer with
``jsonschema.validate(result, schema)``. That function first validates the *schema* against
JSON Schema's meta-schema, on every call; the schema is Rasa's constant event-list schema, so
the check always passes and only costs time.
Profiled with py-spy at 8 concurrent policyholders (stop 20): 34 % of each Rasa process's CPU
went there, more than NLU and policies together. ``install()`` swaps the method for one that
checks the schema once, at start, and validates each answer with the same validator and the
same error message, so a malformed answer is still refused exactly as before.

**Naming event types.** Loading a tracker turns each stored event back into an object, and
``Event.resolve_by_type`` found each event's class by walking all of ``Event``'s subclasses,
asking ``inspect.isabstract`` of each: 0.12 ms per event, most of a tracker load (cProfile of
``SQLTrackerStore.retrieve``, stop 21: 1.2 s of 100 loads of 50 events went to it). The class
of each type name is now looked up in a table built from that same walk (the first class of a
name wins, as in the walk); an unknown name rebuilds the table (a subclass may have been
imported since) and, still unknown, gets Rasa's own answer.

Runs in Rasa's virtualenv (``bot.rasa_launcher``): standard library, Rasa and its jsonschema.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    """Remove both wastes."""
    _validate_action_answers_once()
    _resolve_event_types_by_table()


def _validate_action_answers_once() -> None:
    """Validate custom-action answers with a validator built once."""
    from jsonschema import validators
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # what jsonschema.validate did on every call
    validator = validator_class(schema)

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is not None:
            # Rasa's own wording (rasa/core/actions/action.py), for whoever reads its log.
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                "For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    RemoteAction._validate_action_result = validate_action_result


def _resolve_event_types_by_table() -> None:
    """``Event.resolve_by_type`` from a table of type names instead of a class-tree walk."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    walk = Event.resolve_by_type
    classes: dict[str, type[Event]] = {}

    def fill() -> None:
        classes.clear()
        for cls in all_subclasses(Event):
            classes.setdefault(cls.type_name, cls)

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        found = classes.get(type_name)
        if found is None:
            fill()
            found = classes.get(type_name)
        return found if found is not None else walk(type_name, default)

    fill()
    Event.resolve_by_type = staticmethod(resolve_by_type)
