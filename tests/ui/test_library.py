"""The Library page (ui/pages/library.py) driven by AppTest on real indexes (no mocks): paste, upload,
folder, re-index and delete, hostile upload names, size limits, and readable errors."""

from __future__ import annotations

from datetime import date

from streamlit.testing.v1 import AppTest

from index.catalog import Catalog
from index.sync import index_lock
from settings import Settings
from tests.helpers import MARZIPAN_TEXT, TIMEOUT, ask, free_port, new_session, turns


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
    catalog = Catalog(Settings(_env_file=None, home=home).index.catalog_path, read_only=True)
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
