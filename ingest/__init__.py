"""What turns the outside world into articles: files and folders read (``loaders``, ``dates``), uploads
(``uploads``), folders watched (``watch``, ``watch_events``), feeds polled (``feeds``, ``fetch``, ``feed_state``)
and copies of one story folded (``dedup``, ``dedup_hooks``). The store they write to is ``index``."""
