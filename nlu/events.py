"""Which partner booking a message speaks of: a move, a wedding or a funeral.

Customers state the event (이달 30일에 아빠 이사해요, 장모님이 돌아가셨어요) more often than they
ask for the service; the dialogue starts the booking when such a statement also says when or
whose it is. Only the standard library is used: the app imports this module.
"""

import re

# 이사님, 이사장, 이사회 are company titles and boards, not moves; 결혼기념일 is no wedding.
_EVENT_WORDS: dict[str, str] = {
    "moving": r"이사(?!님|장|회|진|국|관|직)|이삿짐|포장\s?이사|입주|전입",
    "wedding": r"결혼(?!\s?기념)|혼례|혼사|예식|웨딩|장가|시집|청첩|식을?\s?올",
    "funeral": (
        r"장례|돌아가(?:셨|시|심|신)|별세|소천|타계|영면|작고|운명하|임종|부고|빈소|발인|입관|"
        r"초상|조문|[부모]친상|조[부모]상|빙[부모]상|시[부모]상|"
        r"(?<![가-힣])상(?:을|이)?\s?(?:당했|당하|치르|치러|났)"
    ),
}
_EVENT_RE = re.compile("|".join(f"(?P<{kind}>{words})" for kind, words in _EVENT_WORDS.items()))


def booking_event(text: str) -> str | None:
    """The booking kind (``moving``, ``wedding``, ``funeral``) the text first names, or None."""
    match = _EVENT_RE.search(text)
    return match.lastgroup if match else None
