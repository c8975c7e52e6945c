"""The Office add-in's installation side: its manifest, its icons, and ``xlcrm addin setup``.

Excel loads an add-in from an XML manifest that points at web pages over HTTPS. ``xlcrm addin
setup`` makes what a person needs for that on their own machine: a small certificate authority
and a certificate for the service's host (Office refuses plain http), a manifest for the
service's URL, and plain instructions for trusting the one and loading the other. ``xlcrm
serve`` finds the certificate through :func:`server_ssl_paths`.
"""

from __future__ import annotations

from .home import server_ssl_paths, xlcrm_home
from .manifest import build_manifest
from .ribbon import GROUPS, VIEWS

__all__ = ["GROUPS", "VIEWS", "build_manifest", "server_ssl_paths", "xlcrm_home"]
