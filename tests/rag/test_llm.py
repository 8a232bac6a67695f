"""The llm answer path against a deterministic OpenAI-compatible stub server (protocol cases)."""

import logging
import re

import pytest
from pydantic import SecretStr

from prompts import REFUSAL
from rag.generative import FALLBACK_NOTE, NOT_MENTIONED_NOTE
from rag.engine import NewsDesk
from errors import LLMError
from tests.rag.llm_stub import StubLLM

SECRET = "sk-test-newsdesk-0123456789abcdef"


def llm_desk(gold_settings, embedder, stub, model: str, **overrides) -> NewsDesk:
    settings = gold_settings.updated(**{
        "answer_mode": "llm", "llm_base_url": stub.url, "llm_model": model, "llm_timeout": 1.0,
        "llm_max_retries": 1, "llm_api_key": SecretStr(SECRET), **overrides})
    return NewsDesk(settings, embedder=embedder)


def test_streamed_answer_keeps_only_supported_citations(gold_settings, embedder, stub):
    desk = llm_desk(gold_settings, embedder, stub, "answer")
    pieces = list(desk.stream("How many US troops are stationed in South Korea?"))
    answer = pieces[-1]
    streamed = "".join(p for p in pieces[:-1])
    assert answer.mode == "llm" and not answer.refused
    assert "[1]" in answer.answer and "green cheese" not in answer.answer and "[42]" not in answer.answer
    assert "green cheese" not in streamed and "[42]" not in streamed  # nothing unverified is ever streamed
    # "Officials in Lisbon confirmed it [42]": a marker that points to no source is the model's slip, not a citation; the
    # claim is kept only where a source's sentence supports it, as an unmarked claim is
    assert answer.citations[0].n == 1 and all(f"[{c.n}]" in answer.answer for c in answer.citations)
    for quote in answer.citations:
        assert desk.catalog.article_text(quote.article_id)[quote.start:quote.end] == quote.quote
    request = stub.requests[-1]
    assert request["body"]["stream"] is True and request["auth"] == f"Bearer {SECRET}"
    system = request["body"]["messages"][0]["content"]
    assert "data, never" in system and "NOT_IN_ARTICLES" in system
    assert '<source id="1"' in request["body"]["messages"][1]["content"]
    desk.close()


def test_completions_api_for_base_models(gold_settings, embedder, stub):
    desk = llm_desk(gold_settings, embedder, stub, "answer", llm_api="completions")
    answer = desk.ask("How many US troops are stationed in South Korea?")
    assert stub.requests[-1]["path"].endswith("/completions") and "prompt" in stub.requests[-1]["body"]
    assert answer.citations and "green cheese" not in answer.answer
    desk.close()


def test_model_refusal_and_uncited_answers(gold_settings, embedder, stub):
    desk = llm_desk(gold_settings, embedder, stub, "refuse")
    answer = desk.ask("Who won the World Cup?")
    assert answer.refused and answer.answer == REFUSAL and answer.retrieved
    desk = llm_desk(gold_settings, embedder, stub, "uncited", model_fallback=False)
    answer = desk.ask("What happened to the bridge?")
    assert answer.refused and "aliens" not in answer.answer and "not shown" in " ".join(answer.notes)
    desk.close()


def test_an_outcome_after_the_newest_article_is_refused_saying_where_the_collection_ends(gold_settings, embedder,
                                                                                      stub):
    """"Who won the 2023 Super Bowl?" over articles that end in 2022: no article can hold the result, and a
    sentence about the game to come is not an answer. The refusal says where the collection ends; no model
    is asked, and a question about a plan for a later year is asked as usual."""
    desk = llm_desk(gold_settings, embedder, stub, "answer")
    newest = desk.catalog.newest_published()[:10]
    asked = len(stub.requests)
    answer = desk.ask("Who won the 2023 Super Bowl?")
    assert answer.refused and not answer.citations and len(stub.requests) == asked
    assert f"the newest of them is from {newest}" in answer.answer
    assert not desk.ask("What happened in March 2023?", mode="extractive").citations
    assert not desk.plan("Which cities will host the 2026 World Cup?").beyond
    desk.close()


@pytest.mark.parametrize("question", ["What did the prime minister of Liechtenstein say about quantum computing subsidies?",
                                      "Which band headlined the 2029 Glastonbury festival?"])
def test_a_question_whose_names_no_article_mentions_is_refused_without_a_model_call(gold_settings, embedder, stub,
                                                                                    question):
    """Regression (issue 10): the 1.5B answered these two unanswerable questions from the nearest story
    ("Liz Truss ... pledged ...", "Blink-182"), and the sentences passed the support check (they are what
    the quote says, not what was asked)."""
    desk = llm_desk(gold_settings, embedder, stub, "answer")
    answer = desk.ask(question)
    assert answer.refused and answer.answer == REFUSAL and NOT_MENTIONED_NOTE in answer.notes
    assert stub.requests == []  # the model was never asked
    desk.close()


def test_a_claim_cited_to_the_wrong_source_is_cited_to_the_one_that_says_it(gold_settings, embedder, stub):
    """Pins realtimeqa-llm's "Who became the new prime minister of the United Kingdom this week?": the 1.5B
    copied "King Charles III welcomes Sunak ..." from source 2 and marked it [1], so the answer was withheld
    (the quote shown instead was about Truss). A claim no source supports is still dropped."""
    desk = llm_desk(gold_settings, embedder, stub, "wrong-number")
    answer = desk.ask("Who became the new prime minister of the United Kingdom this week?", as_of="2022-10-27")
    assert stub.requests and not answer.refused, answer.notes
    last = re.findall(r'<source id="(\d+)"[^>]*>\n(.*?)\n</source>', stub.requests[-1]["body"]["messages"][-1]["content"], re.S)[-1]
    assert len(answer.citations) == 1 and answer.citations[0].quote in last[1] and int(last[0]) > 1
    assert "cheese" not in answer.answer
    desk.close()


def test_a_model_that_declines_is_not_overruled_by_the_extractive_quote(gold_settings, embedder, stub):
    """The model says the sources do not answer: the refusal stands. Pins the seed suite's "Which airline
    cancelled flights because of the missile test?", which the fallback answered with an unrelated quote."""
    desk = llm_desk(gold_settings, embedder, stub, "refuse")
    answer = desk.ask("How many US troops are stationed in South Korea?")
    assert answer.refused and answer.answer == REFUSAL and FALLBACK_NOTE not in answer.notes
    assert stub.requests  # the model was asked, and declined
    desk.close()


def test_a_claim_is_cited_to_the_sentence_holding_its_answer(settings, seed_file, embedder, stub):
    """Pins the seed suite's "What does South Korea call the Sea of Japan?": the 1.5B wrote "South Korea
    calls the Sea of Japan the East Sea [1]", and the check cited it to the launch sentence (the Sea of
    Japan), which passes once the source's other sentences lend it "East". The quote must hold the answer."""
    from index.sync import Indexer

    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([seed_file])
    indexer.close()
    desk = llm_desk(settings, embedder, stub, "east-sea")
    answer = desk.ask("What does South Korea call the Sea of Japan?")
    assert stub.requests and not answer.refused, answer.notes
    assert [c.quote for c in answer.citations if "East Sea" in c.quote] == [c.quote for c in answer.citations]
    desk.close()


@pytest.mark.parametrize("model, shown", [("premise-no", False), ("premise-yes", True)])
def test_a_claim_repeating_question_words_no_source_holds_is_put_to_the_model(settings, seed_file, embedder, stub,
                                                                              model, shown):
    """Pins the seed suite's "Which airline cancelled flights because of the missile test?": the 1.5B wrote
    "North Korea cancelled flights because of the missile test [1]", which the word checks pass against the
    launch sentence. "cancelled" and "flights" come from the question and no source holds them, so the
    model is asked whether the quote states the claim; that sentence and the ones after it are held until
    then. Told no, the answer is refused without the extractive fallback's unrelated quote."""
    from index.sync import Indexer

    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([seed_file])
    indexer.close()
    desk = llm_desk(settings, embedder, stub, model)
    pieces = list(desk.stream("Which airline cancelled flights because of the missile test?"))
    answer = pieces[-1]
    checks = [r for r in stub.requests if "Could a reader" in stub.prompt_text(r["body"])]
    assert len(checks) == 1 and checks[0]["body"]["max_tokens"] == 3  # one yes/no reply
    assert stub.requests[-1] is checks[0]  # asked once the answer was written
    claim = stub.prompt_text(checks[0]["body"])
    assert "Claim: North Korea cancelled flights because of the missile test." in claim and "<source" in claim
    if shown:
        assert not answer.refused and "cancelled flights" in answer.answer and "two missiles" in answer.answer
        assert "".join(pieces[:-1]).strip() == answer.answer and answer.citations
    else:
        assert answer.refused and answer.answer == REFUSAL and pieces[:-1] == [REFUSAL]
        assert FALLBACK_NOTE not in answer.notes and any("its source does not say it" in n for n in answer.notes)
    desk.close()


def test_without_the_model_check_the_premise_claim_is_shown(settings, seed_file, embedder, stub):
    """The gap the model's check closes (``model_check=False``, as for the local 0.5B)."""
    from index.sync import Indexer

    indexer = Indexer(settings, embedder=embedder)
    indexer.sync([seed_file])
    indexer.close()
    desk = llm_desk(settings, embedder, stub, "premise-no", model_check=False)
    answer = desk.ask("Which airline cancelled flights because of the missile test?")
    assert not answer.refused and "cancelled flights" in answer.answer
    assert not [r for r in stub.requests if "Could a reader" in stub.prompt_text(r["body"])]
    desk.close()


def test_a_supported_sentence_without_the_asked_quantity_is_withheld(gold_settings, embedder, stub):
    """Pins the seed suite's "How far did the missiles fly before landing?": the 1.5B wrote "The missiles
    flew at least two ballistic missiles toward the Sea of Japan [1].", a sentence its quote supports that
    gives no distance. Nothing of it is streamed (the extractive fallback is off here: it has its own tests)."""
    desk = llm_desk(gold_settings, embedder, stub, "answer", model_fallback=False)
    pieces = list(desk.stream("How far did the missiles fly before landing?"))
    answer = pieces[-1]
    assert stub.requests and answer.refused and answer.answer == REFUSAL
    assert [p for p in pieces[:-1]] == [REFUSAL]
    assert any("does not give the distance" in note for note in answer.notes)
    desk.close()


def test_words_given_to_a_speaker_the_quote_does_not_name_are_withheld(gold_settings, embedder, stub):
    """Pins the seed suite's "What did China's foreign ministry say about the launch?": the 1.5B gave Yang
    Moo-jin's words to China's foreign ministry, citing his quote. A quote answers "what did X say?" only
    where the article names X in it or just before it; with none, the fallback finds none either."""
    desk = llm_desk(gold_settings, embedder, stub, "misattribute")
    answer = desk.ask("What did China's foreign ministry say about the launch?")
    assert stub.requests and answer.refused and answer.answer == REFUSAL, answer.answer
    desk.close()


@pytest.mark.parametrize("model", ["uncited"])
def test_a_withheld_model_answer_falls_back_to_a_checked_quote(gold_settings, embedder, stub, model):
    """The model writes nothing verifiable on a question the articles answer: the extractive answer is
    shown instead, cited and marked as such; without the fallback the refusal stands."""
    question = "How many US troops are stationed in South Korea?"
    desk = llm_desk(gold_settings, embedder, stub, model)
    pieces = list(desk.stream(question))
    answer = pieces[-1]
    assert not answer.refused and answer.mode == "llm" and "28,500" in answer.answer
    assert FALLBACK_NOTE in answer.notes and "aliens" not in "".join(map(str, pieces[:-1]))
    quote = answer.citations[0]
    assert desk.catalog.article_text(quote.article_id)[quote.start:quote.end] == quote.quote
    assert "".join(p for p in pieces[:-1] if isinstance(p, str)).strip() == answer.answer.strip()
    desk.close()
    desk = llm_desk(gold_settings, embedder, stub, model, model_fallback=False)
    assert desk.ask(question).refused
    desk.close()


@pytest.mark.parametrize("model, message", [
    ("unauthorized", "rejected the API key (HTTP 401)"),
    ("ratelimit", "rate limiting requests (HTTP 429)"),
    ("servererror", "HTTP 500"),
    ("slow", "did not answer within 1 s"),
    ("malformed", "could not read"),
])
def test_endpoint_failures_are_one_clear_sentence(gold_settings, embedder, stub, caplog, model, message):
    caplog.set_level(logging.DEBUG)
    desk = llm_desk(gold_settings, embedder, stub, model)
    with pytest.raises(LLMError) as error:
        desk.ask("How many US troops are stationed in South Korea?")
    text = str(error.value)
    assert message in text and "\n" not in text and "Traceback" not in text
    assert SECRET not in text and SECRET not in caplog.text
    if model == "ratelimit":
        assert len([r for r in stub.requests if r["body"]["model"] == "ratelimit"]) == 2  # retried once
    desk.close()


def test_unreachable_endpoint(gold_settings, embedder):
    settings = gold_settings.updated(answer_mode="llm", llm_base_url="http://127.0.0.1:9/v1",
                                     llm_model="x", llm_max_retries=0)
    desk = NewsDesk(settings, embedder=embedder)
    with pytest.raises(LLMError, match="Cannot reach the LLM endpoint at http://127.0.0.1:9/v1"):
        desk.ask("anything at all?")
    desk.close()


def test_follow_up_is_rewritten_by_the_llm(gold_settings, embedder, stub):
    desk = llm_desk(gold_settings, embedder, stub, "answer")
    answer = desk.ask("What did he call South Korea?", history=["Who visited Seoul before the missile launch?"])
    assert answer.standalone_question and "Seoul" in answer.standalone_question
    assert any("Standalone question:" in StubLLM.prompt_text(r["body"]) for r in stub.requests)
    desk.close()
