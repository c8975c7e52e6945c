"""A real Dovecot IMAP server on loopback, with its own configuration, for the IMAP tests.

Everything lives in one private directory: the configuration, the passwd-file users, the
Maildirs, the runtime sockets and the log. ``dovecot -F -c CONF`` runs in the foreground as a
child process and never touches the system's Dovecot (its own ``base_dir`` and ``state_dir``).

- IMAP with STARTTLS and IMAPS on free loopback ports, with a test CA's certificate;
- passwd-file users, added while the server runs (a file per user), so every test gets a
  mailbox of its own;
- special-use folders created for every user: ``已发送`` (``\\Sent``) and ``Brouillons``
  (``\\Drafts``, a name no name-based guess would recognise);
- CONDSTORE (Dovecot advertises it by default), and ``imap_id_log = *`` so the log shows
  the ID a client sent.

Run as root (CI), the login processes run as ``dovenull`` and mail is stored as ``nobody``;
run as anyone else, everything runs as that user.
"""

from __future__ import annotations

import getpass
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .tcp_cut import HOST, Certificate, free_port

DOVECOT = "/usr/sbin/dovecot"

_CONFIG = """\
protocols = imap
listen = {host}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {uid}
last_valid_uid = 0
first_valid_gid = {gid}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_cache_size = 0
# A wrong password is answered at once (Dovecot's default waits 2 s, which only slows tests).
auth_failure_delay = 0
imap_id_log = *
imap_id_send = name
mail_location = maildir:{root}/mail/%u
mail_fsync = never

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users/%u
  default_fields = uid={uid} gid={gid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox "已发送" {{
    special_use = \\Sent
    auto = create
  }}
  mailbox Brouillons {{
    special_use = \\Drafts
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {imaps_port}
    ssl = yes
  }}
{login_chroot}}}
service anvil {{
  chroot =
  # No "auth penalty": after a failed login anvil delays every later login from the same
  # address by 2, 4, 8… up to 15 s for half a minute, so the wrong-password tests made the
  # IMAP tests after them up to 8 s slower each. The auth process finds this socket closed
  # to it and keeps no penalty (login_trusted_networks does not lift it in 2.3).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class Dovecot:
    """A running Dovecot: ``imap_port`` (STARTTLS), ``imaps_port``, ``add_user``, ``log``."""

    def __init__(self, certificate: Certificate) -> None:
        # A short path of our own: Unix socket paths are limited to 108 bytes, and as root the
        # mail processes (``nobody``) must be able to walk into it.
        self.root = Path(tempfile.mkdtemp(prefix="xlcrm-dovecot-"))
        self.root.chmod(0o755)
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self.config = self.root / "dovecot.conf"
        self._process: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            login_user, internal_user, mail_user = "dovenull", "dovecot", "nobody"
            chroot = ""
        else:
            login_user = internal_user = mail_user = getpass.getuser()
            chroot = "  chroot =\n"  # only root can chroot
        entry = pwd.getpwnam(mail_user)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        for sub in ("mail", "home"):
            (self.root / sub).mkdir()
            os.chown(self.root / sub, self.uid, self.gid)
        tls = self.root / "tls"
        tls.mkdir()
        shutil.copy(certificate.cert, tls / "server.pem")
        shutil.copy(certificate.key, tls / "server.key")
        (self.root / "users").mkdir()
        self.config.write_text(
            _CONFIG.format(
                host=HOST,
                root=self.root,
                login_user=login_user,
                internal_user=internal_user,
                uid=self.uid,
                gid=self.gid,
                cert=tls / "server.pem",
                key=tls / "server.key",
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
                login_chroot=chroot,
            ),
            encoding="utf-8",
        )

    @property
    def log_file(self) -> Path:
        return self.root / "dovecot.log"

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def add_user(self, name: str, password: str) -> None:
        """A new account. One passwd-file per user (``users/%u``): Dovecot looks a changed
        passwd-file up again at most once a second, too slow for a user per test."""
        (self.root / "users" / name).write_text(f"{name}:{{PLAIN}}{password}::::::\n")

    def start(self) -> None:
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
                raise RuntimeError(f"dovecot did not start:\n{error}\n{self._log_tail()}")
            if _listening(self.imap_port) and _listening(self.imaps_port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not listen within 15 s:\n{self._log_tail()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stderr is not None:
            process.stderr.close()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log().splitlines()[-30:])
        except OSError:
            return "(no log)"


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False
