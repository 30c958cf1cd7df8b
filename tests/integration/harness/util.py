"""Ports, paths and child processes shared by every fixture."""
import os
import socket
import subprocess
import time

SRCDIR = os.environ.get("ICSOE_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILDDIR = os.environ.get("ICSOE_BUILDDIR") or SRCDIR


def built(relpath):
    """Path of a build product (libtool puts shared objects in .libs/)."""
    for cand in (os.path.join(BUILDDIR, relpath),
                 os.path.join(BUILDDIR, os.path.dirname(relpath), ".libs",
                              os.path.basename(relpath))):
        if os.path.exists(cand):
            return cand
    raise FileNotFoundError(f"build product {relpath} not found under {BUILDDIR}")


def src(relpath):
    return os.path.join(SRCDIR, relpath)


def preload(*libs):
    """LD_PRELOAD value for a server or PAM application loading our
    modules.  In the sanitizer stage (scripts/test.d/40-sanitizers)
    ICSOE_PRELOAD names the ASan runtime, which must come first in a
    process that is not itself sanitized (apache2, pamtester)."""
    first = os.environ.get("ICSOE_PRELOAD")
    return " ".join(([first] if first else []) + [l for l in libs if l])


SANITIZED = bool(os.environ.get("ICSOE_SANITIZED"))


def free_port():
    """A port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_until(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class Child:
    """A server process run in the foreground, stopped on demand or at exit."""

    def __init__(self, argv, logpath, env=None, cwd=None):
        self.argv = argv
        self.logpath = logpath
        self.log = open(logpath, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env, cwd=cwd, start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=15, timeout=10, done=None):
        """Signal the process group and wait for it to exit (SIGKILL after
        timeout).  done: a line the server logs once it has shut down;
        when it is logged the process gets one more second to exit, then
        SIGKILL.  (An ASan-preloaded slapd logs "slapd stopped." and then
        deadlocks in libp11-kit's destructor, glibc's setlocale lock:
        without this every test would wait the whole timeout.)"""
        if self.proc.poll() is None:
            start = os.path.getsize(self.logpath)
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + timeout
            logged_at = None
            while self.proc.poll() is None and time.monotonic() < deadline:
                if done is not None and logged_at is None and done in self._log_since(start):
                    logged_at = time.monotonic()
                if logged_at is not None and time.monotonic() - logged_at > 1.0:
                    break
                time.sleep(0.02)
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(5)
        self.log.close()

    def _log_since(self, offset):
        with open(self.logpath, "rb") as f:
            f.seek(offset)
            return f.read()

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def read_log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")
