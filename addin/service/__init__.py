"""The xlcrm service behind the Excel add-in: ``xlcrm serve`` (see ``docs/protocol.md``)."""

from .app import ServiceConfig, create_app

__all__ = ["ServiceConfig", "create_app"]
