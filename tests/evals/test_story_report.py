"""The ``stories`` suite and ``bench stories`` on a small index of real RealTime QA articles: two labelled stories
and a hard negative of each. The figures are counted from the labels and the stories made, each pair and article
accounted for; the index is copied, never written."""

from __future__ import annotations

import gzip
import json

import pytest

from evals.bench.stories import run_stories_bench
from evals.datasets import datasets_dir
from evals.story_report import load_labels, run
from index.sync import Indexer
from settings import Settings


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    stories, pairs = load_labels("all")
    wanted = {url for story in stories[:2] for url in story["articles"][:5]}
    wanted |= {p[k] for p in pairs if p["kind"] == "hard_negative" and (p["a"] in wanted or p["b"] in wanted)
               for k in ("a", "b")}
    base = tmp_path_factory.mktemp("stories-suite")
    with gzip.open(datasets_dir() / "realtimeqa-articles" / "articles.jsonl.gz", "rt", encoding="utf-8") as corpus:
        lines = [line for line in corpus if json.loads(line)["url"] in wanted]
    (base / "articles.jsonl").write_text("".join(lines), encoding="utf-8")
    settings = Settings(_env_file=None, home=base / "home")
    indexer = Indexer(settings)
    indexer.sync([base / "articles.jsonl"])
    indexer.close()
    return settings, {json.loads(line)["url"] for line in lines}


def test_the_suite_accounts_for_every_labelled_pair_and_article(home):
    settings, urls = home
    before = (settings.index.home / "catalog.sqlite").stat().st_mtime_ns
    figures = run(settings.index.home, settings, "all")
    _, pairs = load_labels("all")
    assert figures["pairs"]["pairs"] + figures["pairs"]["not_indexed"] == len(pairs)
    scored = [pair for pair in pairs if pair["a"] in urls and pair["b"] in urls]
    p = figures["pairs"]
    assert p["pairs"] == len(scored)
    assert p["tp"] + p["fn"] == sum(1 for pair in scored if pair["same"])
    assert p["fp"] <= sum(1 for pair in scored if not pair["same"])
    stories, _ = load_labels("all")
    assert figures["clusters"]["articles"] == sum(1 for s in stories for url in s["articles"] if url in urls)
    assert figures["build"]["articles_linked"] == len(urls)
    assert figures["timelines"]["stories"] >= 1
    for row in figures["timelines"]["per_story"]:
        assert row["entries_correct"] <= row["entries"] and row["events_found"] <= row["events"]
    assert (settings.index.home / "catalog.sqlite").stat().st_mtime_ns == before


def test_the_bench_times_every_sampled_arrival(home):
    settings, urls = home
    figures = run_stories_bench(settings, settings.index.home, sample=3, timeline_min=2)
    assert figures["articles"] == len(urls)
    assert figures["assign_ms"]["articles"] == 3
    assert figures["assign_ms"]["p50"] <= figures["assign_ms"]["p95"] <= figures["assign_ms"]["max"]
    assert figures["timeline_seconds"]["stories"] >= 1
