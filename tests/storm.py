"""The articles of the stories tests of the faces (CLI, HTTP API, MCP, the Stories page): a cyclone reported four
times by two outlets over a week, with a moving death toll and one disagreement, and an article about
something else; how they are indexed, and the story's timeline as ``StoryQueries`` gives it."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_feed

# A small story reported four times by two outlets over a week: the death toll moves 12/14 -> 16 -> 19, and on
# the first day the two outlets disagree (12 against 14); plus an article about something else.
STORM_WORDS = "Cyclone Mira death toll"
STORM = [
    {"url": "https://coastal-herald.example/mira-strikes", "title": "Cyclone Mira batters Port Elin",
     "source": "coastal-herald.example", "published_at": "2022-03-02",
     "text": "Cyclone Mira struck Port Elin on Wednesday, and the death toll stood at 12 on Wednesday night as "
             "floodwaters swept through the harbour district.\nThe storm brought winds of 150 km/h and knocked out "
             "power to most of the town. Mayor Ana Duval said rescue teams were searching flooded homes along the "
             "Elin river.\nThe regional weather office warned that more rain would fall on Thursday."},
    {"url": "https://island-times.example/mira-landfall", "title": "Cyclone Mira makes landfall at Port Elin",
     "source": "island-times.example", "published_at": "2022-03-02",
     "text": "Officials in Port Elin put the death toll at 14 on Wednesday after Cyclone Mira made landfall and "
             "flooded the harbour district.\nMayor Ana Duval asked residents along the Elin river to move to higher "
             "ground while rescue teams searched the flooded homes.\nPower was out across most of Port Elin on "
             "Wednesday night."},
    {"url": "https://coastal-herald.example/mira-toll-rises", "title": "Cyclone Mira death toll rises in Port Elin",
     "source": "coastal-herald.example", "published_at": "2022-03-05",
     "text": "Rescue teams reached the villages along the Elin river on Saturday, and Cyclone Mira's death toll rose "
             "to 16.\nMayor Ana Duval said the harbour district of Port Elin was still under water and that 2,000 "
             "residents were sleeping in shelters.\nAid flights from the capital began landing at the Port Elin "
             "airfield on Saturday."},
    {"url": "https://island-times.example/mira-one-week", "title": "Port Elin mourns a week after Cyclone Mira",
     "source": "island-times.example", "published_at": "2022-03-09",
     "text": "Schools in Port Elin stayed shut on Wednesday, a week after Cyclone Mira struck, as the death toll "
             "reached 19.\nMayor Ana Duval said rebuilding the harbour district would take months.\nSchools in Port "
             "Elin are due to reopen on Monday."},
]
CHEESE_FAIR = {"url": "https://valley-post.example/cheese-fair", "title": "Alpine cheese fair draws record crowd",
               "source": "valley-post.example", "published_at": "2022-03-04",
               "text": "The alpine cheese fair in Grindelwald drew 8,400 visitors on Friday, the largest crowd in its "
                       "40-year history.\nOrganisers said 63 dairies from three cantons showed their cheeses, and the "
                       "prize for the best mountain cheese went to a farm near Lauterbrunnen.\nThe fair continues "
                       "through Sunday."}


def write_stories(folder: Path) -> Path:
    """The storm's four reports and the cheese fair as one JSONL file of articles."""
    return write_feed(folder, [*STORM, CHEESE_FAIR])


def index_with_stories(settings, paths, embedder=None):
    """Indexes ``paths`` as every writer does: the indexer keeps their stories once its writes settle
    (``stories.hooks``); returns the sync report."""
    from index.sync import Indexer

    indexer = Indexer(settings, embedder=embedder)
    try:
        return indexer.sync([str(p) for p in paths])
    finally:
        indexer.close()


def storm_story(settings) -> tuple[str, dict]:
    """The storm story's id and its timeline as ``StoryQueries`` gives it (JSON-shaped), read from the catalog."""
    from index.catalog import open_catalog
    from stories.queries import StoryQueries

    catalog = open_catalog(settings, read_only=True)
    try:
        queries = StoryQueries(catalog, settings)
        story_id = queries.find(STORM_WORDS)
        assert story_id is not None, "the storm's reports are not one story"
        return story_id, queries.timeline(story_id).to_dict()
    finally:
        catalog.close()
