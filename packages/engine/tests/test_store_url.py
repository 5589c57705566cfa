"""open_store and redact_url: a store chosen by URL, and no password in any message."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from pos_engine import FileSessionStore, StoreConfigError, open_store, redact_url
from pos_engine import _store_url as store_url
from pos_engine.testing import make_session

STATE = Path(".praxis-os") / "state" / "workflows"


def _state_dir(store: object) -> Path:
    assert isinstance(store, FileSessionStore)
    return store.state_dir


def test_no_url_opens_the_projects_file_store(tmp_path: Path) -> None:
    for empty in (None, "", "  "):
        assert _state_dir(open_store(empty, project_root=tmp_path)) == tmp_path / STATE


def test_no_url_and_no_project_is_a_clear_error() -> None:
    with pytest.raises(StoreConfigError, match="no store URL and no project folder"):
        open_store(None)


def test_file_urls_and_bare_paths_name_a_project_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    expected = tmp_path / "proj" / STATE
    for url in (
        f"file://{tmp_path}/proj",
        f"file://localhost{tmp_path}/proj",
        f"file:{tmp_path}/proj",
        str(tmp_path / "proj"),
        tmp_path / "proj",
        "proj",
        "file://proj",
    ):
        assert _state_dir(open_store(url)) == expected, url


def test_a_file_url_without_a_folder_is_refused() -> None:
    with pytest.raises(StoreConfigError, match="names no folder"):
        open_store("file://")


def test_a_store_opened_by_url_shares_sessions_with_the_projects_default(tmp_path: Path) -> None:
    open_store(f"file://{tmp_path}").create(make_session("shared"))
    assert open_store(None, project_root=tmp_path).load("shared").version == 1


def test_a_libpq_keyword_string_is_refused_instead_of_becoming_a_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreConfigError, match="key=value") as caught:
        open_store("host=db password=hunter2 dbname=pos")
    assert "hunter2" not in str(caught.value)


def test_an_unknown_scheme_names_the_known_ones_and_hides_the_password() -> None:
    with pytest.raises(StoreConfigError) as caught:
        open_store("mysql://app:hunter2@db/pos")
    message = caught.value.message
    assert "hunter2" not in message
    assert message.startswith("store URL 'mysql://app:***@db/pos' has scheme 'mysql'")
    assert "file, postgres, postgresql" in message


def test_a_known_backend_that_is_not_installed_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_url, "entry_points", lambda **_: [])
    with pytest.raises(StoreConfigError) as caught:
        open_store("postgresql://app:hunter2@db:5432/pos")
    error = caught.value
    assert error.message == (
        "store URL 'postgresql://app:***@db:5432/pos' needs the pos-store-postgres package, "
        "which is not installed"
    )
    assert "pip install 'pos-store-postgres[binary]'" in error.remediation


def test_a_backend_that_returns_something_else_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    class NotAStore:
        @classmethod
        def from_url(cls, url: str) -> object:
            return cls()

    point = EntryPoint("weird", f"{__name__}:NotAStore", store_url.STORE_ENTRY_POINT_GROUP)
    monkeypatch.setattr(store_url, "entry_points", lambda **_: [point])
    monkeypatch.setattr(EntryPoint, "load", lambda self: NotAStore)
    with pytest.raises(StoreConfigError, match="returned NotAStore, not a SessionStore"):
        open_store("weird://x")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://app:s3cr%40t@db:5432/pos", "postgresql://app:***@db:5432/pos"),
        ("postgresql://app:@db/pos", "postgresql://app:***@db/pos"),
        ("postgresql://app@db/pos", "postgresql://app@db/pos"),
        (
            "postgresql://db/pos?sslmode=require&password=hunter2",
            "postgresql://db/pos?sslmode=require&password=***",
        ),
        ("postgres://u:p@[::1]:5432/x", "postgres://u:***@[::1]:5432/x"),
        ("/srv/project", "/srv/project"),
        ("postgresql://u:p@db:notaport/x", "postgresql://u:***@db:notaport/x"),
        ("postgresql://[::1/x", "postgresql://<unparseable URL>"),
    ],
)
def test_redact_url_hides_every_password(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_an_existing_store_is_required_when_asked(tmp_path: Path) -> None:
    with pytest.raises(StoreConfigError, match="holds no sessions"):
        open_store(f"file://{tmp_path}/typo", existing=True)
    assert not (tmp_path / "typo").exists()
    open_store(tmp_path)  # creates it
    assert _state_dir(open_store(str(tmp_path), existing=True)) == tmp_path / STATE
