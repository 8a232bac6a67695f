"""A crafted wire-copy set, written as real Markdown files: one AP story re-published by three outlets
with small edits, an exact copy of one of them under another URL, and a different story on the same
topic (the same fire, a day later, in other words) that must not be folded with them."""

from __future__ import annotations

from pathlib import Path

AP_STORY = """FLAGSTAFF, Ariz. (AP) — A fast-moving wildfire fanned by strong winds forced the evacuation of more than 2,000 homes on the outskirts of Flagstaff on Tuesday, as firefighters struggled to keep the flames away from a highway that links the city to the Grand Canyon.

The Pipeline Fire had burned about 6 square miles (15 square kilometers) of grass and ponderosa pine by late afternoon, according to the Coconino National Forest. No injuries were reported, but officials said at least two outbuildings had been destroyed and that the number could rise once crews were able to reach the area.

Coconino County Sheriff Jim Driscoll said deputies went door to door in several neighborhoods north of the city, telling residents they had minutes to leave. Some residents drove away with horses in trailers while others left with little more than their pets and their medication.

"The wind is pushing it right at us, and there is not much we can do until it lays down," fire information officer Kaitlyn Webb said at an evening briefing. She said gusts of up to 50 mph (80 kph) had grounded the air tankers for much of the day.

The fire was reported shortly before 10:30 a.m. near a trail head off U.S. Highway 180. Investigators have not determined a cause, but forest officials said the area had seen heavy use by hikers and campers over the holiday weekend.

An evacuation center was opened at a high school in Flagstaff, and the American Red Cross said about 150 people had checked in by the evening. Animal shelters offered to take in pets and livestock for free.

Northern Arizona has been gripped by drought for more than two decades, and forecasters warned that dry and windy weather would continue through the end of the week. Fire restrictions were already in place across much of the state, and officials said they would consider closing the national forest if conditions did not improve.

The blaze is the largest in the region since the Tunnel Fire burned about 30 square miles (78 square kilometers) and destroyed more than two dozen homes in April."""

SAME_TOPIC = """FLAGSTAFF, Ariz. — Crews made their first real progress against the Pipeline Fire on Wednesday as calmer winds let air tankers drop retardant along the ridges north of town, and some of the residents who fled a day earlier were told they could go home.

The fire has now grown to roughly 9 square miles, but fire managers said it was 12% contained by the evening and that the line along U.S. 180 had held overnight. About 400 firefighters from four states are assigned to it, with more expected on Thursday.

The county lifted evacuation orders for two neighborhoods closest to the city, while a larger area to the north remains under a "go" order. Deputies warned returning residents to expect smoke and to keep their belongings packed in case conditions change again.

Forest supervisor Laura Jo West said investigators believe the fire was human caused and asked anyone who was near the trail head on Tuesday morning to call a tip line. She said it was too early to say whether anyone would face charges.

Utility crews spent the day replacing power poles that burned along a transmission corridor, and about 1,300 customers were still without electricity in the afternoon. The school district said classes at two campuses would be cancelled for the rest of the week.

Meteorologists said a brief break in the wind would end on Friday, when gusts are forecast to return along with single digit humidity. Fire officials said the next 48 hours would decide how far the fire spreads and urged visitors to avoid the area entirely.

Local businesses, many of which depend on tourists heading to the Grand Canyon, reported cancellations as images of the towering smoke plume spread on social media. The city's tourism office said hotels in town were open and that the main routes to the canyon remained passable.

Residents who were displaced can find updated information on the county's emergency website, which also lists shelters that accept large animals."""


def _edited(text: str, replacements: list[tuple[str, str]], extra: str = "") -> str:
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text + extra


def _md(title: str, source: str, url: str, date: str, text: str) -> str:
    return f"---\ntitle: \"{title}\"\nsource: {source}\nurl: {url}\ndate: {date}\n---\n\n{text}\n"


def write_wire_set(folder: Path) -> dict[str, Path]:
    """Writes the set under ``folder``; returns name -> file."""
    folder.mkdir(parents=True, exist_ok=True)
    stories = {
        "ap": _md("Wildfire forces evacuation of 2,000 homes near Flagstaff", "apnews.com",
                  "https://apnews.com/article/wildfire-flagstaff-evacuations", "2022-06-14", AP_STORY),
        # outlets re-publish with small edits: their own headline, a dateline dropped, a local line added
        "azcentral": _md("Pipeline Fire near Flagstaff forces thousands to evacuate", "azcentral.com",
                         "https://www.azcentral.com/story/news/local/arizona-wildfires/pipeline-fire", "2022-06-14",
                         _edited(AP_STORY, [("FLAGSTAFF, Ariz. (AP) — ", ""), ("on Tuesday", "Tuesday")],
                                 "\n\nThe Arizona Republic contributed to this report.")),
        "kjzz": _md("Evacuations ordered as wind-driven fire grows outside Flagstaff", "kjzz.org",
                    "https://kjzz.org/content/pipeline-fire-flagstaff", "2022-06-14",
                    _edited(AP_STORY, [("more than 2,000 homes", "over 2,000 homes"),
                                       ("about 150 people", "roughly 150 people")])),
        "usatoday": _md("Arizona wildfire: Flagstaff homes evacuated as Pipeline Fire spreads", "usatoday.com",
                        "https://www.usatoday.com/story/news/nation/2022/06/14/pipeline-fire-flagstaff/", "2022-06-15",
                        _edited(AP_STORY, [("Coconino County Sheriff Jim Driscoll", "Sheriff Jim Driscoll")],
                                "\n\nContributing: Associated Press")),
        # the very same text and metadata at another URL of the same outlet
        "ap_copy": _md("Wildfire forces evacuation of 2,000 homes near Flagstaff", "apnews.com",
                       "https://apnews.com/article/wildfire-flagstaff-evacuations?utm_source=feed", "2022-06-14",
                       AP_STORY),
        "followup": _md("Crews gain ground on Pipeline Fire as some Flagstaff evacuees return", "azcentral.com",
                        "https://www.azcentral.com/story/news/local/arizona-wildfires/pipeline-fire-day-two",
                        "2022-06-15", SAME_TOPIC),
    }
    files = {}
    for name, content in stories.items():
        files[name] = folder / f"{name}.md"
        files[name].write_text(content, encoding="utf-8")
    return files
