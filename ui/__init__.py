"""newsdesk's Streamlit UI: the pages (``ui/pages``), the sidebar, safe rendering and the cached resources.

``app.py`` is the entry point (``streamlit run app.py``); it only registers the pages below.
"""
