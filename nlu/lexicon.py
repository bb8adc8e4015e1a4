"""Domain words Kiwi should keep whole: products, partner services, loan jargon.

Plain data, kept in Python so that editing it retrains the model (the Makefile watches nlu/*.py).
"""

# (word, Kiwi POS tag). Proper nouns are NNP, common domain nouns NNG.
DOMAIN_WORDS: tuple[tuple[str, str], ...] = (
    ("국제생명", "NNP"),
    ("약관대출", "NNG"),
    ("계약대출", "NNG"),
    ("보험계약대출", "NNG"),
    ("약대", "NNG"),
    ("임종의 전화", "NNP"),
    ("임종의전화", "NNP"),
    ("그린그린", "NNP"),
    ("트랜스팩", "NNP"),
    ("국제-국민카드", "NNP"),
    ("국제국민카드", "NNP"),
    ("무배당암보험", "NNP"),
    ("무배당종신보험", "NNP"),
    ("무배당건강보험", "NNP"),
    ("개인연금보험", "NNP"),
    ("어린이교육보험", "NNP"),
    ("실손의료보험", "NNP"),
    ("암보험", "NNG"),
    ("종신보험", "NNG"),
    ("연금보험", "NNG"),
    ("교육보험", "NNG"),
    ("건강보험", "NNG"),
    ("실손보험", "NNG"),
    ("해지환급금", "NNG"),
    ("만기환급금", "NNG"),
    ("중도인출", "NNG"),
    ("자동이체", "NNG"),
    ("보험료", "NNG"),
    ("납입", "NNG"),
    ("밀착관리", "NNG"),
    ("상조", "NNG"),
)
