"""Where mailbox passwords come from: the environment, the system keyring, a prompt — and a
clear error for a scheduled run that has none of them."""

from __future__ import annotations

import keyring
import pytest
from keyring.errors import NoKeyringError
from keyrings import MemoryKeyring

from sync import secrets
from sync.mailbox import MailboxError

URL = "imaps://me%40corp.cn@imap.corp.cn"


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


# -- a secret belongs to one mailbox (issue 13) --------------------------------------------


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("imaps://me%40corp.cn@IMAP.Corp.CN", URL),
        ("IMAPS://me%40corp.cn@imap.corp.cn:993/", URL),
        ("imaps://me%40corp.cn@imap.corp.cn.", URL),
        ("imaps://me%40corp.cn@imap.corp.cn:994", "imaps://me%40corp.cn@imap.corp.cn:994"),
        ("smtp://me@smtp.corp.cn:587", "smtp://me@smtp.corp.cn"),
        ("smtps://me@smtp.corp.cn:465", "smtps://me@smtp.corp.cn"),
        ("smtp://me@smtp.corp.cn:25", "smtp://me@smtp.corp.cn:25"),
        ("ews://me@mail.corp.cn/EWS/Exchange.asmx/", "ews://me@mail.corp.cn/EWS/Exchange.asmx"),
    ],
)
def test_one_mailbox_has_one_entry_name_however_it_is_spelled(written: str, key: str) -> None:
    assert secrets.secret_key(written) == key


def test_a_stored_password_is_never_offered_to_another_user_host_port_or_path(
    ring: MemoryKeyring,
) -> None:
    secrets.store("imaps://me%40corp.cn@imap.corp.cn:993", "mine")
    assert ring.items == {("xlcrm", URL): "mine"}
    assert secrets.password("IMAPS://me%40corp.cn@Imap.Corp.Cn/") == "mine"
    for other in (
        "imaps://you%40corp.cn@imap.corp.cn",
        "imaps://me%40corp.cn@imap.other.cn",
        "imaps://me%40corp.cn@imap.corp.cn:994",
        "imap://me%40corp.cn@imap.corp.cn",
        "ews://me%40corp.cn@imap.corp.cn/EWS/Exchange.asmx",
    ):
        assert secrets.from_keyring(other) is None, other


def test_an_entry_stored_before_urls_were_normalised_is_still_found(ring: MemoryKeyring) -> None:
    ring.set_password("xlcrm", "imaps://me%40corp.cn@imap.corp.cn:993", "old")
    assert secrets.password("imaps://me%40corp.cn@imap.corp.cn:993") == "old"


def test_a_scoped_service_uses_the_environment_only_for_its_own_urls(
    ring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLCRM_PASSWORD", "service-env")
    monkeypatch.setattr(secrets, "getpass", None)  # a prompt would fail the test
    with secrets.scoped(["imaps://me%40corp.cn@imap.corp.cn:993"]):
        assert secrets.password(URL) == "service-env"
        with pytest.raises(MailboxError) as caught:
            secrets.password("imaps://attacker@evil.example")
        assert "service-env" not in str(caught.value)
        assert "xlcrm secret set 'imaps://attacker@evil.example'" in str(caught.value)
        assert not secrets.can_prompt()
    assert secrets.password("imaps://attacker@evil.example") == "service-env"  # the CLI's way


def test_xlcrm_secret_set_check_and_delete(ring: MemoryKeyring) -> None:
    """In-process through click's runner: the keyring is the in-memory backend above."""
    from click.testing import CliRunner

    from addin.cli import cli

    runner = CliRunner()
    stored = runner.invoke(
        cli, ["secret", "set", "IMAPS://me%40corp.cn@imap.corp.cn:993"], input="密码2026\n"
    )
    assert stored.exit_code == 0, stored.output
    assert stored.output == f"stored the password for {URL}\n"
    assert ring.items == {("xlcrm", URL): "密码2026"}
    assert "密码2026" not in stored.output
    assert runner.invoke(cli, ["secret", "check", URL]).exit_code == 0
    assert (
        runner.invoke(cli, ["secret", "delete", URL]).output == f"removed the password for {URL}\n"
    )
    assert runner.invoke(cli, ["secret", "check", URL]).exit_code == 1
    bad = runner.invoke(cli, ["secret", "set", "imaps://me:pw@host"], input="x\n")
    assert bad.exit_code == 1 and "passwords do not belong in mailbox URLs" in bad.output
