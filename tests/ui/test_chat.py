"""The Chat page (ui/pages/chat.py) driven by AppTest on real indexes (no mocks): cited answers,
follow-ups, refusals, separate sessions, hostile article content, the LLM mode and an empty index."""

from __future__ import annotations

from tests.rag.llm_stub import StubLLM
from prompts import BEYOND_REFUSAL
from tests.helpers import (HOSTILE, PAYLOADS, SEED_TITLE, TIMEOUT, TROOPS_QUESTION, UI_SOURCES, UNANSWERABLE, all_text,
                           ask, assistant_messages, new_session, turns, unescaped)
from ui.render import escape_md


def test_chat_answers_with_a_cited_source(shared_home, use_home):
    use_home(shared_home)
    at = ask(new_session(), TROOPS_QUESTION)

    answer_md = [m.value for m in assistant_messages(at)[-1].markdown]
    assert any("28,500" in text for text in answer_md), answer_md
    assert any(":blue-badge[1]" in text for text in answer_md)  # the marker [1] as a numbered reference
    assert any(SEED_TITLE in text and "date unknown" in text for text in answer_md)  # the source and its date
    # the quote is highlighted inside its paragraph, and the whole article is one click away
    assert any(text.startswith("> ") and ":orange-background[" in text and "28,500" in text for text in answer_md)
    expanders = assistant_messages(at)[-1].expander
    assert [e.label for e in expanders] == ["Whole article"]
    assert "Pyongyang" in " ".join(m.value for m in expanders[0].markdown)

    answer = turns(at)[-1]["answer"]
    assert not answer.refused and answer.citations and answer.citations[0].title == SEED_TITLE
    assert any("extractive" in text for text in [c.value for c in at.sidebar.info])  # the active mode is shown


def test_follow_up_uses_the_conversation_and_new_conversation_clears_it(shared_home, use_home):
    use_home(shared_home)
    at = ask(new_session(), TROOPS_QUESTION)
    ask(at, "And what about Japan?")
    assert len(turns(at)) == 2
    follow_up = turns(at)[1]["answer"]
    assert follow_up.standalone_question and TROOPS_QUESTION in follow_up.standalone_question
    assert any(c.value.startswith("Understood as:") for c in at.caption)
    assert len(assistant_messages(at)) == 2

    at.button(key="new_conversation").click()
    at.run(timeout=TIMEOUT)
    assert turns(at) == [] and not at.chat_message


def test_refusal_looks_different_and_lists_the_nearest_articles(shared_home, use_home):
    use_home(shared_home)
    at = ask(new_session(), UNANSWERABLE)
    message = assistant_messages(at)[-1]
    # the World Cup of 2030 is after the newest article: the refusal says where the collection ends
    newest = HOSTILE["published_at"]
    assert [w.value for w in message.warning] == [escape_md(BEYOND_REFUSAL.format(newest=newest))]
    nearest = " ".join(m.value for m in message.markdown)
    assert "Nearest articles" in nearest
    assert any(title in nearest for title in (SEED_TITLE, "Heavy rain expected in Bergen"))
    assert not message.expander  # no sources are claimed for a refusal
    assert turns(at)[-1]["answer"].refused


def test_two_sessions_never_share_a_conversation(shared_home, use_home):
    use_home(shared_home)
    first, second = new_session(), new_session()
    ask(first, TROOPS_QUESTION)
    second.run(timeout=TIMEOUT)
    assert len(turns(first)) == 1 and turns(second) == []
    assert not second.chat_message
    ask(second, UNANSWERABLE)
    first.run(timeout=TIMEOUT)
    assert [t["question"] for t in turns(first)] == [TROOPS_QUESTION]
    assert [t["question"] for t in turns(second)] == [UNANSWERABLE]


def test_hostile_article_content_is_shown_as_text_never_as_html(shared_home, use_home):
    use_home(shared_home)
    at = ask(new_session(), "How many visitors did the Zorblat festival draw?")
    answer = turns(at)[-1]["answer"]
    assert not answer.refused and "4,321" in answer.answer

    texts = all_text(at)
    joined = "\n".join(texts)
    for payload in PAYLOADS:
        assert payload not in joined  # never as live Markdown/HTML ...
    shown = unescaped(joined)
    for payload in PAYLOADS:
        assert payload in shown, payload  # ... but visible, character for character, as text
    assert "\\<script\\>alert\\(1\\)\\</script\\> Zorblat festival report" in joined  # the title, escaped
    assert "\\<b\\>Evil\\</b\\> Times" in joined  # the outlet, escaped
    assert "](javascript" not in joined and "javascript:alert" not in joined  # no javascript: link anywhere
    assert not at.html  # no st.html
    for element in list(at.markdown) + list(at.caption):
        assert element.proto.allow_html is False  # no unsafe_allow_html
    for source in UI_SOURCES:  # app.py and every module of ui/
        assert "unsafe_allow_html=True" not in source.read_text(encoding="utf-8"), source


def test_llm_mode_streams_through_the_endpoint_and_failures_are_one_message(shared_home, use_home):
    secret = "sk-test-never-shown-0123456789"
    with StubLLM() as stub:
        use_home(shared_home, NEWSDESK_LLM_BASE_URL=stub.url, NEWSDESK_LLM_MODEL="answer",
                 NEWSDESK_LLM_API_KEY=secret, NEWSDESK_LLM_TIMEOUT="5", NEWSDESK_LLM_MAX_RETRIES="0")
        at = new_session()
        mode = at.sidebar.radio(key="answer_mode")
        assert mode.value == "llm" and [o.split(" ")[0] for o in mode.options] == ["LLM", "Extractive"]
        assert any("LLM configured: model **answer** at" in c.value for c in at.sidebar.caption)
        assert any("Active mode: **LLM**" in i.value for i in at.sidebar.info)
        ask(at, TROOPS_QUESTION)
        answer = turns(at)[-1]["answer"]
        assert answer.mode == "llm" and not answer.refused and [c.n for c in answer.citations] == [1]
        assert stub.requests and stub.requests[-1]["body"]["stream"] is True
        assert any(SEED_TITLE in m.value for m in assistant_messages(at)[-1].markdown)

        # the user can switch to the offline answerer
        at.sidebar.radio(key="answer_mode").set_value("extractive").run(timeout=TIMEOUT)
        asked = len(stub.requests)
        ask(at, UNANSWERABLE)
        assert turns(at)[-1]["answer"].mode == "extractive" and len(stub.requests) == asked

        # an endpoint that rejects the key: one readable message, no traceback, no key shown
        use_home(shared_home, NEWSDESK_LLM_BASE_URL=stub.url, NEWSDESK_LLM_MODEL="unauthorized",
                 NEWSDESK_LLM_API_KEY=secret, NEWSDESK_LLM_TIMEOUT="5", NEWSDESK_LLM_MAX_RETRIES="0")
        failing = ask(new_session(), TROOPS_QUESTION)
        errors = [e.value for e in assistant_messages(failing)[-1].error]
        assert len(errors) == 1 and "language model could not answer" in errors[0]
        assert turns(failing)[-1]["answer"] is None and turns(failing)[-1]["error"]
        assert not failing.exception
        assert all(secret not in text for text in all_text(at) + all_text(failing))


def test_empty_index_points_to_the_library(tmp_path, use_home):
    use_home(tmp_path / "empty-home")
    at = new_session()
    assert any("Library" in i.value for i in at.info)
    assert not at.chat_input and not at.error


def test_a_question_sent_while_an_answer_streams_keeps_the_first_in_the_conversation(shared_home, use_home,
                                                                                     monkeypatch):
    """A second question reruns the page and stops the first answer's stream (Streamlit raises StopException
    in the script): the first question stays in the conversation, marked unfinished, not dropped."""
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    from rag.engine import NewsDesk
    from ui.pages.chat import INTERRUPTED

    use_home(shared_home)
    at = new_session()
    real_stream = NewsDesk.stream

    def cut_short(self, question, **options):
        yield "The first words"
        raise StopException()

    monkeypatch.setattr(NewsDesk, "stream", cut_short)
    at.chat_input(key="question").set_value(TROOPS_QUESTION)
    at.run(timeout=TIMEOUT)
    monkeypatch.setattr(NewsDesk, "stream", real_stream)
    ask(at, UNANSWERABLE)
    assert [t["question"] for t in turns(at)] == [TROOPS_QUESTION, UNANSWERABLE]
    assert turns(at)[0]["answer"] is None and turns(at)[0]["error"] == INTERRUPTED
    assert turns(at)[1]["answer"] is not None and any(INTERRUPTED in unescaped(text) for text in all_text(at))
