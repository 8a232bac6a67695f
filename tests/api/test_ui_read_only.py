"""NEWSDESK_UI_READ_ONLY: the Library page of a shared app lists articles but offers no write action."""

from __future__ import annotations

import pytest

from tests.helpers import new_session

WRITE_BUTTONS = {"Delete selected", "Index uploaded files", "Add article", "Index this path", "Re-index everything"}


@pytest.mark.parametrize("read_only", [False, True])
def test_read_only_mode_hides_the_library_write_actions(use_home, home, read_only):
    use_home(home, **({"NEWSDESK_UI_READ_ONLY": "true"} if read_only else {}))
    library = new_session("library")
    labels = {b.label for b in library.button} | {getattr(f, "label", "") for f in library.get("form_submit_button")}
    listed = [d.value for d in library.dataframe if "title" in d.value.columns]
    assert listed and len(listed[0]) == 3  # the articles are listed either way
    if read_only:
        assert not labels & WRITE_BUTTONS, labels
        assert any("read-only" in c.value for c in library.caption)
    else:
        assert {"Delete selected", "Index uploaded files", "Index this path"} <= labels, labels
