import gzip
import json
from pathlib import Path

import pytest

from index.types import article_id_for, normalize_url
from ingest.loaders import ArticleLoader, walk
from tests.helpers import bad_corpus


@pytest.fixture
def loader():
    return ArticleLoader()


def load_one(loader, path: Path):
    result = loader.load(path, path.name)
    assert not result.skipped, result.skipped
    assert len(result.articles) == 1
    return result.articles[0]


def test_seed_article_headline_and_body(loader, seed_file):
    article = load_one(loader, seed_file)
    assert article.title == "North Korea Conducts Ballistic Missile Test Amid Heightened Regional Tensions"
    assert article.text.startswith("In a significant escalation of military posturing")
    assert article.published_at is None and article.url is None  # no date or URL in the file: none invented
    assert article.id == article_id_for(None, seed_file.name)


def test_realtimeqa_articles_as_they_are(loader, datasets):
    path = datasets / "realtimeqa-articles" / "articles.jsonl.gz"
    result = loader.load(path, path.name)
    reasons = [s.reason for s in result.skipped]
    assert len(result.articles) + len(result.skipped) == 3827
    assert reasons.count("no text") == 41 and set(reasons) == {"no text"}
    assert sum(a.title is None for a in result.articles) > 0  # untitled articles are kept, title unknown
    assert all(a.display_title for a in result.articles)
    dated = [a for a in result.articles if a.published_at]
    assert len(dated) > 3700 and all(a.published_at.tzinfo for a in dated)
    spirit = next(a for a in result.articles
                  if a.url == "http://www.cnn.com/2022/02/07/investing/spirit-frontier-airlines-merger/index.html")
    assert spirit.published_at.date().isoformat() == "2022-02-07"
    assert spirit.source == "cnn.com" and spirit.authors == ("Chris Isidore",)
    # ids are stable keys of the normalized URL: http/https, www. and trailing-slash twins share one
    keys = {normalize_url(a.url) if a.url else f"{a.path}:{a.line}" for a in result.articles}
    assert len({a.id for a in result.articles}) == len(keys) < len(result.articles)


def test_markdown_front_matter(loader, tmp_path):
    path = tmp_path / "story.md"
    path.write_text("---\ntitle: Rates rise again\ndate: 2022-08-03\nsource: Example Times\n"
                    "url: https://example.com/rates\nauthors: [Ann Lee, Bo Chen]\n---\n"
                    "The central bank raised rates by half a point.\n\nMarkets fell.\n")
    article = load_one(loader, path)
    assert (article.title, article.source, article.url) == ("Rates rise again", "Example Times", "https://example.com/rates")
    assert article.published_at.isoformat() == "2022-08-03T00:00:00+00:00"
    assert article.authors == ("Ann Lee", "Bo Chen")
    assert article.text.startswith("The central bank")
    assert article.id == article_id_for("https://example.com/rates", "story.md")


def test_markdown_without_front_matter_takes_its_heading(loader, tmp_path):
    path = tmp_path / "plain.md"
    path.write_text("# Storm hits coast\n\nWinds reached 120 km/h overnight.\n")
    article = load_one(loader, path)
    assert article.title == "Storm hits coast" and article.text == "Winds reached 120 km/h overnight."
    assert article.published_at is None


def test_json_single_and_list(loader, tmp_path):
    single = tmp_path / "one.json"
    single.write_text(json.dumps({"headline": "A", "body": "Alpha text.", "publish_date": "2022-05-01",
                                  "author": "By Jo Smith and Al Roe", "link": "https://ex.com/a"}))
    article = load_one(loader, single)
    assert article.title == "A" and article.text == "Alpha text." and article.authors == ("Jo Smith", "Al Roe")
    many = tmp_path / "many.json"
    many.write_text(json.dumps([{"title": "B", "content": "Beta."}, {"title": "C", "text": "Gamma."}, 7]))
    result = loader.load(many, "many.json")
    assert [a.title for a in result.articles] == ["B", "C"]
    assert [a.line for a in result.articles] == [1, 2]
    assert [s.reason for s in result.skipped] == ["list item is not a JSON object"]
    assert result.articles[0].id == article_id_for(None, "many.json", 1)

    assert not article.summary_only


def test_a_feed_summary_keeps_its_summary_only_mark(loader, tmp_path):
    """Feeds write ``summary_only`` when only an item's summary could be had; the mark is kept, and it changes
    the content hash only when set (articles indexed before the mark keep theirs)."""
    record = {"title": "S", "text": "Only the summary.", "url": "https://ex.com/s"}
    (tmp_path / "plain.json").write_text(json.dumps(record))
    (tmp_path / "summary.json").write_text(json.dumps({**record, "summary_only": True}))
    (tmp_path / "not.json").write_text(json.dumps({**record, "summary_only": False}))
    plain, summary, other = (load_one(loader, tmp_path / n) for n in ("plain.json", "summary.json", "not.json"))
    assert (plain.summary_only, summary.summary_only, other.summary_only) == (False, True, False)
    assert plain.content_hash == other.content_hash != summary.content_hash


def test_jsonl_plain_and_gzip(loader, tmp_path):
    rows = [{"title": "T1", "text": "One.", "url": "https://ex.com/1", "published_at": "2022/01/02"},
            {"title": "T2", "text": "Two.", "date": "2022-01-03T10:00:00Z"}]
    plain = tmp_path / "a.jsonl"
    plain.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    packed = tmp_path / "b.jsonl.gz"
    with gzip.open(packed, "wt") as handle:
        handle.write("\n".join(json.dumps(r) for r in rows))
    for path in (plain, packed):
        result = loader.load(path, path.name)
        assert [a.title for a in result.articles] == ["T1", "T2"]
        assert result.articles[1].line == 2 and result.articles[1].id == article_id_for(None, path.name, 2)
        assert result.articles[0].source == "ex.com"


def test_html_uses_an_article_extractor(loader, tmp_path):
    path = tmp_path / "page.html"
    path.write_text("""<html><head><title>Site | Bridge reopens</title>
      <meta property="og:title" content="Bridge reopens after repairs">
      <meta property="og:url" content="https://news.example.org/bridge">
      <meta property="og:site_name" content="Example News">
      <meta name="author" content="Kim Park">
      <meta property="article:published_time" content="2022-09-14T08:00:00+02:00">
      </head><body><nav>Home | World | Sport</nav>
      <article><h1>Bridge reopens after repairs</h1>
      <p>The city's main bridge reopened on Wednesday after eight months of repairs that cost 40 million euros.</p>
      <p>Traffic officials said congestion in the old town should ease within days, and buses return to their routes.</p>
      <script>alert('x')</script></article><footer>Copyright Example News</footer></body></html>""")
    article = load_one(loader, path)
    assert article.title == "Bridge reopens after repairs"
    assert "eight months of repairs" in article.text and "alert" not in article.text and "Sport" not in article.text
    assert article.url == "https://news.example.org/bridge" and article.source == "Example News"
    assert article.published_at is not None and article.published_at.date().isoformat() == "2022-09-14"


def test_bad_inputs_are_skipped_with_reasons(loader, tmp_path):
    folder = tmp_path / "bad"
    expected = bad_corpus(folder)
    (folder / "good.txt").write_text("Good headline\nA perfectly fine article body.\n")
    skipped = []
    articles = []
    for path in walk(folder, skipped.append):
        result = loader.load(path, path.relative_to(folder).as_posix())
        skipped.extend(result.skipped)
        articles.extend(result.articles)
    assert [a.title for a in articles] == ["Good headline"]
    by_name = {Path(s.path).name: s.reason for s in skipped}
    for name, reason in expected.items():
        assert name in by_name, f"{name} was not reported"
        assert reason in by_name[name], (name, by_name[name])


def test_malformed_and_oversized_jsonl_lines_skip_only_those_lines(tmp_path):
    loader = ArticleLoader(max_article_bytes=1000)
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"title": "ok1", "text": "fine"}\n{not json}\n' + b'{"title": "big", "text": "' + b"x" * 5000
                     + b'"}\n\xff\xfe\n[1, 2]\n{"title": "ok2", "text": "also fine"}\n')
    result = loader.load(path, path.name)
    assert [a.title for a in result.articles] == ["ok1", "ok2"]
    assert [a.line for a in result.articles] == [1, 6]
    reasons = {s.path.rsplit(":", 1)[1]: s.reason for s in result.skipped}
    assert reasons["2"].startswith("malformed JSON") and "size limit" in reasons["3"]
    assert "invalid UTF-8" in reasons["4"] and reasons["5"] == "line is not a JSON object"


def test_unreadable_file_is_skipped(loader, tmp_path, monkeypatch):
    path = tmp_path / "secret.txt"
    path.write_text("Headline\nBody.\n")

    def deny(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", deny)  # root can read anything: simulate the denial
    result = loader.load(path, path.name)
    assert not result.articles and result.skipped[0].reason == "unreadable: permission denied"
