"""BlendedIntentClassifier stacks features its own (faster) way: the matrix must be Rasa's.

Needs the trained model and the Rasa virtualenv, like ``test_nlu_parse``.
"""

import json

import pytest

from tests.auxil.rasa_python import run_with_model
from tests.unit.test_nlu_parse import LINES

SCRIPT = """
import json, sys
from nlu.parse import BatchParser, _quiet
_quiet()
from rasa.core.agent import Agent
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from nlu.components.blended_classifier import BlendedIntentClassifier
seen = {"rows": 0, "difference": 0.0, "shapes_equal": True, "blended": 0}
process = BlendedIntentClassifier.process
def compare(self, messages):
    ours = self._create_X(messages)
    rasas = LogisticRegressionClassifier._create_X(self, messages)
    seen["shapes_equal"] &= ours.shape == rasas.shape
    if ours.shape == rasas.shape:
        seen["difference"] += float(abs(ours - rasas).sum())
    seen["rows"] += ours.shape[0]
    done = process(self, messages)
    seen["blended"] += sum(1 for m in done if len(m.get("intent_ranking") or []) > 1)
    return done
BlendedIntentClassifier.process = compare
parser = BatchParser(Agent.load(sys.argv[1]))
parser.parse([t for t in json.loads(sys.stdin.read()) if t.strip()])
print(json.dumps(seen))
"""


@pytest.mark.e2e
def test_stacked_features_equal_rasas_per_message_features() -> None:
    seen = run_with_model(SCRIPT, json.dumps(LINES, ensure_ascii=False))
    parsed = len([t for t in LINES if t.strip()])
    assert seen["rows"] == parsed and seen["blended"] == parsed
    assert seen["shapes_equal"] and seen["difference"] == 0.0
