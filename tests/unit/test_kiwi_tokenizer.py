"""The Kiwi tokenizer component: tokens cut at Kiwi's offsets, overlaps merged, domain words whole.

Runs in the Rasa virtualenv, where Rasa and kiwipiepy live, with the real Kiwi model.
"""

import json

from tests.auxil.rasa_python import run_with_model

SCRIPT = """
import json, sys
from rasa.shared.nlu.training_data.message import Message
from nlu.components.kiwi_tokenizer import KiwiTokenizer, merge_morphemes

def spans(tokens):
    return [(t.text, t.start, t.end, t.lemma) for t in tokens]

request = json.loads(sys.stdin.read())
# 했어요 as Kiwi gives it: 하 and 었 share the character 했; a morpheme of no length (Kiwi
# inserts some) joins the lemma of the token before it.
synthetic = merge_morphemes("했어요", [("하", 0, 1), ("었", 0, 1), ("어요", 1, 2), ("ㅂ", 3, 0)])
tokenizer = KiwiTokenizer(KiwiTokenizer.get_default_config(), None, None)
real = {
    text: spans(tokenizer.tokenize(Message(data={"text": text}), "text"))
    for text in request["texts"]
}
print(json.dumps({"synthetic": spans(synthetic), "real": real}, ensure_ascii=False))
"""

TEXTS = [
    "대출받고싶은데요",
    "약관대출받고싶어요",
    "임종의 전화 연결해주세요",
    "국제-국민카드 신청",
    "무배당암보험으로 했어요",
    "그린그린예약",
    "트랜스팩에서이사",
    "이달30일 우리아빠 생일인데 별약속이 없으면 우리집에서 저녁이나 드시죠",
]


def test_tokens_follow_kiwi_offsets() -> None:
    got = run_with_model(SCRIPT, json.dumps({"texts": TEXTS}, ensure_ascii=False))
    assert [tuple(t) for t in got["synthetic"]] == [("했", 0, 1, "하었"), ("어요", 1, 3, "어요ㅂ")]
    for text, tokens in got["real"].items():
        ends = [0]
        for token_text, start, end, _lemma in tokens:
            assert text[start:end] == token_text  # a slice of the message, never a Kiwi form
            assert start >= ends[-1]  # in order, no overlaps
            ends.append(end)
    words = {text: [t[0] for t in tokens] for text, tokens in got["real"].items()}
    assert words["대출받고싶은데요"][:2] == ["대출", "받"]
    assert words["무배당암보험으로 했어요"] == ["무배당암보험", "으로", "했", "어요"]
    # The domain dictionary keeps product, partner and loan words whole, spaces and hyphens too.
    assert "약관대출" in words["약관대출받고싶어요"]
    assert words["임종의 전화 연결해주세요"][0] == "임종의 전화"
    assert words["국제-국민카드 신청"][0] == "국제-국민카드"
    assert words["그린그린예약"] == ["그린그린", "예약"]
    assert words["트랜스팩에서이사"][0] == "트랜스팩"
