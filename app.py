"""newsdesk chat UI (Streamlit): the entry point. Run it with ``streamlit run app.py``.

``NEWSDESK_*`` settings as for the command line. This file only sets up the page and registers
the pages, each a script under ``ui/pages`` with its own URL:

- **Chat** (``/``, ``/chat``): a conversation with streamed, cited answers (``ui/pages/chat.py``).
- **Library** (``/library``): list, search, add, re-index and delete articles (``ui/pages/library.py``).
- **Stories** (``/stories``): the newest stories, and a story's timeline, moves and disagreements (``ui/pages/stories.py``).
- **Evaluations** (``/evaluations``): run a suite and look at its results (``ui/pages/evaluations.py``).

Safety: article text, titles, outlets and quotes are data. They are only ever shown through
``ui.render.escape_md`` (every Markdown/HTML special character backslash-escaped) or in dataframes,
and no call in the UI uses ``unsafe_allow_html``. Links are shown only for http(s) URLs.
"""

from __future__ import annotations

import streamlit as st

WIDE_PAGES = {"evaluations"}  # its tables of metrics side by side need the width; the others read better narrow


def app_pages() -> list[st.Page]:
    """The pages, each a script run by ``st.navigation`` (paths are relative to this file)."""
    return [
        st.Page("ui/pages/chat.py", title="Chat", icon=":material/chat:", url_path="chat", default=True),
        st.Page("ui/pages/library.py", title="Library", icon=":material/library_books:", url_path="library"),
        st.Page("ui/pages/stories.py", title="Stories", icon=":material/timeline:", url_path="stories"),
        st.Page("ui/pages/evaluations.py", title="Evaluations", icon=":material/monitoring:", url_path="evaluations"),
    ]


def main() -> None:
    st.set_page_config(page_title="newsdesk", page_icon="📰")
    current = st.navigation(app_pages())
    st.set_page_config(layout="wide" if current.url_path in WIDE_PAGES else "centered")
    current.run()


if __name__ == "__main__":  # streamlit run app.py (and AppTest) run this file as __main__
    main()
