"""NEWSDESK_UI_READ_ONLY: the Library page of a shared app lists articles but offers no write action."""

from __future__ import annotations

import os

import pytest

from tests.ui.conftest import new_session

WRITE_BUTTONS = {"Delete selected", "Index uploaded files", "Add article", "Index this path", "Re-index everything"}


@pytest.fixture
def app_env(monkeypatch, tmp_path, home):
    def use(**extra: str) -> None:
        for key in list(os.environ):
            if key.startswith(("NEWSDESK_", "OPENAI_")):
                monkeypatch.delenv(key)
        monkeypatch.setenv("NEWSDESK_HOME", str(home))
        for key, value in extra.items():
            monkeypatch.setenv(key, value)
        (tmp_path / "cwd").mkdir(exist_ok=True)
        monkeypatch.chdir(tmp_path / "cwd")  # no developer .env

    return use


@pytest.mark.parametrize("read_only", [False, True])
def test_read_only_mode_hides_the_library_write_actions(app_env, read_only):
    app_env(**({"NEWSDESK_UI_READ_ONLY": "true"} if read_only else {}))
    library = new_session("library")
    labels = {b.label for b in library.button} | {getattr(f, "label", "") for f in library.get("form_submit_button")}
    listed = [d.value for d in library.dataframe if "title" in d.value.columns]
    assert listed and len(listed[0]) == 3  # the articles are listed either way
    if read_only:
        assert not labels & WRITE_BUTTONS, labels
        assert any("read-only" in c.value for c in library.caption)
    else:
        assert {"Delete selected", "Index uploaded files", "Index this path"} <= labels, labels
