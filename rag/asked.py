"""What a question asks for (a distance, a number, a person, a place, a date, a cause ...) and whether a
sentence holds it: the answer check behind the extractive answerer's choice and its refusals."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.rewrite import CONTEXT_NOTE
from rag.timeparse import without_time_phrases
from rag.text import FREE_NUMBER, PERCENT, STOPWORDS, content_stems, number_value, stem, text_stems, words
from rag.types import Evidence

YES_NO_QUESTION = re.compile(r"^(is|are|was|were|did|does|do|has|have|had|can|could|will|would|should)\b", re.I)

# --- what the question asks for, and whether a sentence holds it ----------------------------------
# "other" (what did X say?), "yesno" and "manner" (how did X do it?) are not CHECKED: never refused for it.
DISTANCE, DURATION, WHEN, NUMBER, CAUSE, PERSON, PLACE, NAME, CALLED, MANNER, YESNO, OTHER = (
    "distance", "duration", "when", "number", "cause", "person", "place", "name", "called", "manner", "yesno", "other")
CHECKED = {DISTANCE, DURATION, WHEN, NUMBER, CAUSE, PERSON, PLACE, NAME, CALLED}

# which/what + up to 4 words, no verb, no possessive ("which country’s new prime minister" asks for a place); 4 is
# the longest gap in the 259 gold and seed questions ("which of the following US cities")
_BETWEEN = (r"(?:(?:is|was|are|were) (?:the|its|his|her|their) )?"
            r"(?:(?!(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could)\b)[\w.]+[\s-]){0,4}?")
_WHO = r"(?:^|\b(?:and|but|so|then|or)\s+)"  # who/when/where/why ask at the start ("..., who was" is relative)
_WH = r"(?:^|[,;:]\s*|\b(?:and|but|so|then|or)\s+)(?:(?:approximately|roughly|about|around|exactly|just)\s+)?"
_NOUNS = {  # what "which/what <noun>" asks for (plurals in -s are matched too)
    PERSON: """person man woman player star singer actor actress athlete golfer senator governor president official
    leader philanthropist celebrity member individual justice judge minister executive ceo rapper musician artist
    author director coach candidate lawmaker billionaire astronaut quarterback reliever pitcher""",
    PLACE: """city cities country countries state nation island continent region area town village province county
    territory park place location destination capital airport neighborhood district river""",
    NAME: """company companies automaker carmaker airline retailer chain brand team group organization agency party
    holiday network platform band show series movie film song album book university school college bank league
    tournament hurricane storm mission newspaper magazine award prize currency store restaurant firm startup
    supermarket model product dog cat animal tabloid house stadium vessel ship plane drug vaccine""",
}
_WHICH = {kind: rf"\b(?:which|what) {_BETWEEN}(?:{'|'.join(words.split())})s?\b" for kind, words in _NOUNS.items()}
# nouns of the NAME kind that ask for a kind of thing, not a name: "which animals" is answered by "five lions",
# "which household product" by "baby wipes", so the answer gives a word of its own, not a capitalised one
# ("which dog" stays a name: a dog in the news is named)
_WHICH_THING = re.compile(rf"\b(?:which|what) {_BETWEEN}(?:product|animal)s?\b", re.I)
_KINDS = [
    (DISTANCE, r"\bhow (?:far|high|tall|deep|wide)\b|\bwhat (?:distance|altitude|height|range)\b"),
    (DURATION, r"\bhow long\b"),
    (WHEN, rf"{_WHO}when\b|{_WH}how soon\b|\bby when\b|\b(?:what|which) (?:time|day|date|year|month|week|season)\b"),
    (NUMBER, rf"\bhow (?:many|much|old|big|large|heavy|fast|often)\b|\b(?:which|what) {_BETWEEN}(?:percentage|"
             rf"percent|share|proportion|fraction|number|amount|price|figure|magnitude|temperature|score|sum)\b"),
    (CAUSE, rf"{_WHO}why\b|\bfor what reason\b|\bdue to what\b|\bbecause of what\b|\bwhat (?:caused|causes|prompted|"
            rf"led to|drove|triggered|motivated)\b|\bwhat (?:is|was) the (?:reason|cause)\b"),
    (PERSON, rf"{_WHO}who(?:se)?\b|\b(?:to|by|of|with|for) whom\b|\b(?:which|what) head of state\b|{_WHICH[PERSON]}"),
    (PLACE, rf"{_WHO}where\b|{_WHICH[PLACE]}"),
    (NAME, rf"\bwhat (?:new |other |official )?names?\b|\bwhat (?:is|was|are|were) (?:the |its |his |her |their )?names?\b|\bwhat (?:is|was) (?:it|this|that|"
           rf"the \w+) called\b|{_WHICH[NAME]}"),
    # "What does South Korea call the Sea of Japan?": a name given to something, said as such
    (CALLED, r"\bwhat (?:do|does|did) (?:[\w’'.-]+ ){1,5}?call\b|\bwhat (?:is|are|was|were) [\w\s’'.-]{1,40}? (?:known|referred to) as\b"),
    (MANNER, rf"{_WH}how (?:did|does|do|is|was|were|are|has|have|had|can|could|will|would|should|might)\b"),
]
_KIND_PATTERNS = [(kind, re.compile(pattern, re.I)) for kind, pattern in _KINDS]
_DESCRIBE = re.compile(r"^[Ww]ho (?:is|was|are|were) (?:[A-Z][\w’'.-]*\s*)+\?*$")  # "Who is Yang Moo-jin?"
# 4 words: the counted noun is at most the 3rd in the 259 questions ("how many positive monkeypox cases are")
_HOW_MANY = re.compile(r"\bhow many\s+(?!of (?:them|those|these|it)\b)([\w’'-]+(?:\s+[\w’'-]+){0,3})", re.I)
_NOT_COUNTED = re.compile(r"^(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could|of|in|at|on|to|for|"
                          r"been|that|who|and|or|since|by|from|with|about|into|over|during|than|as|per|\w+ed)$", re.I)

_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
                 r"fifty|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|a third|a quarter")
_QUANTITY = re.compile(rf"{FREE_NUMBER.pattern}(?:\s*(?:%|percent|million|billion|trillion))?|\b(?:{_NUMBER_WORDS})\b", re.I)
_AMOUNT = rf"(?:\d[\d,.]*|\b(?:{_NUMBER_WORDS}|a|an|several|few|many))"
_DISTANCE = re.compile(rf"{_AMOUNT}[\s-]*(?:km|kilomet(?:er|re)s?|miles?|met(?:er|re)s?|feet|foot|ft|yards?|inches)\b", re.I)
_TIMESPAN = re.compile(rf"{_AMOUNT}[\s-]*(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b", re.I)
_MONTH = (r"Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?")
_WEEKDAY = r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_DATE = re.compile(rf"\b(?:{_MONTH}|{_WEEKDAY})\b|\b(?:19|20)\d\d\b|\b(?:today|tonight|yesterday|tomorrow)\b"
                   rf"|\b(?:this|next|last|coming|early|late|later this|earlier this)\s+(?:week|month|year|weekend|"
                   rf"spring|summer|fall|autumn|winter|season)\b|{_TIMESPAN.pattern}\s+(?:ago|later|earlier|from now)"
                   rf"|\b(?:within|in|after|for)\s+{_TIMESPAN.pattern}|\bas (?:early|soon) as\b", re.I)
_CAUSE = re.compile(r"\b(?:because|due to|owing to|thanks to|in order to|so that|so as to|intended to|aimed at|"
                    r"aims? to|meant to|designed to|in (?:an )?(?:effort|attempt|bid) to|response to|retaliation|"
                    r"as a result|result(?:ed|s|ing)? (?:in|from)|caused by|blamed (?:on|for)|the reasons?\b|"
                    r"to protest|in protest|driven by|fu?elled by|fueled by|led to|leading to|prompted|"
                    r"triggered|stemm(?:ed|ing|s) from|amid|\w+ed over)\b", re.I)
_MEANS = re.compile(r"\bby \w+ing\b|\bthrough\b|\busing\b|\bvia\b", re.I)
_CAPITAL = re.compile(r"[A-Z][\w’'.&-]*\w|[A-Z]")
_PLURAL = re.compile(rf"\b(?:which|what) (?!of\b)(?:two|three|four|several|{_BETWEEN}(?:countries|states|cities|nations|"
                     rf"teams|companies|supermarkets|automakers|players|bands))\b", re.I)
NAME_LIST = re.compile(r"[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*,?\s+and\s+(?:the\s+)?[A-Z]")  # "Japan and South Korea"
# how a sentence gives something's name, or calls it something: "what they refer to as the East Sea",
# "praised South Korea as Washington's 'model ally'"
_NAMING = re.compile(r"\b(?:call(?:s|ed)?|refer(?:s|red)? to (?:it |them )?as|known as|dubbed|nicknamed|named|"
                     r"term(?:s|ed)?)\b|\b(?:described|praised|hailed|labell?ed|branded|characteri[sz]ed|denounced|"
                     r"condemned|called)\b[^.;]{0,60}?\bas\b", re.I)
_CALENDAR = re.compile(rf"^(?:{_MONTH}|{_WEEKDAY})\.?$")


@dataclass
class Asked:
    """What a question asks for: its kind, what "how many X" counts, whether several ("which two ...")."""

    kind: str
    counted: str | None = None
    plural: bool = False


def asked_for(question: str) -> Asked:
    """The answer type of a question, from its last sentence with a question word (quiz questions
    often open with a sentence of context)."""
    text = CONTEXT_NOTE.sub("", question).strip()
    sentences = [s for s in re.split(r"(?<=[.?!])\s+(?=[A-Z])", text) if s.strip()] or [text]
    for sentence in reversed(sentences):
        sentence = _LEADING_CLAUSE.sub("", sentence.strip())
        if YES_NO_QUESTION.match(sentence):
            return Asked(YESNO)
        if _DESCRIBE.match(sentence):
            return Asked(OTHER)
        found = [(m.start(), m.end() - m.start(), order, kind)  # the first, then the nearest noun
                 for order, (kind, pattern) in enumerate(_KIND_PATTERNS) for m in [pattern.search(sentence)] if m]
        if found:
            kind = min(found)[3]
            counted = None
            if kind == NUMBER and (match := _HOW_MANY.search(sentence)):
                words = match.group(1).split()
                cut = next((i for i, w in enumerate(words) if i and _NOT_COUNTED.match(w)), len(words))
                counted = stem(words[cut - 1].lower().strip("’'"))  # "how many US troops are" -> troop
            return Asked(kind, counted, kind in (PERSON, PLACE, NAME) and bool(_PLURAL.search(sentence)))
    return Asked(OTHER)


# a clause that sets the scene before the question: "When FIFA picked the host cities ..., how many ...", "When
# officials declared ..., the virus had been found in waste from which sewage works?" (its question word may
# stand later in the sentence); "When did ..." asks when, and is no scene
_LEADING_CLAUSE = re.compile(r"^(?:when|after|before|as|while|once|since|with|by)\b"
                             r"(?!\s+(?:did|does|do|is|was|were|are|will|would|can|could|has|have|had)\b)[^,?]*,\s*"
                             r"(?=[^?]*\b(?:how|what|which|who|whom|whose|where|when|why)\b)", re.I)


# what news writes for a counted toll: "how many deaths" is answered by "13 infants died", "killed", "dead"
_SAME_COUNT = {"death": {"die", "died", "dead", "kil", "fatalit"}, "injur": {"hurt", "wound"}}


def counted_in(counted: str | None, text: str) -> bool:
    """Whether ``text`` names the thing a "how many" question counts (any thing: None, "times", "ways")."""
    if counted in (None, "tim", "way"):  # a count rarely says "times"
        return True
    stems = content_stems(text.replace("-", " "))
    return counted in stems or bool(_SAME_COUNT.get(counted, set()) & stems)


def holds(asked: Asked, sentence: str, question: str, context: str | None = None) -> bool:
    """Whether ``sentence`` holds an answer of the asked kind that the question does not state already.
    ``context``: the article's text, where a sentence's first word may be seen to be a name."""
    kind = asked.kind
    if kind not in CHECKED and kind != MANNER:
        return True
    spans = {DISTANCE: [_DISTANCE], DURATION: [_TIMESPAN, _DISTANCE], WHEN: [_DATE, _TIMESPAN]}.get(kind, [])
    if spans:
        return any(_new(m.group(0), question) for pattern in spans for m in pattern.finditer(sentence))
    if kind == NUMBER:
        numbers = [m.group(0) for m in _QUANTITY.finditer(sentence) if _new(m.group(0), question)
                   and not re.fullmatch(r"(?:19|20)\d\d", m.group(0))]
        return bool(numbers) and counted_in(asked.counted, sentence)
    if kind == CALLED:  # a name, given as one: "what they refer to as the East Sea"
        return bool(_NAMING.search(sentence)) and bool(new_names(sentence, question, context or ""))
    if kind in (CAUSE, MANNER):  # manner: a means ("by cutting", "through") is an answer too
        return _states_cause(sentence, question) or (kind == MANNER and bool(_MEANS.search(sentence)))
    return bool(new_names(sentence, question, context or "", places=kind == PLACE))


# what "how long/far/much/big ..." measures when a noun follows it: "how long a prison sentence did ...?"
_MEASURED = re.compile(r"\bhow (?:long|far|much|big|large|heavy|high|tall|old|wide|deep)\s+(?:a |an |the )?"
                       r"(?P<what>(?!(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could)\b)[a-z][\w-]*"
                       r"(?:\s+(?!(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could)\b)[a-z][\w-]*)?)"
                       r"\s+(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could)\b", re.I)


# "what share of the vote", "what percentage of ...": a part of a whole, answered by a percent or a fraction
_SHARE_ASKED = re.compile(rf"\b(?:which|what) {_BETWEEN}(?:percentage|percent|share|proportion|fraction)\b", re.I)
_FRACTION = re.compile(r"\b(?:half|third|quarter|fifth|tenth|majority)\b", re.I)


def answers_kind(asked: Asked, answer: str, sentence: str, question: str) -> bool:
    """Whether a short ``answer`` (a model's, cited to ``sentence``) is of the kind asked: a quantity for "how
    many" (what it counts named in the sentence), a date for "when", a name for "who", "which company",
    "where", a reason for "why". Yes/no, "what did X say" and other kinds are not checked."""
    kind = asked.kind
    measured = _MEASURED.search(question)
    if measured and kind in (DISTANCE, DURATION, NUMBER) and not \
            content_stems(measured.group("what")) & content_stems(f"{answer} {sentence}".replace("-", " ")):
        return False  # "how long a prison sentence": a sentence on how long the jury deliberated is not about it
    if kind in (DISTANCE, DURATION, WHEN, NUMBER):
        both = f"{answer} {sentence}"
        if kind == NUMBER:
            if _SHARE_ASKED.search(question) and not (PERCENT.search(answer) or _FRACTION.search(answer)):
                return False  # "what share of the vote": "60 million votes" is a count, not a share
            counted = counted_in(asked.counted, both)
            return counted and any(_new(m.group(0), question) for m in _QUANTITY.finditer(answer))
        patterns = {DISTANCE: [_DISTANCE], DURATION: [_TIMESPAN, _DISTANCE], WHEN: [_DATE, _TIMESPAN]}[kind]
        return any(p.search(answer) for p in patterns)
    if kind == NAME and _WHICH_THING.search(question):
        return bool(content_stems(answer.replace("-", " ")) - content_stems(question.replace("-", " ")))
    if kind in (PERSON, PLACE, NAME, CALLED):
        asked_stems = content_stems(question)
        for match in _CAPITAL.finditer(answer):
            word = match.group(0).strip("’'.").removesuffix("’s").removesuffix("'s")
            lower = word.lower()
            if word and not _CALENDAR.match(word) and lower not in _COMMON_CAPITALS | STOPWORDS \
                    and stem(lower) not in asked_stems:
                return True
        return False
    if kind in (CAUSE, MANNER):
        return _states_cause(sentence, question) or _states_cause(answer, question) or (
            kind == MANNER and bool(_MEANS.search(f"{answer} {sentence}")))
    return True


def _states_cause(sentence: str, question: str) -> bool:
    """A cause or purpose marker ("because X", "intended to X", "X led to") whose cause is news, not the
    asked event: "in response to Pyongyang's missile capabilities" explains something else by it."""
    asked = content_stems(question)
    for match in _CAUSE.finditer(sentence):
        if _BACKWARD.match(match.group(0)):
            phrase = re.split(r"[.;:,—–]", sentence[:match.start()])[-1].split()[-_CAUSE_HEAD:]
        else:
            phrase = re.split(r"[.;:,—–]", sentence[match.end():])[0].split()[:_CAUSE_HEAD]
        stems = content_stems(" ".join(phrase))
        if stems and not stems & asked:
            return True
    return False


_BACKWARD = re.compile(r"led to|leading to|prompted|triggered|result(?:ed|s|ing)? in|as a result", re.I)
# 4 words: on "Why did North Korea fire the missiles?" it keeps "a response to Colby's visit" (the
# question's "Korean" is 5th) and drops "in response to Pyongyang's expanding missile capabilities" (3rd)
_CAUSE_HEAD = 4


def new_names(sentence: str, question: str, context: str = "", places: bool = False) -> list[str]:
    """Capitalised words of ``sentence`` the question lacks; the first counts if it reads as a name ("Adele
    is", "Miami,") or is one in ``context``. ``places``: only after "in", "from both"..., first or possessive."""
    asked = content_stems(question)
    out = []
    for match in _CAPITAL.finditer(sentence):
        word = match.group(0).strip("’'.").removesuffix("’s").removesuffix("'s")
        lower, first = word.lower(), not _CAPITAL.sub("", sentence[:match.start()]).strip(" \"“‘'(")
        if not word or _CALENDAR.match(word) or lower in _COMMON_CAPITALS or lower in STOPWORDS:
            continue
        possessive = match.group(0).endswith(("’s", "'s"))
        if first and not (possessive or word.isupper() or _NAME_AFTER.match(sentence, match.end())
                          or re.search(rf"[a-z,;] {re.escape(word)}\b", context)):
            continue
        if places and not (first or possessive or _PLACE_CUE.search(sentence[:match.start()])):
            continue
        if stem(lower) not in asked:
            out.append(word)
    return out


# a place word, then at most one lowercase word ("in west-central Mexico", "from both Japan"); allowing two
# changes no answer of the gold suite
_PLACE_CUE = re.compile(r"\b(?:in|at|from|to|near|outside|across|into|of|off|throughout|towards?|around)\s+"
                        r"(?:[a-z][\w-]*\s+)?(?:[A-Z][\w’'-]*\s+)*$")
_NAME_AFTER = re.compile(r"’s|'s|,|[”\"]|\s+[A-Z]")  # a first word followed so is a name: "Miami,", "Sri Lanka"
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b([A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*)")


def _new(text: str, question: str) -> bool:
    return text.lower().strip() not in question.lower()


def key_terms(question: str) -> tuple[set[str], list[list[str]]]:
    """Numbers and names (runs of capitalised words, stemmed: "House Speaker Nancy Pelosi") of a question,
    its time phrases left out ("in June 2022": an article dates its news by publication, ``without_time_phrases``)."""
    text = without_time_phrases(CONTEXT_NOTE.sub("", question).strip())
    numbers = {number_value(n) for n in FREE_NUMBER.findall(text)}
    names = []
    for match in _NAME.finditer(text):
        words = [w.strip("’'").removesuffix("’s").removesuffix("'s").lower() for w in re.split(r"[\s-]+", match.group(1))]
        words = [stem(w) for w in words if w not in _COMMON_CAPITALS | STOPWORDS and len(w) > 1 and not w.isdigit()]
        names += [words] if words else []
    return numbers, names


_COMMON_CAPITALS = set("""i us u.s dr mr mrs ms however meanwhile former last officials police authorities like every
still instead despite although though even later earlier yesterday today""".split())  # + STOPWORDS


def mentions_key_terms(question: str, evidence: Evidence | str) -> bool:
    """The article (``Evidence`` or its chunks' text) mentions all the question's numbers and nearly all its
    names, by stem: by a name's last word ("Pelosi", not a generic one), most words or initials ("UK")."""
    numbers, names = key_terms(question)
    haystack = evidence if isinstance(evidence, str) else f"{evidence.title} {evidence.text}"
    if any(n not in haystack.lower().replace(",", "") for n in numbers):
        return False
    stems = text_stems(haystack.replace("-", " ")) | text_stems(haystack)  # "Moo-jin" has "jin"
    # "most" is more than half: "World Chess Boxing Olympiad" with 2 of its 4 words known is unknown
    missing = [n for n in names if (n[-1] not in stems or n[-1] in GENERIC_NAME_WORDS) and 2 * sum(w in stems for w in n)
               <= len(n) and (len(n) < 2 or "".join(w[0] for w in n) not in stems)]
    return len(missing) <= len(names) // 3


# a name ending in one of these is not known by its last word ("Quorvex Biologics", "Gobi Desert")
GENERIC_NAME_WORDS = {stem(w) for w in """inc corp company group holdings airlines bank university college council party
association foundation institute agency department ministry committee commission club league festival tower bridge
park city county state island river lake mountain desert sea ocean street square airport station stadium hospital
school museum times post news media studios motors biologics pharmaceuticals labs technologies systems energy games
cup award prize olympics olympiad contest summit treaty act war day""".split()}


# --- who said it: "What did China's foreign ministry say?" is answered only by what that speaker said -------
# the verbs of saying, judging and announcing a "what did X ...?" question asks about X's words by
_SAYING = ("say|said|tell|call|announce|criticize|criticise|claim|warn|describe|reveal|predict|promise|propose|"
           "accuse|deny|confirm|argue|suggest|demand|threaten|urge|write|post|tweet|blame|praise|admit|insist|vow|"
           "pledge|reply|respond|comment|state|recommend|ask")
_SPEAKER = re.compile(rf"\bwhat (?:did|does|do|has|have|had|will|would) (?P<who>(?:[\w’'.-]+ ){{0,5}}?[\w’'.-]+) "
                      rf"(?:{_SAYING})\b", re.I)
_NOT_A_SPEAKER = {"it", "he", "she", "they", "we", "you", "i", "this", "that", "the report", "the article",
                  "the study", "the statement", "people", "officials", "experts", "critics", "the news"}
# how far before a quote its speaker may be named: '"With the congress approaching, ...," he observed.' names
# Yang Moo-jin a sentence earlier (seed article); 300 characters is about two sentences (a choice)
SPEAKER_REACH = 300
# the words of a speaker that is not a name stand at most this many words apart beyond their own count
# ("the foreign ministry of China": 1 between them) (a choice)
SPEAKER_GAP = 3


def speaker_of(question: str) -> str | None:
    """The speaker a "what did X say/call/announce ...?" question asks about, or None."""
    match = _SPEAKER.search(CONTEXT_NOTE.sub("", question))
    who = match.group("who").strip() if match else None
    return None if not who or who.lower() in _NOT_A_SPEAKER else who


def names_speaker(speaker: str, text: str) -> bool:
    """Whether ``text`` names ``speaker``: a person's or outlet's name by any of its words ("Kim" for
    "Kim Jong Un"), anything else by all of them ("China's foreign ministry" is not "the defense ministry"
    near "a mission to China")."""
    parts = re.findall(r"[\w’'-]+", speaker)
    wanted = content_stems(speaker.replace("-", " "))
    if not wanted:
        return True
    if all(w[0].isupper() for w in parts):  # a name
        found = text_stems(text.replace("-", " ")) | text_stems(text)
        return bool(wanted & found - GENERIC_NAME_WORDS)
    # all of its words, close together: "a Chinese Foreign Ministry spokesperson", "the foreign ministry of
    # China", not "accused China of [30 words] by its Ministry of Foreign Affairs" (Taiwan's, gold corpus)
    stems = [stem(w) for w in words(text.replace("-", " "))]
    reach = len(wanted) + SPEAKER_GAP
    return any(wanted <= set(stems[i:i + reach]) for i, w in enumerate(stems) if w in wanted)


def speaker_named(speaker: str | None, evidence: Evidence, start: int, end: int) -> bool:
    """Whether the article names ``speaker`` in the quote ``start:end`` (article offsets) or just before it."""
    if speaker is None:
        return True
    offset = evidence.start
    lo, hi = max(0, start - offset - SPEAKER_REACH), max(0, end - offset)
    window = evidence.text[lo:hi] if hi > lo else ""
    return names_speaker(speaker, window or evidence.text)


RECENT = re.compile(r"\b(?:this|last|past) (?:week|weekend|month)\b|\b(?:today|tonight|yesterday|recently)\b", re.I)
PAST_YEAR = re.compile(r"\b(?:in|since|during|until|by)\s+((?:19|20)\d\d)\b(?!\s+(?!and\b|or\b)[a-z])")
