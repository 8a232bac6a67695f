"""Figures a report states, each with what it counts: "at least 19 people died" -> (people died, 19); "the
$2.04 billion jackpot" -> (jackpot, $2.04 billion). A story's reports are compared figure by figure: the
same thing counted differently on later days is a move, on the same day by another outlet a disagreement."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import STOPWORDS, stem

# A figure: an optional currency sign, digits (with separators and decimals), an optional scale or percent.
_FIGURE = re.compile(r"(?<![\w.$-])(\$|£|€)?(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(%|percent\b|"
                     r"(?:trillion|billion|million|thousand)\b))?(?![\w-])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Words after a figure that say when or how, not what it counts.
_NOT_COUNTED = frozenset("""
a.m p.m am pm years year-old year old days day weeks week months month hours hour minutes minute seconds
times time per cent and or to of in on at by from for with as than that this the a an points point
mph degrees feet miles inches pounds kilometers meters percent
""".split())
# Words between a thing and its figure ("the death toll rose to 47", "unemployment stood at 3.5%").
_LINKING = frozenset("""
rose rise rises risen rising climbed climbs climbing jumped jumps grew grows increased increases fell falls
dropped drops declined declines reached reaches hit hits stood stands stand was is were are now about nearly
almost more than least at to of over some around roughly approximately only just total totaled totaling
""".split())
# A count of people in a sentence that says they died is a death toll, however it is worded.
_CASUALTY = re.compile(r"\b(killed|dead|died|deaths?|fatalit(y|ies)|death toll|lost their lives)\b", re.I)
_PEOPLE = frozenset({"tol", "peopl", "person", "resid", "victim", "other", "death", "dead", "fatal", "die", "kill"})
_CLOCK = re.compile(r"\s*(?:[ap]\.?m\b\.?|:\d\d)", re.I)
_DAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
_MONTHS = frozenset("jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july "
                    "august september october november december".split())


@dataclass(frozen=True)
class Figure:
    """A figure in a sentence: what it counts (the stem of the word that names it), its value as compared, as
    printed, and where it is in the sentence."""

    key: str
    label: str  # the counted word as printed (lower case), for people: "death toll", "cases"
    value: float
    printed: str
    start: int
    end: int


def _value(number: str, scale: str | None) -> float:
    value = float(number.replace(",", ""))
    factor = {"trillion": 1e12, "billion": 1e9, "million": 1e6, "thousand": 1e3}.get((scale or "").lower(), 1.0)
    return value * factor


def figures(sentence: str) -> list[Figure]:
    """The figures of one sentence that count something named right after them (or a currency amount that
    names its thing after it); years, dates, times, ages and figures of nothing are left out."""
    out = []
    for match in _FIGURE.finditer(sentence):
        currency, number, scale = match.group(1), match.group(2), match.group(3)
        before = sentence[max(0, match.start() - 12):match.start()].lower()
        if any(before.rstrip().endswith(m) or before.rstrip().endswith(m + ".") for m in _MONTHS):
            continue  # "Oct. 27", "March 3"
        if not currency and not scale and "," not in number and re.fullmatch(r"(19|20)\d\d", number):
            continue  # a year
        if _CLOCK.match(sentence, match.end()):
            continue  # a time of day: "3 p.m.", "10:30"
        after = _WORD.findall(re.split(r"[,.;:!?()\[\]—]", sentence[match.end():match.end() + 40] + ".", maxsplit=1)[0])
        words = []
        for word in after[:3]:
            low = word.lower().strip("'’-")
            if low in _DAYS or len(low) < 2:
                break
            if low in _NOT_COUNTED or low in STOPWORDS or low in _MONTHS:
                if words or low in {"a.m", "p.m", "am", "pm", "year-old", "years", "days", "weeks", "months",
                                    "hours", "minutes", "seconds", "times"}:
                    break
                continue
            words.append(low)
            break
        if not words:
            words = _named_before(sentence[:match.start()])
        if not words:
            continue
        printed = sentence[match.start():match.end()]
        label = " ".join(words)
        key = stem(label)
        if key in _PEOPLE and not currency and _CASUALTY.search(sentence):
            key = label = "death toll"
        out.append(Figure(key, label, _value(number, scale), printed, match.start(), match.end()))
    return out


def _named_before(text: str) -> list[str]:
    """The thing a figure counts when it comes first: "the death toll rose to" -> ["death", "toll"]."""
    before = [w.lower().strip("'’-") for w in _WORD.findall(text[-60:])]
    while before and (before[-1] in _LINKING or before[-1] in STOPWORDS):
        before.pop()
    named = []
    for word in reversed(before[-1:]):
        if word in STOPWORDS or word in _LINKING or word in _DAYS or len(word) < 3:
            break
        named.insert(0, word)
    return named if len(before) < len(_WORD.findall(text[-60:])) else []
