"""The Streamlit UI (app.py) driven by streamlit.testing.v1.AppTest on real indexes (no mocks).

Every test runs the real app script against a real index in a temporary NEWSDESK_HOME: the
packaged MiniLM embedder, an embedded Chroma store and the SQLite catalog.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from evals.report import write_reports
from evals.runner import corpus_settings
from evals.suite import load_suite
from index.catalog import Catalog
from index.settings import Settings
from index.sync import Indexer, index_lock
from tests.conftest import free_port
from tests.rag.llm_stub import StubLLM

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app.py"
TIMEOUT = 120

SEED_TITLE = "North Korea Conducts Ballistic Missile Test Amid Heightened Regional Tensions"
TROOPS_QUESTION = "How many US troops are stationed in South Korea?"
UNANSWERABLE = "Who won the 2030 World Cup?"

PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "![x](https://attacker.example/?q=1)",
            "[click](javascript:alert(1))"]
HOSTILE = {
    "title": "<script>alert(1)</script> Zorblat festival report",
    "source": "<b>Evil</b> Times",
    "url": "javascript:alert(1)",
    "published_at": "2022-06-01",
    "text": ("The Zorblat festival in Oslo drew 4,321 visitors this year. Organisers posted "
             "<img src=x onerror=alert(1)> and [click](javascript:alert(1)) on the site. Tickets cost $5 and $10.\n"
             "![x](https://attacker.example/?q=1)\n"
             "<script>alert(1)</script> The next Zorblat festival is planned for 2023."),
}
MARZIPAN_TEXT = ("The Luebeck Marzipan Council announced on Monday that it will open 17 new tasting rooms across "
                 "Norway next spring. The council's chair, Greta Holm, said demand had doubled since 2021.")


def _load_app_module():
    spec = importlib.util.spec_from_file_location("newsdesk_app_under_test", APP)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)  # defines the helpers; main() runs only under `streamlit run`
    return module


app = _load_app_module()


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory, seed_file, embedder) -> Path:
    """A read-only index for the chat tests: the seed article and a hostile article."""
    root = tmp_path_factory.mktemp("app")
    articles = root / "articles"
    articles.mkdir()
    (articles / "hostile.json").write_text(json.dumps(HOSTILE), encoding="utf-8")
    (articles / "weather.txt").write_text("Heavy rain expected in Bergen\nForecasters expect 80 mm of rain in "
                                          "Bergen on Friday, the most since 2019.\n", encoding="utf-8")
    home = root / "home"
    indexer = Indexer(Settings(_env_file=None, home=home), embedder=embedder)
    report = indexer.sync([seed_file, articles])
    indexer.close()
    assert report.added == 3 and not report.skipped
    return home


@pytest.fixture
def use_home(monkeypatch, tmp_path):
    """Points the app at a home: NEWSDESK_HOME set, no other NEWSDESK_*/OPENAI_* settings, no .env."""

    def use(home: Path, **extra: str) -> Path:
        for key in list(os.environ):
            if key.startswith(("NEWSDESK_", "OPENAI_")):
                monkeypatch.delenv(key)
        monkeypatch.setenv("NEWSDESK_HOME", str(home))
        for key, value in extra.items():
            monkeypatch.setenv(key, value)
        workdir = tmp_path / "cwd"
        workdir.mkdir(exist_ok=True)
        monkeypatch.chdir(workdir)  # so a developer's .env cannot change the configuration
        return home

    return use


def new_session(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if page:
        at.query_params["page"] = page
    at.run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input(key="question").set_value(question)
    at.run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    return at


def all_text(at: AppTest) -> list[str]:
    """Every piece of Markdown the app sent (markdown, captions, alerts, labels)."""
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    texts += [a.value for alerts in (at.warning, at.error, at.info, at.success) for a in alerts]
    texts += [e.label for e in at.expander]
    return texts


def unescaped(markdown: str) -> str:
    """What a Markdown string shows once its backslash escapes are resolved."""
    out, i = [], 0
    while i < len(markdown):
        if markdown[i] == "\\" and i + 1 < len(markdown):
            out.append(markdown[i + 1])
            i += 2
        else:
            out.append(markdown[i])
            i += 1
    return "".join(out)


def assistant_messages(at: AppTest):
    return [m for m in at.chat_message if m.name == "assistant"]


def turns(at: AppTest) -> list[dict]:
    return at.session_state["turns"] if "turns" in at.session_state else []


# --- chat -----------------------------------------------------------------------------------------


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
    assert [w.value for w in message.warning] == [app.escape_md("The indexed articles do not answer this question.")]
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
    assert "unsafe_allow_html=True" not in APP.read_text(encoding="utf-8")


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


# --- library ----------------------------------------------------------------------------------------


def library_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if " articles" in c.value and " of " in c.value)


def test_library_paste_then_chat_then_delete(tmp_path, use_home):
    home = use_home(tmp_path / "home")  # starts empty: the first article makes the index
    library = new_session("library")
    assert any(t.label == "Search titles and outlets" for t in library.text_input)
    assert library_caption(library) == "0 of 0 articles"

    library.text_input(key="paste_title").set_value("Marzipan Council expands to Norway")
    library.text_area(key="paste_text").set_value(MARZIPAN_TEXT)
    library.date_input(key="paste_date").set_value(date(2024, 3, 4))
    library.text_input(key="paste_outlet").set_value("Baltic Courier")
    next(b for b in library.button if b.label == "Add article").click()
    library.run(timeout=TIMEOUT)
    assert not library.exception, [e.value for e in library.exception]
    assert any("1 added" in s.value for s in library.success), [s.value for s in library.success]
    listed = library.dataframe[0].value
    assert list(listed["title"]) == ["Marzipan Council expands to Norway"]
    assert list(listed["outlet"]) == ["Baltic Courier"] and list(listed["published"]) == ["2024-03-04"]
    pasted = list((home / "uploads").iterdir())
    assert len(pasted) == 1 and pasted[0].suffix == ".json"

    # the search filters on title and outlet
    library.text_input(key="library_search").set_value("courier").run(timeout=TIMEOUT)
    assert library_caption(library) == "1 of 1 articles"
    library.text_input(key="library_search").set_value("reuters").run(timeout=TIMEOUT)
    assert library_caption(library) == "0 of 1 articles"
    library.text_input(key="library_search").set_value("").run(timeout=TIMEOUT)

    # the chat sees the new article at once
    chat = ask(new_session(), "How many tasting rooms will the Marzipan Council open in Norway?")
    answer = turns(chat)[-1]["answer"]
    assert not answer.refused and "17" in answer.answer
    assert answer.citations[0].source == "Baltic Courier" and answer.citations[0].published_at.startswith("2024-03-04")
    assert any("Marzipan Council expands to Norway" in m.value for m in chat.markdown)
    assert "Baltic Courier" in chat.sidebar.multiselect(key="filter_sources").options  # outlet filter

    # re-index: nothing changed
    library.button(key="reindex_button").click().run(timeout=TIMEOUT)
    assert any("0 added, 0 updated, 0 removed, 1 unchanged" in s.value for s in library.success)

    # delete it: gone from the catalog, the list, the uploads folder and the chat
    article_id = answer.citations[0].article_id
    library.multiselect(key="delete_ids").set_value([article_id]).run(timeout=TIMEOUT)
    library.button(key="delete_button").click().run(timeout=TIMEOUT)
    assert not library.exception, [e.value for e in library.exception]
    assert any("Deleted 1 article" in s.value for s in library.success)
    assert not library.dataframe and library_caption(library) == "0 of 0 articles"
    assert list((home / "uploads").iterdir()) == []
    catalog = Catalog(Settings(_env_file=None, home=home).catalog_path, read_only=True)
    try:
        assert catalog.list_articles() == []
    finally:
        catalog.close()
    again = ask(new_session(), "How many tasting rooms will the Marzipan Council open in Norway?")
    assert turns(again)[-1]["answer"].refused


def test_upload_with_a_hostile_name_stays_inside_the_uploads_folder(tmp_path, use_home):
    home = use_home(tmp_path / "home")
    library = new_session("library")
    body = b"Ferry strike ends in Tromso\nThe ferry workers' strike in Tromso ended on Sunday after 9 days.\n"
    library.file_uploader[0].set_value([("../../evil.txt", body, "text/plain"),
                                                    ("archive.gz", b"x", "application/gzip")])
    library.run(timeout=TIMEOUT)
    library.button(key="upload_button").click().run(timeout=TIMEOUT)
    assert not library.exception, [e.value for e in library.exception]

    uploads = (home / "uploads").resolve()
    assert sorted(p.name for p in uploads.iterdir()) == ["evil.txt"]
    assert (uploads / "evil.txt").read_bytes() == body
    assert not (tmp_path / "evil.txt").exists() and not (home / "evil.txt").exists()
    assert not (home.parent.parent / "evil.txt").exists()
    assert list(library.dataframe[0].value["title"]) == ["Ferry strike ends in Tromso"]
    assert any("1 added" in w.value for w in library.warning)  # one file added, one rejected
    assert any("not a supported file" in e.value for e in library.error)


def test_upload_over_the_size_limit_is_refused(tmp_path, use_home):
    home = use_home(tmp_path / "home", NEWSDESK_MAX_ARTICLE_MB="0.001")  # about 1 KB
    library = new_session("library")
    library.file_uploader[0].set_value(("big.txt", b"Big\n" + b"word " * 600, "text/plain"))
    library.run(timeout=TIMEOUT)
    library.button(key="upload_button").click().run(timeout=TIMEOUT)
    assert not library.exception
    assert any("No file was added" in e.value for e in library.error)
    assert any("limit for single\\-article files is 0\\.001 MB" in e.value for e in library.error)
    assert list((home / "uploads").iterdir()) == []


def test_folder_path_is_indexed_and_a_bad_file_is_listed_as_skipped(tmp_path, use_home):
    use_home(tmp_path / "home")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "good.md").write_text("---\ntitle: Tram line opens in Aarhus\nsource: Nordic Wire\n---\n"
                                    "The new tram line in Aarhus opened on Saturday with 12 stops.\n", encoding="utf-8")
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    library = new_session("library")
    library.text_input(key="folder_path").set_value(str(folder)).run(timeout=TIMEOUT)
    library.button(key="folder_button").click().run(timeout=TIMEOUT)
    assert not library.exception
    assert any("1 added" in w.value and "1 skipped" in w.value for w in library.warning)
    skipped = library.dataframe[0].value  # the skipped table comes first, then the articles
    assert list(skipped.columns) == ["file", "reason"] and skipped["file"][0].endswith("broken.json")
    assert list(library.dataframe[1].value["title"]) == ["Tram line opens in Aarhus"]

    library.text_input(key="folder_path").set_value(str(tmp_path / "missing")).run(timeout=TIMEOUT)
    library.button(key="folder_button").click().run(timeout=TIMEOUT)
    assert any("There is no file or folder" in e.value for e in library.error)


def test_a_busy_index_and_an_unreachable_store_are_readable_errors(shared_home, tmp_path, use_home):
    use_home(shared_home)
    library = new_session("library")
    with index_lock(Settings(_env_file=None, home=shared_home)):  # another writer holds the index
        library.button(key="reindex_button").click().run(timeout=TIMEOUT)
    assert not library.exception
    assert any("being written by another process" in e.value for e in library.error)

    home = use_home(tmp_path / "home", NEWSDESK_CHROMA_HOST="127.0.0.1", NEWSDESK_CHROMA_PORT=str(free_port()))
    library = new_session("library")
    library.text_input(key="paste_title").set_value("Store test")
    library.text_area(key="paste_text").set_value("A sentence that never reaches the index.")
    next(b for b in library.button if b.label == "Add article").click()
    library.run(timeout=TIMEOUT)
    assert not library.exception
    assert any("vector store is unavailable" in e.value for e in library.error), [e.value for e in library.error]
    assert not (home / "uploads").exists() or list((home / "uploads").iterdir()) == []


# --- evaluations ------------------------------------------------------------------------------------

EVAL_TIMEOUT = 300  # a run of the seed suite (limit 3) on a busy machine


def eval_runs(home: Path) -> list[Path]:
    folder = home / "evals" / "runs"
    return sorted(p for p in folder.iterdir() if (p / "summary.json").exists()) if folder.is_dir() else []


def start_eval_run(at: AppTest, suite: str = "seed", limit: int = 3, baselines: list[str] | None = None) -> AppTest:
    at.sidebar.selectbox(key="eval_suite").set_value(suite)
    at.sidebar.number_input(key="eval_limit").set_value(limit)
    at.sidebar.multiselect(key="eval_baselines").set_value(baselines or [])
    at.sidebar.button(key="eval_run_button").click()
    at.run(timeout=EVAL_TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    return at


def questions_table(at: AppTest):
    return next(d.value for d in at.dataframe if "question" in d.value.columns and "answer" in d.value.columns)


def test_evaluations_run_a_suite_view_it_browse_questions_and_compare_runs(tmp_path, use_home):
    home = use_home(tmp_path / "home")
    at = new_session("evaluations")
    assert [t.value for t in at.title] == ["Evaluations"]
    assert any("No finished run yet" in i.value for i in at.info)
    assert any("North Korea missile launch" in c.value for c in at.sidebar.caption)  # the suite's description
    at.sidebar.multiselect(key="eval_baselines").set_value(["llamaindex"]).run(timeout=TIMEOUT)
    assert any("llama-index baseline is slow" in w.value for w in at.sidebar.warning)  # allowed, with a warning

    # run the seed suite, 3 questions per type, with the BM25 baseline
    start_eval_run(at, baselines=["bm25"])
    runs = eval_runs(home)
    assert len(runs) == 1
    first = runs[0]
    assert any(f"Run {first.name} finished" in s.value.replace("\\", "") for s in at.success)
    summary = json.loads((first / "summary.json").read_text())
    assert set(summary["systems"]) == {"newsdesk", "bm25"}
    assert at.selectbox(key="eval_run").value == first.name

    # summary: headline metrics, newsdesk beside the baseline, per-type tables, charts, thresholds
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy"] == f"{summary['metrics']['answers.accuracy']:.3f}"
    assert metrics["Hit@10"] == f"{summary['metrics']['retrieval.hit@10']:.3f}"
    systems = at.dataframe[0].value
    assert list(systems.columns) == ["metric", "newsdesk", "bm25"]
    accuracy = systems[systems["metric"] == "answers.accuracy"].iloc[0]
    assert accuracy["newsdesk"] == summary["systems"]["newsdesk"]["answers.accuracy"]
    assert accuracy["bm25"] == summary["systems"]["bm25"]["answers.accuracy"]
    per_type = [d.value for d in at.dataframe if list(d.value.columns) == ["metric", "answerable", "unanswerable"]]
    assert len(per_type) == 2  # newsdesk and bm25
    questions_row = per_type[0][per_type[0]["metric"] == "questions"].iloc[0]
    assert (questions_row["answerable"], questions_row["unanswerable"]) == (3, 3)
    assert len(at.get("image")) == 3
    assert [t.label for t in at.tabs] == ["newsdesk", "bm25", "Metrics by type", "Latency", "Side by side"]
    errors = [e.value for e in at.error]
    for failure in summary["failures"]:  # every failed threshold, with its questions
        assert any(app.escape_md(failure["metric"]) in e and "Threshold failed" in e for e in errors), errors
    if not summary["failures"]:
        assert any("All thresholds met" in s.value for s in at.success)

    # per-question results: newsdesk's six answers, one shown in full with its citations and retrieved articles
    table = questions_table(at)
    assert len(table) == 6 and set(table["type"]) == {"answerable", "unanswerable"}
    records = [json.loads(line) for line in (first / "results.jsonl").read_text().splitlines()]
    shown = next(r for r in records if r["system"] == "newsdesk" and r["id"] == table["id"][0])
    texts = all_text(at)
    assert app.escape_md(shown["question"]) in "\n".join(texts)
    assert any(t.startswith("**Gold answer:**") and app.escape_md(shown["gold_answers"][0]) in t for t in texts)
    if shown["citations"]:
        assert any(t.startswith("> :orange-background[") for t in texts)  # the quote
        assert any(SEED_TITLE in t and ":blue-badge[1]" in t for t in texts)
    retrieved = next(d.value for d in at.dataframe if list(d.value.columns)[:3] == ["rank", "title", "gold"])
    assert retrieved["title"][0] == SEED_TITLE

    # filters: the baseline's answers, then only the unanswerable questions
    at.selectbox(key="eval_filter_system").set_value("bm25").run(timeout=TIMEOUT)
    assert len(questions_table(at)) == 6
    at.multiselect(key="eval_filter_types").set_value(["unanswerable"]).run(timeout=TIMEOUT)
    table = questions_table(at)
    assert len(table) == 3 and set(table["type"]) == {"unanswerable"} and set(table["gold"]) == {"(refuse)"}
    assert any("it should be refused" in t for t in all_text(at))  # no gold answer: a refusal is right
    assert any(c.value == "3 of 6 questions" for c in at.caption)
    assert any("Run a suite again to compare" in c.value for c in at.caption)

    # a second run (newsdesk alone) becomes the one shown; the first is still listed and can be selected
    start_eval_run(at)
    runs = eval_runs(home)
    assert len(runs) == 2
    second = next(r for r in runs if r != first)
    picker = at.selectbox(key="eval_run")
    assert picker.value == second.name and len(picker.options) == 2
    assert picker.options[1].startswith(f"{first.name} · extractive mode · newsdesk + bm25 · limit 3 per type")
    assert list(at.dataframe[0].value.columns) == ["metric", "newsdesk"]
    picker.set_value(first.name).run(timeout=TIMEOUT)
    assert not at.exception
    assert list(at.dataframe[0].value.columns) == ["metric", "newsdesk", "bm25"]

    # compare the two runs: same answers, no deltas, nothing worse
    at.selectbox(key="eval_compare").set_value(second.name).run(timeout=TIMEOUT)
    deltas = next(d.value for d in at.dataframe if "delta" in d.value.columns)
    accuracy = deltas[deltas["metric"] == "answers.accuracy"].iloc[0]
    assert accuracy["delta"] == 0 and accuracy["change"] == "same"
    assert any("No question got worse" in s.value for s in at.success)

    # a run where one answer lost its accuracy: compared with the first, that question is listed as worse
    worse_dir = first.parent / "seed-20990101-000000"
    worse_dir.mkdir()
    (worse_dir / "run.json").write_text((first / "run.json").read_text().replace(summary["started"],
                                                                                 "2099-01-01T00:00:00+00:00"))
    target = next(r["id"] for r in records if r["system"] == "newsdesk" and r["scores"].get("accuracy") == 1.0)
    lines = []
    for record in records:
        if record["system"] == "newsdesk" and record["id"] == target:
            record["scores"]["accuracy"] = 0.0
        lines.append(json.dumps(record))
    (worse_dir / "results.jsonl").write_text("\n".join(lines) + "\n")
    write_reports(worse_dir, load_suite("seed"))
    at.run(timeout=TIMEOUT)
    at.selectbox(key="eval_run").set_value(worse_dir.name).run(timeout=TIMEOUT)
    at.selectbox(key="eval_compare").set_value(first.name).run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    deltas = next(d.value for d in at.dataframe if "delta" in d.value.columns)
    accuracy = deltas[deltas["metric"] == "answers.accuracy"].iloc[0]
    assert accuracy["delta"] < 0 and accuracy["change"] == "worse"
    worse = next(d.value for d in at.dataframe if list(d.value.columns) == ["id", "question", "worse"])
    assert list(worse["id"]) == [target] and worse["worse"][0] == "accuracy"
    assert any("Questions that got worse (1)" in m.value for m in at.markdown)


def test_evaluations_show_article_content_as_text(tmp_path, use_home):
    """A run's questions, answers, quotes and titles are data: escaped, never HTML or links."""
    home = use_home(tmp_path / "home")
    run_dir = home / "evals" / "runs" / "seed-20240101-000000"
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({"suite": "seed", "mode": "extractive", "systems": ["newsdesk"],
                                                  "limit": None, "cases": 1, "started": "2024-01-01T00:00:00+00:00",
                                                  "llm_model": None}))
    record = {"system": "newsdesk", "id": "evil-1", "type": "answerable",
              "question": "What did <script>alert(1)</script> say?",
              "gold_answers": ["![x](https://attacker.example/?q=1)"],
              "gold_article_ids": ["a1"], "as_of": None, "answer": "It said <img src=x onerror=alert(1)> [1].",
              "refused": False,
              "citations": [{"n": 1, "article_id": "a1", "title": HOSTILE["title"], "source": HOSTILE["source"],
                             "url": HOSTILE["url"], "published_at": "2022-06-01",
                             "quote": "[click](javascript:alert(1)) here", "start": 0, "end": 34}],
              "retrieved": [{"article_id": "a1", "url": HOSTILE["url"], "title": HOSTILE["title"], "score": 1.0}],
              "scores": {"refused": 0.0, "hit@10": 1.0, "accuracy": 1.0, "citation_validity": 1.0},
              "timings_ms": {"retrieve": 1.0, "answer": 2.0, "total": 3.0}, "usage": None}
    (run_dir / "results.jsonl").write_text(json.dumps(record) + "\n")
    write_reports(run_dir, load_suite("seed"))

    at = new_session("evaluations")
    joined = "\n".join(all_text(at))
    for payload in PAYLOADS:
        assert payload not in joined
        assert payload in unescaped(joined), payload
    assert "](javascript" not in joined and "javascript:alert" not in joined
    retrieved = next(d.value for d in at.dataframe if "rank" in d.value.columns)
    assert retrieved["link"][0] is None  # no javascript: link in the table either
    assert not at.html
    for element in list(at.markdown) + list(at.caption):
        assert element.proto.allow_html is False


def test_evaluations_errors_are_messages(tmp_path, use_home):
    # the datasets are missing: the suite says so and cannot be started
    use_home(tmp_path / "home", NEWSDESK_DATASETS=str(tmp_path / "no-datasets"))
    at = new_session("evaluations")
    assert any("data of the suite" in e.value and "NEWSDESK\\_DATASETS" in e.value for e in at.sidebar.error)
    assert at.sidebar.button(key="eval_run_button").disabled

    # the suite's corpus index is being written by another process: one readable error, no traceback
    home = use_home(tmp_path / "home")
    at = new_session("evaluations")
    busy = corpus_settings(Settings(_env_file=None, home=home), load_suite("seed"))
    with index_lock(busy):
        start_eval_run(at)
    assert any("being written by another process" in e.value for e in at.error), [e.value for e in at.error]
    assert not (home / "evals" / "runs").exists() or list((home / "evals" / "runs").iterdir()) == []
    assert any("No finished run yet" in i.value for i in at.info)

    # damaged run folders: an unreadable summary is listed as such; a bad results file is one message
    runs = home / "evals" / "runs"
    (runs / "seed-broken").mkdir(parents=True)
    (runs / "seed-broken" / "summary.json").write_text("{not json")
    damaged = runs / "seed-20240101-000000"
    damaged.mkdir()
    (damaged / "run.json").write_text(json.dumps({"suite": "seed", "mode": "extractive", "systems": ["newsdesk"],
                                                  "limit": None, "started": "2024-01-01T00:00:00+00:00"}))
    (damaged / "summary.json").write_text(json.dumps({"suite": "seed", "mode": "extractive",
                                                      "started": "2024-01-01T00:00:00+00:00", "systems": {},
                                                      "by_type": {}, "metrics": {}, "failures": []}))
    (damaged / "results.jsonl").write_text('{"no": "system"}\n')
    at = new_session("evaluations")
    assert at.selectbox(key="eval_run").value == damaged.name
    assert any("Unreadable run folders" in c.value and "seed\\-broken" in c.value for c in at.caption)
    assert any("could not be shown" in e.value for e in at.error), [e.value for e in at.error]
    assert any("Compare two runs" == h.value for h in at.subheader)  # the page goes on after the damaged part


def test_evaluations_resume_an_unfinished_run(tmp_path, use_home):
    home = use_home(tmp_path / "home")
    unfinished = home / "evals" / "runs" / "seed-20240101-000000"
    unfinished.mkdir(parents=True)  # as a run stopped before its first answer leaves it
    (unfinished / "run.json").write_text(json.dumps({"suite": "seed", "mode": "extractive", "systems": ["newsdesk"],
                                                     "limit": 1, "cases": 2, "started": "2024-01-01T00:00:00+00:00",
                                                     "llm_model": None}))
    at = new_session("evaluations")
    assert any(e.label == "Unfinished runs (1)" for e in at.sidebar.expander)
    assert at.sidebar.selectbox(key="eval_resume").value == unfinished.name
    at.sidebar.button(key="eval_resume_button").click()
    at.run(timeout=EVAL_TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    assert eval_runs(home) == [unfinished]
    assert any(f"Run {unfinished.name} finished" in s.value.replace("\\", "") for s in at.success)
    assert len(questions_table(at)) == 2  # one question of each type, as the run was started
    assert not any(e.label.startswith("Unfinished runs") for e in at.sidebar.expander)


# --- helpers (pure functions of app.py) ---------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("../../evil.txt", "evil.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    ("/etc/passwd.json", "passwd.json"),
    (".hidden.txt", "hidden.txt"),
    ("a..b.jsonl.gz", "a_b.jsonl.gz"),
    ("News Report (2022).HTML", "News_Report_2022.html"),
    ("....txt", "upload.txt"),
    ("naïve café.txt", "na_ve_caf.txt"),
])
def test_safe_upload_name(raw, expected):
    assert app.safe_upload_name(raw) == expected


@pytest.mark.parametrize("raw", ["..", "evil.exe", "archive.gz", "", "x.txt/"])
def test_safe_upload_name_rejects(raw):
    with pytest.raises(app.BadUpload):
        app.safe_upload_name(raw)


def test_write_upload_never_leaves_the_folder(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep", encoding="utf-8")
    for name in ("../outside.txt", ".hidden.txt", "sub/x.txt"):
        with pytest.raises(app.BadUpload):
            app.write_upload(folder, name, b"x")
    # a symlink planted in the folder is replaced, not followed
    (folder / "link.txt").symlink_to(outside)
    with pytest.raises(app.BadUpload):  # it resolves outside the folder
        app.write_upload(folder, "link.txt", b"new")
    assert outside.read_text(encoding="utf-8") == "keep"
    written = app.write_upload(folder, "ok.txt", b"data")
    assert written == folder.resolve() / "ok.txt" and written.read_bytes() == b"data"
    assert sorted(p.name for p in folder.iterdir()) == ["link.txt", "ok.txt"]  # no temporary file left


def test_escape_md_and_links():
    for payload in PAYLOADS + [":red[x]", "$x^2$", "# heading", "1. item", "    code", "| a | b |", "&lt;b&gt;"]:
        escaped = app.escape_md(payload)
        assert unescaped(escaped).strip() == payload.strip()
        assert "<" not in escaped.replace("\\<", "")
        assert "[" not in escaped.replace("\\[", "")
    assert app.safe_href("javascript:alert(1)") is None
    assert app.safe_href("data:text/html,<script>") is None
    assert app.safe_href("https://example.com/a b)(<x>") == "https://example.com/a%20b%29%28%3Cx%3E"
    assert app.link_md("JavaScript:alert(1)") is None
    assert app.with_markers("Claim [1]. Other [7].", {1}) == "Claim :blue-badge[1]\\. Other \\[7\\]\\."
