"""End to end: `streamlit run app.py` in a real headless Chromium (Playwright driving Debian's chromium).

The chat, the library, the Evaluations page and the Stories page; the chat, Evaluations and Stories tests save
the README's screenshots (docs/chat-answer.png, docs/evaluations.png, docs/stories-page.png).

Needs ``apt-get install -y chromium`` and the PyPI package ``playwright`` (no browser download: the
system Chromium at /usr/bin/chromium is used). Outside CI the test is skipped when that Chromium is
missing; with CI set it always runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from evals.runner import SuiteRun
from index.sync import Indexer
from settings import Settings
from tests.helpers import APP, HOSTILE, REPO, SEED_TITLE, clean_env, free_port
from tests.storm import index_with_stories, storm_story, write_stories

pytestmark = pytest.mark.server  # `streamlit run` and a headless Chromium
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = REPO / "docs" / "chat-answer.png"
EVAL_SCREENSHOT = REPO / "docs" / "evaluations.png"
STORIES_SCREENSHOT = REPO / "docs" / "stories-page.png"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium); the browser test runs whenever CI is set",
                allow_module_level=True)


@contextmanager
def streamlit_run(root: Path, home: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free port of 127.0.0.1 for the index at ``home``; yields its URL."""
    port = free_port()
    workdir = root / "cwd"  # no .env of the developer's
    workdir.mkdir()
    shutil.copytree(REPO / ".streamlit", workdir / ".streamlit")  # the settings `make run` reads from the repo root
    log_path = root / "streamlit.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
        env=clean_env(NEWSDESK_HOME=str(home), PYTHONPATH=str(REPO)),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.time() > deadline:
                pytest.fail(f"streamlit did not answer within 90 s:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def streamlit_app(tmp_path_factory, seed_file, embedder):
    """`streamlit run app.py` on a free port, on an index of the seed article and a hostile article."""
    root = tmp_path_factory.mktemp("browser")
    articles = root / "articles"
    articles.mkdir()
    (articles / "hostile.json").write_text(json.dumps(HOSTILE), encoding="utf-8")
    home = root / "home"
    indexer = Indexer(Settings(_env_file=None, home=home), embedder=embedder)
    indexer.sync([seed_file, articles])
    indexer.close()
    # a finished evaluation run for the Evaluations page (seed suite, 3 questions per type, with BM25)
    SuiteRun(Settings(_env_file=None, home=home), "seed", limit=3, baselines=["bm25"]).run()
    with streamlit_run(root, home) as url:
        yield url, home


@pytest.fixture(scope="module")
def stories_app(tmp_path_factory, embedder):
    """`streamlit run app.py` on an index of the storm's four reports and the cheese fair, with their stories."""
    root = tmp_path_factory.mktemp("browser-stories")
    settings = Settings(_env_file=None, home=root / "home")
    index_with_stories(settings, [write_stories(root / "articles")], embedder)
    with streamlit_run(root, settings.index.home) as url:
        yield url, settings


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"CI is set but {CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _ask(page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(state="visible", timeout=120_000)
    box.fill(question)
    box.press("Enter")


def test_chat_in_a_real_browser(streamlit_app, browser, tmp_path):
    url, _home = streamlit_app
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url, wait_until="domcontentloaded", timeout=120_000)

    _ask(page, "How many US troops are stationed in South Korea?")
    answer = page.get_by_test_id("stChatMessage").filter(has_text="28,500").last
    answer.wait_for(state="visible", timeout=120_000)
    page.get_by_text("Whole article").last.wait_for(state="visible", timeout=120_000)
    messages = page.get_by_test_id("stChatMessage")
    assistant = messages.last.inner_text()
    assert "28,500" in assistant
    assert SEED_TITLE in assistant and "date unknown" in assistant
    assert "Sources" in assistant
    assert page.get_by_text("Active mode:").count() == 1  # the sidebar says which mode answers
    # a reader's toolbar: Streamlit's "Deploy" button is for developers (.streamlit/config.toml sets client.toolbarMode)
    assert page.get_by_test_id("stAppDeployButton").count() == 0
    assert page.get_by_role("button", name="Deploy", exact=True).count() == 0

    page.wait_for_timeout(500)  # let the last frame settle
    shot = tmp_path / "chat-answer.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    SCREENSHOT.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT)

    # a hostile article's markup shows as text: no script runs, no image or javascript: link is made
    _ask(page, "How many visitors did the Zorblat festival draw?")
    page.get_by_test_id("stChatMessage").filter(has_text="4,321").last.wait_for(state="visible", timeout=120_000)
    last = page.get_by_test_id("stChatMessage").last
    last.get_by_test_id("stExpander").last.locator("summary").click()
    last.get_by_text("planned for 2023").wait_for(state="visible", timeout=30_000)
    text = last.inner_text()
    assert "<script>alert(1)</script> Zorblat festival report" in text
    assert "<b>Evil</b> Times" in text
    assert "<img src=x onerror=alert(1)>" in text and "![x](https://attacker.example/?q=1)" in text
    assert last.locator("img").count() == 0
    assert last.locator("script").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert dialogs == []
    page.close()


def test_library_upload_in_a_real_browser(streamlit_app, browser):
    url, home = streamlit_app
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{url}/library", wait_until="domcontentloaded", timeout=120_000)
    page.get_by_text("Add articles").wait_for(state="visible", timeout=120_000)
    body = b"Ferry strike ends in Tromso\nThe ferry workers' strike in Tromso ended on Sunday after 9 days.\n"
    page.locator("input[type='file']").first.set_input_files(
        files=[{"name": "ferry report (final).txt", "mimeType": "text/plain", "buffer": body}])
    button = page.get_by_role("button", name="Index uploaded files")
    page.wait_for_function("() => [...document.querySelectorAll('button')].some("
                           "b => b.innerText.includes('Index uploaded files') && !b.disabled)", timeout=60_000)
    button.click()
    page.get_by_text("Upload: 1 added").wait_for(state="visible", timeout=120_000)
    assert (home / "uploads" / "ferry_report_final.txt").read_bytes() == body
    page.get_by_text("3 of 3 articles").wait_for(state="visible", timeout=30_000)  # the rerun may render it later
    assert page.get_by_text("3 of 3 articles").count() == 1

    # and the chat answers from it at once
    page.goto(url, wait_until="domcontentloaded", timeout=120_000)
    _ask(page, "When did the ferry strike in Tromso end?")
    answer = page.get_by_test_id("stChatMessage").filter(has_text="Ferry strike ends in Tromso").last
    answer.wait_for(state="visible", timeout=120_000)
    assert "Sunday" in answer.inner_text()
    page.close()


def test_evaluations_page_in_a_real_browser(streamlit_app, browser, tmp_path):
    """The deep link /evaluations opens the Evaluations page on the run made before streamlit started;
    screenshot for the README."""
    url, home = streamlit_app
    run_dir = next((home / "evals" / "runs").iterdir())
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{url}/evaluations", wait_until="domcontentloaded", timeout=120_000)
    page.get_by_text("Systems side by side").wait_for(state="visible", timeout=120_000)
    page.get_by_text("Retrieved articles").wait_for(state="visible", timeout=120_000)
    assert page.get_by_role("heading", name="Evaluations").count() == 1
    main = page.get_by_test_id("stMain")
    picker = main.get_by_role("combobox", name="Run")
    assert picker.input_value().startswith(f"{run_dir.name} · extractive mode · newsdesk + bm25")  # selected
    metrics = main.get_by_test_id("stMetric")
    metrics.first.wait_for(state="visible", timeout=60_000)
    # Hit@10, MRR@10, Accuracy, Token F1, Quotes verbatim, Refusal recall (no judge in this run)
    assert metrics.count() == 6 and "Accuracy" in metrics.nth(2).inner_text()
    assert "Token F1" in metrics.nth(3).inner_text() and "Quotes verbatim" in metrics.nth(4).inner_text()
    # the first chart is shown and loaded (the others are in tabs)
    chart = page.get_by_test_id("stImage").locator("img").first
    chart.wait_for(state="visible", timeout=60_000)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stImage] img')]"
                           ".some(i => i.complete && i.naturalWidth > 0)", timeout=60_000)
    assert page.get_by_text("How many ballistic missiles did North Korea fire").count() >= 1  # a question in full
    assert page.get_by_test_id("stSidebar").get_by_text("Run a suite").count() == 1
    assert page.get_by_test_id("stException").count() == 0 and dialogs == []

    # the page scrolls inside stMain: a viewport as tall as the summary, the charts and the first question
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(max(height, 1000), 4000)})
    page.wait_for_timeout(1500)  # let the tables and the chart settle
    bottom = page.evaluate("() => Math.max(...[...document.querySelectorAll("
                           "'[data-testid=stMain] [data-testid=stElementContainer]')]"
                           ".map(e => e.getBoundingClientRect().bottom))")  # no blank strip below the last element
    shot = tmp_path / "evaluations.png"
    page.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": 1400, "height": min(bottom + 60, 4000)})
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, EVAL_SCREENSHOT)
    page.close()


def test_stories_page_in_a_real_browser(stories_app, browser, tmp_path):
    """The deep link /stories?story=ID opens the storm's timeline: the chart drawn, an entry's quote opened with
    its article's title and link, the moves and the disagreement; screenshot for the docs."""
    url, settings = stories_app
    story_id, timeline = storm_story(settings)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{url}/stories?story={story_id}", wait_until="domcontentloaded", timeout=120_000)
    page.get_by_text("Where reports disagree").wait_for(state="visible", timeout=120_000)
    main = page.get_by_test_id("stMain")
    assert main.get_by_role("heading", name="Stories").count() == 1
    assert main.get_by_role("heading", name=timeline["story"]["title"]).count() == 1
    # the chart is drawn (Vega renders it as SVG), with its legend of the outlets, moves and disagreements
    chart = main.locator("[data-testid=stVegaLiteChart] svg.marks").first
    chart.wait_for(state="visible", timeout=60_000)
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    legend = main.get_by_test_id("stVegaLiteChart").inner_text()  # SVG text: the axis and legend labels
    for label in ("coastal-herald.example", "island-times.example", "moves", "disagreements", "move", "disagreement"):
        assert label in legend

    first = timeline["entries"][0]
    expander = main.get_by_test_id("stExpander").first
    expander.locator("summary").click()
    expander.get_by_text(first["report"]["quote"]).first.wait_for(state="visible", timeout=30_000)
    link = expander.locator(f"a[href='{first['report']['url']}']").first
    assert link.inner_text() == "open the article"
    text = main.inner_text()
    assert "16 → 19 (2022-03-05 → 2022-03-09)" in text
    [d] = timeline["disagreements"]
    assert d["first"]["quote"] in text and d["second"]["quote"] in text
    assert page.get_by_test_id("stException").count() == 0 and dialogs == []

    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(max(height, 1000), 4000)})
    page.wait_for_timeout(1500)  # let the chart and the tables settle
    shot = tmp_path / "stories-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, STORIES_SCREENSHOT)
    page.close()
