"""The app's pages, one file each: ``st.navigation`` in app.py runs them as scripts (``st.Page(path)``).

Each file defines ``page()`` and calls it only when Streamlit runs the file (``__name__ == "__main__"``),
so tests and other modules can import its functions without rendering anything.
"""
