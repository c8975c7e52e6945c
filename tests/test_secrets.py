"""Where mailbox passwords come from: the environment, the system keyring, a prompt — and a
clear error for a scheduled run that has none of them."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import NoKeyringError

from sync import secrets
from sync.mailbox import MailboxError

URL = "imaps://me%40corp.cn@imap.corp.cn"


class MemoryKeyring(KeyringBackend):
    """A real keyring backend holding its entries in memory (no desktop keyring here)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[service, username] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


class NoKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise NoKeyringError("no recommended backend")


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    monkeypatch.delenv("XLCRM_PASSWORD", raising=False)
    yield backend
    keyring.set_keyring(previous)


def test_the_environment_comes_first(ring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    ring.set_password("xlcrm", URL, "from-keyring")
    monkeypatch.setenv("XLCRM_PASSWORD", "from-env")
    assert secrets.password(URL) == "from-env"


def test_the_keyring_entry_is_the_mailbox_url(ring: MemoryKeyring) -> None:
    ring.set_password("xlcrm", URL, "s3cret")
    assert secrets.password(URL) == "s3cret"
    assert secrets.from_keyring("imaps://other@imap.corp.cn") is None


def test_a_prompt_when_someone_is_at_the_terminal(
    ring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(secrets, "can_prompt", lambda: True)
    monkeypatch.setattr(secrets.getpass, "getpass", lambda text: asked.append(text) or "typed")
    assert secrets.password(URL) == "typed"
    assert asked == [f"password for {URL}: "]


def test_a_scheduled_run_without_a_secret_says_how_to_give_one(ring: MemoryKeyring) -> None:
    keyring.set_keyring(NoKeyring())  # a headless server: no keyring at all is no error
    with pytest.raises(MailboxError) as caught:
        secrets.password(URL)  # pytest's stdin is not a terminal: no prompt
    assert str(caught.value) == (
        f"{URL}: no password was given\n"
        f"  hint: set XLCRM_PASSWORD, or store it in the system keyring: xlcrm secret set '{URL}'"
    )


def test_other_secrets_name_their_own_variable(
    ring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLCRM_GRAPH_CLIENT_SECRET", "app-secret")
    assert secrets.secret(URL, variable="XLCRM_GRAPH_CLIENT_SECRET", what="client secret") == (
        "app-secret"
    )
    with pytest.raises(MailboxError, match="set XLCRM_TOKEN"):
        secrets.secret(URL, variable="XLCRM_TOKEN", what="token", prompt=False)
