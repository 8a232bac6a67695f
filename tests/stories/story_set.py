"""Articles written for the story tests: Hurricane Delia reported four times by two outlets over a week, its
death toll moving from 12 to 19 and the two outlets giving different tolls on March 5; Tropical Storm Gordo, the
same kind of event elsewhere that week (a different story); and a bakery opening (no story at all)."""

from __future__ import annotations

import json
from pathlib import Path

DELIA = [
    ("delia-1.json", "https://gazette.example/2023/03/02/delia-landfall", "gazette.example", "2023-03-02",
     "Hurricane Delia makes landfall near Port Alden, killing 12",
     "Hurricane Delia made landfall near Port Alden on Thursday with winds of 120 mph, and officials said 12 people "
     "were killed as the storm tore through the coastal county of Marlow. Governor Ruth Caldera declared a state of "
     "emergency for Marlow County and asked residents of the barrier islands to stay in shelters. Power was out for "
     "most of Port Alden, and the Marlow sheriff said rescue crews could not yet reach the islands."),
    ("delia-2.json", "https://herald.example/2023/03/05/delia-toll-17", "herald.example", "2023-03-05",
     "Delia death toll climbs in Marlow County as rescuers reach the islands",
     "The death toll from Hurricane Delia rose to 17 people on Sunday as rescue crews reached the barrier islands "
     "off Port Alden, the Marlow County sheriff said. Governor Ruth Caldera toured the damage in Port Alden and "
     "promised state money to rebuild the causeway that Delia washed away. Thousands of homes in Marlow County "
     "were still without power."),
    ("delia-3.json", "https://gazette.example/2023/03/05/delia-islands", "gazette.example", "2023-03-05",
     "Rescuers reach Marlow islands after Hurricane Delia",
     "Rescue crews reached the barrier islands off Port Alden on Sunday, and the death toll from Hurricane Delia "
     "rose to 15 people, Marlow County officials said. Governor Ruth Caldera said the causeway to the islands would "
     "be rebuilt with state money. Power returned to parts of Port Alden."),
    ("delia-4.json", "https://herald.example/2023/03/09/delia-final-toll", "herald.example", "2023-03-09",
     "Hurricane Delia toll reaches 19 as Marlow County begins to rebuild",
     "The death toll from Hurricane Delia reached 19 people on Thursday, a week after the storm made landfall near "
     "Port Alden, the Marlow County sheriff said. Governor Ruth Caldera signed an order to rebuild the causeway to "
     "the barrier islands, and most of Port Alden had power again."),
]
GORDO = ("gordo.json", "https://herald.example/2023/03/06/gordo-texas", "herald.example", "2023-03-06",
         "Tropical Storm Gordo floods Corpus Verde",
         "Tropical Storm Gordo flooded the Texas town of Corpus Verde on Monday, and Mayor Dan Okafor said two people "
         "were missing after the Brazos Fork river broke its banks. The National Weather Service said Gordo would "
         "weaken over the Texas hill country. Schools in Corpus Verde were closed.")
BAKERY = ("bakery.json", "https://gazette.example/2023/03/04/bakery", "gazette.example", "2023-03-04",
          "A new bakery opens on Elm Street",
          "A family bakery opened on Elm Street in Westfield on Saturday, selling sourdough loaves and cinnamon buns "
          "baked before dawn. The owners, Ana and Luis Pereira, said they had saved for ten years to open the shop.")


def write(folder: Path, items=(*DELIA, GORDO, BAKERY)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, url, source, day, title, text in items:
        (folder / name).write_text(json.dumps({"url": url, "source": source, "published_at": day, "title": title,
                                               "text": text}))
    return folder


def story_state(catalog) -> dict:
    """What must equal a clean run's: every story row and every article's story, by URL."""
    urls = {b.id: b.url for b in catalog.article_briefs(list(catalog.article_hashes())).values()}
    rows = catalog.story_list(min_articles=1, limit=1000)
    members = {urls[a]: row.id for row in rows for a in catalog.story_articles(row.id)}
    return {"stories": sorted(rows, key=lambda r: r.id), "members": members}
