"""The stories group: which articles tell one story, and what a timeline shows."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from settings.base import ENV as _ENV


class StorySettings(BaseSettings):
    """How articles are linked into stories (``stories.links``, ``stories.clusters``) and how a story's
    timeline is built (``stories.timeline``)."""

    model_config = _ENV

    stories_enabled: bool = Field(True, description="Keep stories as articles arrive (a choice: off leaves the story "
                                            "tables as they are and the Stories faces empty).")
    story_max_gap_days: int = Field(21, ge=0, le=60, description=(
        "Two articles more than this many days apart are never linked directly (a story that goes on longer is "
        "chained through the reports between). Chosen on the odd half of the labelled stories set "
        "(evals/data/stories, `python -m evals.story_report --split odd`): see "
        "docs/benchmarks/2026-12-07-stories.md."))
    story_name_weight: float = Field(0.06, ge=0, le=0.5, description=(
        "What each name two articles share adds to their vectors' cosine. Chosen on the odd half of the labelled "
        "stories set (evals/data/stories, `python -m evals.story_report --split odd`): see "
        "docs/benchmarks/2026-12-07-stories.md."))
    story_name_cap: int = Field(6, ge=0, le=50, description="At most this many shared names count.")
    story_link_score: float = Field(0.75, ge=0, le=3, description=(
        "The score from which two articles are linked. Chosen on the odd half of the labelled stories set "
        "(evals/data/stories, `python -m evals.story_report --split odd`): see "
        "docs/benchmarks/2026-12-07-stories.md."))
    story_cut_score: float = Field(0.6, ge=0, le=3, description=(
        "Average linkage splits a linked group where the mean score of its articles' pairs (at any distance in "
        "days) falls below this. Chosen on the odd half of the labelled stories set (evals/data/stories, `python "
        "-m evals.story_report --split odd`): see docs/benchmarks/2026-12-07-stories.md."))
    story_name_chars: int = Field(1500, ge=0, description="Names are read from the title and this many characters "
                                                          "of the text (a choice: the lead, where a report names "
                                                          "who and where).")
    story_lead_chunks: int = Field(2, ge=1, description="An article's vector is the mean of its first this many "
                                                        "chunks' vectors (a choice: the lead tells the event).")
    story_batch: int = Field(200, ge=1, description="Articles linked per catalog transaction when many arrive at "
                                                    "once (a choice: bounds memory and a transaction's length).")
    timeline_min_words: int = Field(8, ge=1, description="A timeline entry is a sentence of at least this many "
                                                         "words (a choice: shorter lines are datelines, captions "
                                                         "and bylines).")
    timeline_repeat_overlap: float = Field(0.5, gt=0, le=1, description="A report whose lead shares this share of "
                                                                        "its content words with an earlier entry "
                                                                        "repeats it: its outlet joins that entry.")
    timeline_figure_sentences: int = Field(12, ge=1, description="Figures are read from each report's first this "
                                                                 "many sentences (a choice: the lead and nut graf, "
                                                                 "where a report states its news).")
    timeline_lead_sentences: int = Field(4, ge=1, description="An entry is chosen among a report's first this many "
                                                              "sentences: the one naming most of what the story's "
                                                              "titles name (a choice: live blogs open with "
                                                              "furniture).")
    timeline_news_sentences: int = Field(6, ge=0, description="A report's second entry is the first of its first "
                                                              "this many sentences that states a number new to the "
                                                              "story (0: none); tuned on the stories set's odd half "
                                                              "(`python -m evals.story_report --split odd`): see "
                                                              "the stories benchmark page (docs/benchmarks).")
    story_answer_entries: int = Field(5, ge=1, le=20, description="Timeline entries in the answer to a story question "
                                                                   "(\"what's the latest on ...\", \"how did ... "
                                                                   "unfold\"): a choice, a short answer.")
