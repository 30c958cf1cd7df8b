"""SMTP sink: Debian's aiosmtpd storing every message in a Maildir.

    sink = SmtpSink(tmp_path / "mail")          # or refuse=True
    sink.start()
    ... conf smtp_url = sink.url ...
    msgs = sink.wait_for(1)                     # [email.message.EmailMessage]
    sink.links(msgs[0])                         # activation/reset links
    sink.stop()

With refuse=True every RCPT TO is answered "550 5.1.1 no such user"
(harness/smtp_refuse.py), for failure tests."""
import os
import re
import sys
import time

from . import util
from .maildir import MaildirReader

PYTHON = "/usr/bin/python3"  # Debian's: the PATH one cannot import aiosmtpd

# Maildir names from Python's mailbox module: TIME.M<usec>P<pid>Q<counter>.host
_MAILDIR_NAME = re.compile(r"^(\d+)\.M(\d+)P\d+Q(\d+)\.")
_LINK = re.compile(r"https?://[^\s<>\"]+[?&]t=[A-Za-z0-9_-]+")


class SmtpSink(MaildirReader):
    def __init__(self, workdir, refuse=False):
        self.workdir = os.fspath(workdir)
        self.refuse = refuse
        self.port = None
        self.url = None
        self.maildir = os.path.join(self.workdir, "Maildir")
        self.child = None

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub), exist_ok=True)
        self.port = util.free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        handler = ("harness.smtp_refuse.RefuseRecipients" if self.refuse
                   else "aiosmtpd.handlers.Mailbox")
        env = dict(os.environ)
        # the refusing handler is imported from tests/integration
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = here + os.pathsep + env.get("PYTHONPATH", "")
        argv = [PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
                "-c", handler, self.maildir]
        self.child = util.Child(argv, os.path.join(self.workdir, "aiosmtpd.log"), env=env)

        def up():
            if not self.child.alive():
                raise RuntimeError("aiosmtpd exited:\n" + self.child.read_log())
            return util.port_open(self.port)
        util.wait_until(up, timeout=15, what=f"aiosmtpd on port {self.port}")
        return self

    def stop(self):
        if self.child is not None:
            self.child.stop()
            self.child = None

    # ---- messages ----
    def _files(self):
        """Message files in arrival order (the Q counter of one process)."""
        found = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir, sub)
            for name in os.listdir(d):
                m = _MAILDIR_NAME.match(name)
                key = ((int(m.group(3)), int(m.group(1)), int(m.group(2)))
                       if m else (sys.maxsize, 0, 0))
                found.append((key, name, os.path.join(d, name)))
        found.sort()
        return [path for _, _, path in found]

    def wait_for(self, count, timeout=5):
        """Wait until at least count messages arrived; return them all."""
        util.wait_until(lambda: self.count() >= count, timeout=timeout,
                        what=f"{count} message(s) in {self.maildir}")
        # the Maildir write is a rename: complete once visible
        return self.messages()

    def clear(self):
        for path in self._files():
            os.unlink(path)

    @staticmethod
    def text(msg):
        return msg.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(msg):
        return msg.get_body(preferencelist=("html",)).get_content()

    @staticmethod
    def links(msg):
        """Activation/reset links (...?t=TOKEN) in the text part, in order."""
        return _LINK.findall(SmtpSink.text(msg))

    def assert_quiet(self, seconds=0.5):
        """Assert that nothing arrives for a moment (after a refused send)."""
        time.sleep(seconds)
        assert self.count() == 0, f"unexpected mail in {self.maildir}"
