"""``stories.facts``: the figures a sentence states and what each counts; years, dates, ages and times are not
figures of anything, and a count of people who died is a death toll however it is worded."""

from __future__ import annotations

import pytest

from stories.facts import figures


@pytest.mark.parametrize("sentence, expected", [
    ("At least 17 deaths have been reported in connection with Ian.", [("death toll", "17", 17.0)]),
    ("Officials say Ian killed at least 76 people in Florida.", [("death toll", "76", 76.0)]),
    ("The death toll rose to 47 on Monday.", [("death toll", "47", 47.0)]),
    ("The $2.04 billion jackpot was won in California.", [("jackpot", "$2.04 billion", 2.04e9)]),
    ("Health officials counted 1,814 probable cases.", [("probable", "1,814", 1814.0)]),
])
def test_figures_and_what_they_count(sentence, expected):
    assert [(f.label, f.printed, f.value) for f in figures(sentence)] == expected


@pytest.mark.parametrize("sentence", [
    "The storm hit on Oct. 27, 2022, and again in 2023.",
    "A 47-year-old man was arrested.",
    "The meeting starts at 3 p.m.",
])
def test_years_dates_ages_and_times_are_not_figures(sentence):
    assert figures(sentence) == []
