"""A small archive written for the tests (not archive-qa's articles): a flood toll reported three times, the
newest in an article about something else; a decision whose lead repeats the question while the next sentence
names who made it; an event dated by its weekday; a background sentence about an earlier year; and articles of
other stories around them."""

from __future__ import annotations

import json
from pathlib import Path

ARTICLES = [
    {"url": "https://local.example/dunmore-flood", "source": "local.example", "published_at": "2023-03-02",
     "title": "Flash floods hit Dunmore",
     "text": "Flash floods swept through the river town of Dunmore on Wednesday. At least 12 people were killed in "
             "the Dunmore floods, the county sheriff said. Rescue teams are still searching the river banks."},
    {"url": "https://daily.example/dunmore-toll", "source": "daily.example", "published_at": "2023-03-09",
     "title": "Dunmore flood toll rises",
     "text": "The number of people killed in the Dunmore floods rose to 19 on Thursday, officials said. Many homes "
             "in the river town remain without power."},
    {"url": "https://local.example/dunmore-bridge", "source": "local.example", "published_at": "2023-03-20",
     "title": "Dunmore reopens its river bridge",
     "text": "The river bridge in Dunmore reopened to traffic on Monday after repairs. The floods earlier this month "
             "killed 23 people in Dunmore, according to the final count released by the county. Traffic is "
             "expected to return to normal by April."},
    {"url": "https://metro.example/harlow-tram", "source": "metro.example", "published_at": "2023-03-11",
     "title": "Harlow tram extension approved",
     "text": "The Harlow tram extension was approved on Saturday after years of debate. Transport Minister Petra "
             "Vance said the new line would carry 9,000 riders a day. Construction starts in May."},
    {"url": "https://farm.example/elmstead-goats", "source": "farm.example", "published_at": "2023-06-12",
     "title": "Goats escape from Elmstead farm",
     "text": "Forty goats escaped from a farm in Elmstead on Saturday and wandered into the town square. Farmer "
             "Joan Pike said the gate had been left open."},
    {"url": "https://daily.example/raw-milk", "source": "daily.example", "published_at": "2023-06-14",
     "title": "Lawmakers vote on raw milk sales",
     "text": "Raw milk sales had been legalized in Vermont in 2019, but a court struck the law down. This week, "
             "lawmakers in Oregon legalized raw milk sales at farm shops."},
    {"url": "https://metro.example/harbour-cup", "source": "metro.example", "published_at": "2023-06-13",
     "title": "Harbour Cup sailing race set for 2031",
     "text": "The first Harbour Cup sailing race will be held in 2031, organizers said. Twelve crews have entered."},
    {"url": "https://local.example/library", "source": "local.example", "published_at": "2023-05-02",
     "title": "Dunmore library extends its hours",
     "text": "The public library in Dunmore will open on Sundays from June. Librarian Omar Reyes said visits had "
             "doubled."},
]


def write_archive(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "archive.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    return path
