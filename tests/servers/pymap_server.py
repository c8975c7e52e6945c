"""pymap, a second and independent IMAP server (pure Python), on loopback.

pymap's in-memory ``dict`` backend runs its real IMAP service (the same ``IMAPService`` the
``pymap`` command starts) in a thread of the test process, with its own event loop. Running it
in-process rather than as ``pymap dict`` lets tests add users while it runs, so each test gets
an empty mailbox of its own; pymap's command line only knows one demo user.

pymap differs from Dovecot where it matters to a client: it only offers STARTTLS (no
implicit-TLS port) and refuses LOGIN before it, has no CONDSTORE (so no HIGHESTMODSEQ) and
no special-use attributes (roles come from folder names), and numbers UIDVALIDITY its own way.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from argparse import Namespace
from concurrent.futures import Future
from contextlib import AsyncExitStack

from pymap.backend.dict import Config, DictBackend, Identity
from pymap.imap import IMAPService
from pymap.user import Passwords, UserMetadata
from pysasl.hashing import BuiltinHash

from .tcp_cut import HOST, Certificate, free_port


class Pymap:
    """pymap's dict backend serving IMAP on ``port`` (with STARTTLS unless ``tls=False``)."""

    def __init__(self, certificate: Certificate, *, tls: bool = True) -> None:
        self.port = free_port()
        self.tls = tls  # False: no STARTTLS, LOGIN accepted in clear
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(certificate.cert, certificate.key)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._backend: DictBackend | None = None
        self._config: Config | None = None
        self._thread = threading.Thread(target=self._run, name="pymap", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(15) or self._error is not None:
            raise RuntimeError(f"pymap did not start: {self._error!r}")

    def add_user(self, name: str, password: str) -> None:
        done: Future[None] = asyncio.run_coroutine_threadsafe(
            self._add_user(name, password), self._loop
        )
        done.result(timeout=10)

    def stop(self) -> None:
        if self._stopping is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout=10)

    # -- in the server's thread

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to start() when it happens early
            self._error = error
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        args = Namespace(
            host=[HOST],
            port=str(self.port),
            cert=None,
            key=None,
            tls=self.tls,
            debug=False,
            passlib_cfg=None,
            proxy_protocol=None,
            inherited_sockets=None,
            demo_data=False,
            demo_user="demouser",
            demo_password="unused-demo-password",
        )
        backend, config = await DictBackend.init(
            args,
            ssl_context=self._context,
            invalid_user_sleep=0.0,
            # Passwords still stored hashed and checked at every login, with 1,000 rounds of
            # PBKDF2 instead of the default 500,000: 0.15 s of CPU per login and per new
            # user, on the server thread of the test process, cost the IMAP tests seconds.
            hash_context=BuiltinHash(rounds=1000),
        )
        config.apply_context()
        self._backend, self._config = backend, config
        self._stopping = asyncio.Event()
        async with AsyncExitStack() as stack:
            await backend.start(stack)
            await IMAPService(backend, config).start(stack)
            self._ready.set()
            await self._stopping.wait()

    async def _add_user(self, name: str, password: str) -> None:
        assert self._backend is not None and self._config is not None
        hashed = await Passwords(self._config).hash_password(password)
        identity = Identity(name, self._backend.login, None, frozenset())
        await identity.set(UserMetadata(self._config, name, password=hashed))
