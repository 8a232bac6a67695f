"""The reader of numbered sentences (rag/reader.py) over an archive written for the tests, with the protocol
stub as the model (the real 1.5B: test_reader_real.py). One test per cause of wrong answers on a real
archive: dates in the question, context worded otherwise, the answer beside the matching sentence, the
latest value of a story, a claim about an earlier year, no quote that is not an answer, and answers of
the wrong kind to questions the articles cannot answer."""

import pytest
from pydantic import SecretStr

from prompts import REFUSAL
from rag.engine import NewsDesk
from rag.retriever import NEWER
from tests.rag.archive_articles import write_archive
from tests.rag.checks.sheets import articles_sheet
from tests.rag.llm_stub import StubLLM


@pytest.fixture(scope="module")
def archive_settings(tmp_path_factory, embedder):
    from index.sync import Indexer
    from settings import Settings

    root = tmp_path_factory.mktemp("archive")
    settings = Settings(_env_file=None, home=root / "home")
    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([write_archive(root / "articles")])
    indexer.close()
    return settings


@pytest.fixture(scope="module")
def stub():
    with StubLLM() as server:
        yield server


def reader_desk(archive_settings, embedder, stub, behaviour: str) -> NewsDesk:
    """A desk whose model (the stub, answering as ``behaviour`` says) reads numbered sentences."""
    settings = archive_settings.updated(answer_mode="llm", answer_format="sentences", llm_base_url=stub.url,
                                        llm_model=behaviour, llm_api_key=SecretStr("sk-test"), llm_timeout=5.0,
                                        llm_max_retries=0)
    return NewsDesk(settings, embedder=embedder)


def ask(archive_settings, embedder, stub, behaviour: str, question: str):
    desk = reader_desk(archive_settings, embedder, stub, behaviour)
    try:
        answer = desk.ask(question)
        for citation in answer.citations:  # every citation is a sentence of its article, at its offsets
            assert desk.catalog.article_text(citation.article_id)[citation.start:citation.end] == citation.quote
        return answer
    finally:
        desk.close()


def test_a_question_that_says_when_is_answered(archive_settings, embedder, stub):
    """"in June 2023": the article says "on Saturday"; the date words are a window, not words to find."""
    answer = ask(archive_settings, embedder, stub, "read:Forty", "How many goats escaped from the Elmstead farm in "
                                                                 "June 2023?")
    assert not answer.refused and answer.answer.startswith("Forty [1]")
    assert answer.citations[0].url == "https://farm.example/elmstead-goats"
    request = stub.requests[-1]["body"]
    assert request["response_format"]["json_schema"]["schema"]["required"] == ["sentence", "answer"]


def test_context_worded_otherwise_reaches_the_model(archive_settings, embedder, stub):
    """"Dutch-born" is in no article: the question is not refused before the model reads the sentences."""
    asked = len(stub.requests)
    answer = ask(archive_settings, embedder, stub, "read:Petra Vance", "Which Dutch-born minister approved the "
                                                                       "Harlow tram extension?")
    assert len(stub.requests) == asked + 1 and not answer.refused and "Petra Vance [1]" in answer.answer


def test_the_answer_beside_the_matching_sentence_is_read_and_cited(archive_settings, embedder, stub):
    """The lead repeats the question; the next sentence names the minister. It is on the sheet, and an answer
    the model gives with the number of the sentence beside it is cited to the sentence that states it."""
    desk = reader_desk(archive_settings, embedder, stub, "misread:Petra Vance")
    plan = desk.plan("Which minister approved the Harlow tram extension?")
    sheet = desk.reader.sheet(plan, desk.evidence(plan))
    texts = [s.text for s in sheet.sentences]
    assert any(t.startswith("The Harlow tram extension was approved") for t in texts)
    assert any("Transport Minister Petra Vance" in t for t in texts)
    answer = desk.ask("Which minister approved the Harlow tram extension?")
    assert not answer.refused and "Transport Minister Petra Vance" in answer.citations[0].quote
    desk.close()


def test_a_latest_value_question_reads_the_newest_report(archive_settings, embedder, stub):
    """Three reports of the Dunmore toll (12, 19, 23); the newest is in an article about a bridge and ranks
    lower. It is found, read first, and the model's pick of an older report is read again from it; the
    answer says which report it replaced."""
    desk = reader_desk(archive_settings, embedder, stub, "read:19|23")
    question = "How many people did the Dunmore floods kill, according to the latest count?"
    plan = desk.plan(question)
    assert plan.latest
    evidence = desk.evidence(plan)
    assert any(e.query == NEWER or e.url.endswith("dunmore-bridge") for e in evidence)
    first = desk.reader.sheet(plan, evidence).articles[0][0]
    assert first.url == "https://local.example/dunmore-bridge"  # newest first
    answer = desk.ask(question)
    assert answer.answer.startswith("23 [1], as of 2023-03-20.") and "earlier report (2023-03-09)" in answer.answer
    assert [c.url for c in answer.citations] == ["https://local.example/dunmore-bridge",
                                                 "https://daily.example/dunmore-toll"]
    desk.close()


def test_a_claim_about_an_earlier_year_is_not_this_weeks_news(archive_settings, embedder, stub):
    """"Raw milk sales had been legalized in Vermont in 2019, but a court struck the law down" shares the words
    of "which state legalized raw milk sales this week?" and names a state; it is not this week's news."""
    question = "Which state legalized raw milk sales this week?"
    answer = ask(archive_settings, embedder, stub, "read:Vermont", question)
    assert answer.refused and answer.answer == REFUSAL and "earlier year" in answer.notes[-1]
    assert "Oregon [1]" in ask(archive_settings, embedder, stub, "read:Oregon", question).answer


def test_no_quote_is_shown_when_the_model_finds_no_answer(archive_settings, embedder, stub):
    """Sentence 0 is a refusal, not a cue for a fallback quote; a question about a time after the newest
    article is refused saying where the collection ends, without asking the model."""
    answer = ask(archive_settings, embedder, stub, "read:", "Who designed the Harlow tram extension?")
    assert answer.refused and not answer.citations and "found no sentence" in answer.notes[-1]
    asked = len(stub.requests)
    answer = ask(archive_settings, embedder, stub, "read:Twelve", "Who won the 2031 Harbour Cup?")
    assert answer.refused and len(stub.requests) == asked and "the newest of them is from 2023-06-14" in answer.answer


def test_the_prose_fallback_quotes_only_a_sentence_that_holds_the_answer(archive_settings, embedder, stub):
    """Prose the checks cannot verify falls back to the extractive quote only when it holds an answer of the kind
    asked: "The first Harbour Cup sailing race will be held in 2031" does not say who won."""
    desk = NewsDesk(archive_settings.updated(answer_mode="llm", answer_format="prose", llm_base_url=stub.url,
                                             llm_model="uncited", llm_api_key=SecretStr("sk-test"),
                                             llm_timeout=5.0, llm_max_retries=0), embedder=embedder)
    answer = desk.ask("Who won the Harbour Cup sailing race?")
    assert answer.refused and not answer.citations
    desk.close()


def test_an_answer_of_the_wrong_kind_is_withheld(archive_settings, embedder, stub):
    """"9,000" is in an article about the tram, but it counts riders: it is no length ("how long": a duration
    or a distance)."""
    answer = ask(archive_settings, embedder, stub, "read:9,000", "How long is the Harlow tram extension?")
    assert answer.refused and "does not give the duration asked for" in answer.notes[-1]


def test_a_two_article_question_is_answered_in_steps(archive_settings, embedder, stub):
    """Each event is read and cited on its own; its weekday is read from its article's date; code compares."""
    answer = ask(archive_settings, embedder, stub, "read:Saturday",
                 "Was the Harlow tram extension approved before the goats escaped from the Elmstead farm?")
    assert answer.answer.startswith("Yes.") and "Saturday, March 11, 2023 [1]" in answer.answer
    assert "Saturday, June 10, 2023 [2]" in answer.answer
    assert [c.url for c in answer.citations] == ["https://metro.example/harlow-tram",
                                                 "https://farm.example/elmstead-goats"]


ENGINEERS_WORDS = ("extractive", "withheld", "verif", "claims", "answerer", "conflict")


def test_notes_are_in_a_readers_words(archive_settings, embedder, stub):
    """What the faces show under an answer says what happened in a reader's words, not the pipeline's."""
    notes = []
    for behaviour, question in [("read:9,000", "How long is the Harlow tram extension?"),
                                ("read:", "Who designed the Harlow tram extension?"),
                                ("read:Vermont", "Which state legalized raw milk sales this week?")]:
        notes += ask(archive_settings, embedder, stub, behaviour, question).notes
    from rag import generative, reader
    notes += [generative.FALLBACK_NOTE, generative.NOT_MENTIONED_NOTE, reader.DECLINED_NOTE]
    assert notes and not [n for n in notes if any(word in n.lower() for word in ENGINEERS_WORDS)]


def test_a_question_ending_in_now_asks_for_the_latest_state(archive_settings, embedder, stub):
    """"Who ... now?" asks where the story stands today, as "latest" does; "now" inside a clause does not."""
    desk = reader_desk(archive_settings, embedder, stub, "read:")
    assert desk.plan("Who runs the Harlow tram now, after the vote?").latest
    assert desk.plan("How many people have the Dunmore floods killed now?").latest
    assert not desk.plan("What do we know now about the Harlow tram extension's route?").latest
    desk.close()


def test_an_order_step_is_dated_by_its_article_when_its_answer_names_no_day(archive_settings, embedder, stub):
    """A step answered with the event's words, not a date, is dated by its sentence ("on Saturday") and its
    article's date: it is not withheld as "no date"."""
    answer = ask(archive_settings, embedder, stub, "read:approved|escaped",
                 "Was the Harlow tram extension approved before the goats escaped from the Elmstead farm?")
    assert answer.answer.startswith("Yes.") and "Saturday, March 11, 2023 [1]" in answer.answer
    assert "Saturday, June 10, 2023 [2]" in answer.answer


def test_the_first_ranked_article_is_read_when_it_names_what_the_question_names(archive_settings, embedder, stub):
    """Retrieval's first article is read whatever its sentences score, unless it does not name what the question
    names (a goals count of another match), or the question asks for the latest state (recency ranked it)."""
    from datetime import datetime, timezone

    from rag.reader import SentenceReader
    from rag.types import Evidence

    desk = reader_desk(archive_settings, embedder, stub, "read:")
    day = datetime(2023, 3, 2, tzinfo=timezone.utc)
    flood = Evidence("c1", "a1", "Flash floods hit Dunmore", "local.example", None, day,
                     "At least 12 people were killed in the Dunmore floods.", 0, 10)
    hockey = Evidence("c2", "a2", "Avalanche win the cup", "sport.example", None, day,
                      "Artturi Lehkonen scored the game-deciding goal.", 0, 10)
    asked = desk.plan("Who said the Dunmore floods killed people in March 2023?")
    assert SentenceReader._first_read(asked, [flood, hockey])
    assert not SentenceReader._first_read(asked, [hockey, flood])
    latest = desk.plan("How many people have the Dunmore floods killed, according to the latest count?")
    library = Evidence("c3", "a3", "Dunmore library extends its hours", "local.example", None, day,
                       "The public library in Dunmore will open on Sundays from June.", 0, 10)
    assert not SentenceReader._first_read(latest, [library, flood])  # recency ranked it first
    desk.close()


def test_a_latest_figure_is_read_again_from_the_newest_reports_sentences_together(archive_settings, embedder, stub):
    """The newest report's first sentence with a number is another measure ("62 consecutive days"); its figure
    is in the next sentence. Both are read again together, and the newest figure replaces the older one."""
    desk = reader_desk(archive_settings, embedder, stub, "read:$4.17|$3.96")
    old_text = "The average price for a gallon of regular gasoline touched $4.17, according to AAA."
    new_texts = ["Gas prices have fallen for 62 consecutive days.",
                 "The national average for a gallon of regular gas stood at $3.96 Monday, according to AAA."]
    sheet = articles_sheet(("2023-08-16", new_texts), ("2023-03-08", [old_text]))
    plan = desk.plan("What is the latest national average price for a gallon of regular gas, according to AAA?")
    assert plan.latest
    read = desk.reader.read(plan, [], lambda: desk.llm, sheet)
    assert read.claim.answer == "$3.96" and read.claim.sentence.text == new_texts[1]
    assert read.claim.earlier is not None and read.claim.earlier.text == old_text
    desk.close()


def test_a_newer_report_replaces_a_figure_only_with_a_figure(archive_settings, embedder, stub):
    """A newer report whose sentence the model answers in words ("hoping") does not replace a figure: the
    answer stays the older report's range."""
    desk = reader_desk(archive_settings, embedder, stub, "read:3%-3.25%|hoping")
    old_text = "The hike takes the Federal Reserve's benchmark rate to a new target range of 3%-3.25%."
    new_text = "Wall Street is hoping that the data will convince the Federal Reserve to pull back on its rate increases."
    sheet = articles_sheet(("2023-11-11", [new_text]), ("2023-09-21", [old_text]))
    plan = desk.plan("What is the Federal Reserve's current target range for its benchmark rate?")
    assert plan.latest
    read = desk.reader.read(plan, [], lambda: desk.llm, sheet)
    assert read.claim.answer == "3%-3.25%" and read.claim.sentence.text == old_text
    desk.close()
