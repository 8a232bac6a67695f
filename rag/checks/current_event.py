"""``CurrentEvent``: a question about the last days is not answered by an earlier year's event."""

from __future__ import annotations

from rag.asked import PAST_YEAR, RECENT
from rag.checks import Claim, Verdict
from rag.selection import Sheet


class CurrentEvent:
    """A question about the last days ("this week", "recently") is not answered by a sentence that dates what it
    tells to an earlier year: "Legalization had passed in South Dakota in 2020" is background in a 2022
    article, not what happened this week."""

    def check(self, claim: Claim, sheet: Sheet) -> Verdict:
        published = claim.sentence.evidence.published_at if claim.sentence else None
        if published is None or not RECENT.search(claim.question):
            return Verdict(True, claim.sentence)
        if any(int(year) < published.year for year in PAST_YEAR.findall(claim.sentence.text)):
            return Verdict(False, None, "the sentence cited tells of an earlier year, not of the days asked about")
        return Verdict(True, claim.sentence)
