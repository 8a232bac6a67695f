"""The ingest group: watched folders, feeds, the embedding queue, wire copies, the status view."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from settings.base import ENV as _ENV


class IngestSettings(BaseSettings):
    """Watched folders, feeds, the embedding queue, wire-copy folding and what the status view reports."""

    model_config = _ENV

    # --- wire copies and versions (index/dedup.py, rag/wire.py) ---
    wire_threshold: float = Field(0.6, ge=0.1, le=0.9, description="Estimated Jaccard similarity of 5-word shingles from "
                                                               "which two articles are copies of one story (the LSH "
                                                               "threshold too). Measured on RealTime QA, 38 hand-"
                                                               "labelled pairs (`python -m evals.wire_report`): "
                                                               "precision 0.962, recall 0.844; 0.7 would miss three "
                                                               "labelled versions at 0.61-0.68.")
    wire_num_perm: int = Field(128, ge=64, le=1024, description="MinHash permutations per signature (datasketch's "
                                                                "default; a choice: +-0.04 on a Jaccard estimate; LSH "
                                                                "needs 2+ bands, so at most 0.9 for the threshold).")
    wire_shingle_words: int = Field(5, ge=1, le=20, description="Words per shingle (a choice: 5 keeps shared phrases "
                                                                "of one topic apart from shared passages of one copy).")
    wire_title_check_words: int = Field(300, ge=0, description="Texts shorter than this many words fold only when "
                                                               "their headlines agree too: identical site boilerplate "
                                                               "(35 The Week pages, 19 CNN ad forms in RealTime QA) "
                                                               "is that short.")
    wire_title_overlap: float = Field(0.6, gt=0, le=1, description="Headlines agree when they share two content "
                                                                   "words and this share of the shorter one's (0.5 "
                                                                   "folded The Week's boilerplate under 'Next Labour "
                                                                   "leader' and 'Next Tory leader').")
    wire_fold: bool = Field(True, description="Show one article per cluster in the evidence, the others as 'also "
                                              "reported by' (retrieval Hit@10 measured with and without it).")
    wire_listed: int = Field(10, ge=0, description="Most 'also reported by' entries kept per evidence (a choice).")
    # --- `newsdesk watch` (index/watch.py) ---
    watch_debounce_seconds: float = Field(1.0, gt=0, description="A file is read once this long has passed without "
                                                                 "an event for it and since its last write (a choice: "
                                                                 "editors and copies finish well within it).")
    watch_poll_seconds: float = Field(1.0, gt=0, description="How often the polling observer rescans, and how often "
                                                             "the watcher checks for folders that (re)appear (a choice).")
    watch_force_polling: bool = Field(False, description="Use watchdog's PollingObserver instead of OS file events "
                                                         "(network shares, containers without inotify); a choice.")
    watch_batch_files: int = Field(2000, ge=1, description="Most paths synced in one batch, so a burst is handled in "
                                                           "a few large syncs and SIGTERM is answered between them "
                                                           "(a choice).")
    watch_folder_files: int = Field(50, ge=1, description="When this many changed files share a folder, the folder is "
                                                          "synced as one path instead (a choice: one scan beats "
                                                          "thousands of per-file scopes).")
    watch_heartbeat_seconds: float = Field(5.0, gt=0, description="How often the watcher writes its heartbeat "
                                                                   "(catalog meta 'watcher'); a choice.")
    watch_retry_seconds: float = Field(30.0, gt=0, description="After a failed sync (disk full, store down) the "
                                                               "watcher retries after this long, doubling up to 10 "
                                                               "minutes (a choice).")
    # --- feeds (index/feeds.py, index/fetch.py) ---
    feed_interval_seconds: float = Field(900.0, ge=10, description="How often the watcher polls each feed: 15 minutes, "
                                                                   "the common RSS <ttl> and a polite default.")
    feed_timeout_seconds: float = Field(20.0, gt=0, description="Time allowed for one request: connecting and each "
                                                                "read wait at most this, and the whole body must "
                                                                "arrive within it too, not only each socket read "
                                                                "(a choice).")
    feed_max_mb: float = Field(5.0, gt=0, description="A feed or article page larger than this is refused and reading "
                                                      "stops there (a choice: large real feeds are under 2 MB).")
    feed_items_per_poll: int = Field(100, ge=1, description="Most new or changed items of one feed written per poll; "
                                                            "the rest wait for the next (a choice; feeds rarely list "
                                                            "more than 50).")
    feed_host_delay_seconds: float = Field(1.0, ge=0, description="Pause between two requests to the same host, one "
                                                                  "request at a time per host (a choice; a common "
                                                                  "crawl-delay).")
    feed_max_redirects: int = Field(5, ge=0, description="Redirects followed before a request is refused as a loop "
                                                         "(a choice; browsers allow about 20).")
    feed_user_agent: str = Field("newsdesk/0.1 (+https://github.com/newsdesk; feed reader)",
                                 description="User-Agent sent with every feed, page and robots.txt request (a choice: "
                                             "it names newsdesk).")
    feed_fetch_pages: bool = Field(True, description="Fetch each new item's article page and extract its text with "
                                                     "trafilatura (robots.txt permitting); off = feed text only.")
    feed_backoff_max_seconds: float = Field(21600.0, gt=0, description="Longest wait after repeated feed errors "
                                                                       "(6 hours; a choice).")

    watch_embed_threads: int | None = Field(None, ge=1, le=64, description="ONNX threads of a watcher's embedder "
                                            "(and `bench fresh`'s writer); unset: one per core. 1 (the other core "
                                            "left to questions) let the queue grow (bench fresh: 463 chunks "
                                            "waiting after 150 arrivals, against 271 with both cores).")
    watch_nice: int = Field(10, ge=0, le=19, description="How much lower the CPU priority of a watcher's (and `bench "
                            "fresh`'s writer's) embedding threads is than a reader's: its vectors take the cores "
                            "questions leave and yield them when a question comes, while its keyword commits keep "
                            "the normal priority (a choice, measured by bench fresh; 0: the same).")
    reader_reopen_chunks: int = Field(2000, ge=0, description="A reader (app, API, chat) scores the vectors another "
                                      "process committed since it loaded Chroma's index from the catalog, exactly "
                                      "(about 3 us a chunk), so no question waits for a reload; past this many "
                                      "such chunks it reloads the index in the background (about 0.3 s at 42,000 "
                                      "chunks, searches waiting). A choice: 2,000 is about 3 minutes of a one-"
                                      "article-a-second stream, a few ms a question.")
    embed_step_chunks: int = Field(16, ge=1, description="Pending chunks a watcher embeds between two checks for "
                                                         "new files (a new arrival waits for one step): 16 gave "
                                                         "keyword-answerable p50 5.4 s vs 18.0 s at 64 (`newsdesk "
                                                         "bench fresh --minutes 1 --rate 1 --base 300`, shared 2 cores).")
    stale_after_hours: float = Field(24.0, gt=0, description="The chat warns when the index was not updated for "
                                                             "longer than this (a choice: news goes stale in a day).")
    watcher_alive_seconds: float = Field(120.0, gt=0, description="A watcher whose heartbeat is older than this is "
                                                                  "shown as 'last seen' instead of running (a choice: "
                                                                  "several heartbeats missed).")
    lag_window_hours: float = Field(24.0, gt=0, description="The freshness view's publication-to-answerable lag "
                                                            "covers articles that arrived in this many hours "
                                                            "(the last day: a choice).")
    news_max_age_days: float = Field(7.0, gt=0, description="An article published more than this many days before "
                                                            "it arrived comes from an archive, not the news: it is "
                                                            "left out of the publication-to-answerable lag (a choice: "
                                                            "a feed's backlog is days old, an archive years).")
