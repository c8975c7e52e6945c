"""A keyring backend for the tests: the system keychain (Windows Credential Manager, macOS
Keychain, Secret Service) cannot run here, so tests install this one, a real
``keyring.backend.KeyringBackend`` that keeps its entries in memory — xlcrm's code goes through
the ``keyring`` package exactly as with a desktop keyring."""

from __future__ import annotations

from keyring.backend import KeyringBackend


class MemoryKeyring(KeyringBackend):
    """Entries by ``(service, username)``, in :attr:`items`."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)
