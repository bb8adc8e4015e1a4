"""``nlu.parse`` in batches gives exactly what Rasa's one-message-at-a-time parse gives,
BlendedIntentClassifier, which stacks features its own (faster) way, builds Rasa's matrix, and
DIET built eagerly at load (``nlu.components.diet``) predicts exactly what Rasa's own load gives.

Needs the trained model and the Rasa virtualenv (``make train``); both are there under
``make test``. One Rasa process loads the model our way and parses the same lines both ways,
comparing the classifier's matrix with Rasa's on the way; then it loads the model again with
Rasa's own DIET load (the slow, traced one) and parses the lines once more.
"""

import json
from typing import Any

import pytest

from tests.auxil.rasa_python import run_with_model

LINES = [
    "대출받고싶은데요",
    "3백만원 빌려주세요",
    "[인천 남동구 만수동](place)이요",
    "인천 남동구 만수동이요",
    "다음주 토요일",
    "아버지요",
    "KL-1994-000123",
    "네",
    "아니요",
    "취소",
    "그만할래요",
    "",
    "/greet",
    "트랜스팩 직원이 냉장고를 망가뜨렸어요",
    "딸 결혼식 준비 할인 받고 싶어요",
    "이달30일에 아빠 이사해요 부평 청천동 현대아파트로 가요",
    "오늘 저녁 메뉴 뭐 먹을까",
    "송도 컨벤시아 웨딩홀",
    "보험료가 두 번 빠져나갔어요 " * 20,
    "ㅋㅋㅋ",
]

SCRIPT = """
import asyncio, json, sys
from nlu.parse import BatchParser, _quiet, result_line
_quiet()
from rasa.core.agent import Agent
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from nlu.components.blended_classifier import BlendedIntentClassifier
texts = json.loads(sys.stdin.read())
stacked = {"rows": 0, "difference": 0.0, "shapes_equal": True, "blended": 0}
process = BlendedIntentClassifier.process
def compare(self, messages):
    ours = self._create_X(messages)
    rasas = LogisticRegressionClassifier._create_X(self, messages)
    stacked["shapes_equal"] &= ours.shape == rasas.shape
    if ours.shape == rasas.shape:
        stacked["difference"] += float(abs(ours - rasas).sum())
    stacked["rows"] += ours.shape[0]
    done = process(self, messages)
    stacked["blended"] += sum(1 for m in done if len(m.get("intent_ranking") or []) > 1)
    return done
BlendedIntentClassifier.process = compare  # before loading: the graph binds it at load
agent = Agent.load(sys.argv[1])
async def one_by_one():
    return [await agent.parse_message(t) if t.strip() else {} for t in texts]
single = asyncio.run(one_by_one())
parser = BatchParser(agent)
found = [t for t in texts if t.strip()]
results = iter(parser.parse(found))
batched = [next(results) if t.strip() else {} for t in texts]
from nlu.components.diet import EagerlyBuiltDIET
from rasa.utils.tensorflow.models import RasaModel
diets = [getattr(n._component, "model", None) for n in parser._runner._instantiated_nodes.values()
         if hasattr(n, "_component")]
ours = [type(m).__name__ for m in diets if m is not None and "DIET" in type(m).__name__]
graph_mode = all(not m._run_eagerly for m in diets if isinstance(m, EagerlyBuiltDIET))
BlendedIntentClassifier.process = process  # the comparison above is done
EagerlyBuiltDIET.load = RasaModel.__dict__["load"]  # Rasa's own load, traced fit step and all
rasas_agent = Agent.load(sys.argv[1])
async def with_rasas_load():
    return [await rasas_agent.parse_message(t) if t.strip() else {} for t in texts]
rasas_load = asyncio.run(with_rasas_load())
print(json.dumps({
    "diet_models": ours,
    "diet_graph_mode": graph_mode,
    "rasas_load": [result_line(t, p) for t, p in zip(texts, rasas_load)],
    "batched_diet": parser.batched,
    "single": [result_line(t, p) for t, p in zip(texts, single)],
    "batched": [result_line(t, p) for t, p in zip(texts, batched)],
    "stacked": stacked,
}, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def parsed() -> Any:
    return run_with_model(SCRIPT, json.dumps(LINES, ensure_ascii=False))


@pytest.mark.e2e
def test_batched_parse_equals_rasa_parse_message(parsed: Any) -> None:
    assert parsed["batched_diet"], "DIET was not switched to batched inference"
    assert parsed["batched"] == parsed["single"]
    assert [r["text"] for r in parsed["batched"]] == LINES


@pytest.mark.e2e
def test_stacked_features_equal_rasas_per_message_features(parsed: Any) -> None:
    stacked = parsed["stacked"]
    found = len([t for t in LINES if t.strip()])  # parsed once alone and once in a batch
    assert stacked["rows"] == 2 * found and stacked["blended"] == 2 * found
    assert stacked["shapes_equal"] and stacked["difference"] == 0.0


@pytest.mark.e2e
def test_eagerly_built_diet_predicts_what_rasas_own_load_predicts(parsed: Any) -> None:
    assert parsed["diet_models"] == ["EagerlyBuiltDIET"], parsed["diet_models"]
    assert parsed["diet_graph_mode"], "DIET was left predicting eagerly (slow parses)"
    assert parsed["single"] == parsed["rasas_load"]
