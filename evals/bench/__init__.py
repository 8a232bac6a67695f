"""Benchmarks: ``newsdesk bench index|answer|load|scale``. Each one measures and prints figures; none
asserts anything (the tests and the CI gate do that).

- ``index``: indexing throughput, no-op and one-change re-syncs, disk and memory, on RealTime QA articles;
- ``answer``: the answerers side by side on the same questions, with their latency;
- ``load``: concurrent askers against one ``NewsDesk`` (in process, no network);
- ``scale``: indexing and querying generated corpora of 10k-100k articles.
"""
