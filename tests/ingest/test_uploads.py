"""Upload naming and storage (ingest/uploads.py): no file name can leave the uploads folder."""

from __future__ import annotations

import json
from datetime import date

import pytest

from errors import BadUpload
from ingest.uploads import pasted_article_file, safe_upload_name, uploads_dir, write_upload
from ui.render import safe_href


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
    assert safe_upload_name(raw) == expected


@pytest.mark.parametrize("raw", ["..", "evil.exe", "archive.gz", "", "x.txt/"])
def test_safe_upload_name_rejects(raw):
    with pytest.raises(BadUpload):
        safe_upload_name(raw)


def test_write_upload_never_leaves_the_folder(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep", encoding="utf-8")
    for name in ("../outside.txt", ".hidden.txt", "sub/x.txt"):
        with pytest.raises(BadUpload):
            write_upload(folder, name, b"x")
    # a symlink planted in the folder is replaced, not followed
    (folder / "link.txt").symlink_to(outside)
    with pytest.raises(BadUpload):  # it resolves outside the folder
        write_upload(folder, "link.txt", b"new")
    assert outside.read_text(encoding="utf-8") == "keep"
    written = write_upload(folder, "ok.txt", b"data")
    assert written == folder.resolve() / "ok.txt" and written.read_bytes() == b"data"
    assert sorted(p.name for p in folder.iterdir()) == ["link.txt", "ok.txt"]  # no temporary file left


def test_pasted_article_is_a_json_file_in_the_uploads_folder(settings):
    path = pasted_article_file(settings, "  Tram line opens  ", "The line opened.", date(2024, 3, 4), "Nordic Wire",
                               "https://example.com/tram")
    assert path.parent == uploads_dir(settings) and path.name.startswith("pasted-tram-line-opens-")
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "title": "Tram line opens", "text": "The line opened.", "source": "Nordic Wire",
        "url": "https://example.com/tram", "published_at": "2024-03-04"}
    for title, text in (("", "text"), ("title", "  ")):
        with pytest.raises(BadUpload):
            pasted_article_file(settings, title, text, None, "", "")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>", "ftp://example.com/a", "https://",
                                 "https://example.com/a\tb", "http://example.com/a b)(<x>", "HTTPS://Example.com"])
def test_a_pasted_link_is_accepted_exactly_when_the_ui_can_link_it(settings, url):
    if safe_href(url) is None:
        with pytest.raises(BadUpload, match="http\\(s\\) URL"):
            pasted_article_file(settings, "Title", "Text.", None, "", url)
    else:
        assert pasted_article_file(settings, "Title", "Text.", None, "", url).is_file()
