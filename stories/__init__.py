"""Stories: the articles that report one event or developing situation, across outlets and days, kept as
articles arrive (``StoryKeeper``), read by the faces (``StoryQueries``) with their timelines."""
