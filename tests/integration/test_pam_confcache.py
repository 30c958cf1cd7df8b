"""pam_icsoe's configuration cache (pam_icsoe/confcache.c): one process,
several PAM calls, files changed between them.

A cached configuration must never outlive its files: a changed value, a
rotated secret, a file made writable by others or taken away all show on
the very next call.  Files younger than the cache's settle time (2 s) are
never cached, so every test lets the fixture's files age first; otherwise
it would pass without any cache at all.

pamdrv's "wait" operation stops between two calls of the module until the
test writes a line: one pamdrv process, one PAM handle, the module's state
kept in between."""
import os
import re
import subprocess
import time

import pytest

from harness import util
from harness.pam import PamEnv, add_capturist, curp
from harness.slapd import ssha

ACTIVE = curp("GOPJ800101HDFRRN0")
PW = "caballo correcto bateria 7"
SETTLE_S = 2          # ICSOE_CONFCACHE_SETTLE_S
CACHED = "unchanged (cached)"
LOADED = "loaded"


@pytest.fixture
def pam(tmp_path, slapd, icsoe_conf):
    add_capturist(slapd, ACTIVE, PW)
    env = PamEnv(tmp_path / "pam", icsoe_conf.path)
    env.service("icsoe", args="debug")
    env.slapd = slapd
    env.icsoe_conf = icsoe_conf
    # older than the settle time: from now on the cache may keep them
    time.sleep(SETTLE_S + 0.3)
    return env


class Session:
    """One pamdrv process doing auth, then wait + auth again n - 1 times."""

    def __init__(self, pam, tmp_path, calls, threads=None):
        ops = ["auth"] + ["wait", "auth"] * (calls - 1)
        argv = [pam.pamdrv_path, "-s", "icsoe", "-u", ACTIVE, "-k"]
        for _ in range(calls):
            argv += ["-r", PW]
        self.errpath = tmp_path / "pamdrv.err"
        self.err = open(self.errpath, "w")
        self.p = subprocess.Popen(argv + ops, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err,
                                  text=True, env=pam.env(debuglevel=2))
        self.results = []

    def next_result(self):
        """Code of the next auth, read up to the next 'waiting' or the end."""
        while True:
            line = self.p.stdout.readline()
            assert line != "", f"pamdrv ended early:\n{self.log()}"
            if line.startswith("auth: "):
                self.results.append(line.split()[2])
                return self.results[-1]

    def go_on(self):
        line = self.p.stdout.readline()
        assert line.strip() == "waiting", line + self.log()
        self.p.stdin.write("\n")
        self.p.stdin.flush()

    def log(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.errpath, encoding="utf-8", errors="replace") as f:
            return f.read()

    def config_lines(self):
        return [l for l in self.log().splitlines() if "auth: configuration /" in l]

    def close(self):
        self.p.stdin.close()
        rest = self.p.stdout.read()
        self.p.wait(timeout=60)
        self.err.close()
        return rest


def sequence(pam, tmp_path, steps):
    """steps: [(change or None, expected code)], one auth each (the first
    with change None).  Returns the Session's config log lines."""
    s = Session(pam, tmp_path, len(steps))
    try:
        for i, (change, want) in enumerate(steps):
            if i > 0:
                if change is not None:
                    change()
                s.go_on()
            got = s.next_result()
            assert got == want, f"call {i + 1}: {got} != {want}\n{s.log()}"
        s.close()
    finally:
        if s.p.poll() is None:
            s.p.kill()
            s.p.wait()
    return s.config_lines(), s.log()


def test_unchanged_configuration_is_not_read_again(pam, tmp_path):
    lines, _ = sequence(pam, tmp_path, [(None, "PAM_SUCCESS")] * 3)
    assert len(lines) == 3, lines
    assert LOADED in lines[0] and CACHED in lines[1] and CACHED in lines[2], lines


def test_changed_configuration_is_used_on_the_next_call(pam, tmp_path, slapd):
    conf = pam.icsoe_conf
    dead = f"ldap://127.0.0.1:{util.free_port()}"
    lines, _ = sequence(pam, tmp_path, [
        (None, "PAM_SUCCESS"),
        (None, "PAM_SUCCESS"),                              # from the cache
        (lambda: conf.write(uri=dead), "PAM_AUTHINFO_UNAVAIL"),
        (lambda: conf.write(uri=slapd.uri), "PAM_SUCCESS"),
    ])
    assert CACHED in lines[1] and LOADED in lines[2] and LOADED in lines[3], lines


def test_configuration_made_writable_by_others_is_refused_at_once(pam, tmp_path):
    path = pam.icsoe_conf.path
    assert os.stat(path).st_mode & 0o022 == 0
    lines, log = sequence(pam, tmp_path, [
        (None, "PAM_SUCCESS"),
        (None, "PAM_SUCCESS"),                              # from the cache
        (lambda: os.chmod(path, 0o666), "PAM_SERVICE_ERR"),
        (None, "PAM_SERVICE_ERR"),                          # nothing kept
        (lambda: os.chmod(path, 0o644), "PAM_SUCCESS"),
    ])
    assert CACHED in lines[1], lines
    assert "writable" in log, log


def test_secret_made_readable_by_others_is_refused_at_once(pam, tmp_path):
    secret = pam.icsoe_conf.keys["bindpw_file"]
    lines, log = sequence(pam, tmp_path, [
        (None, "PAM_SUCCESS"),
        (None, "PAM_SUCCESS"),
        (lambda: os.chmod(secret, 0o604), "PAM_SERVICE_ERR"),
        (lambda: os.chmod(secret, 0o600), "PAM_SUCCESS"),
    ])
    assert CACHED in lines[1], lines
    assert secret in log, log


def test_secret_taken_away_is_refused_at_once(pam, tmp_path):
    secret = pam.icsoe_conf.keys["bindpw_file"]
    with open(secret) as f:
        content = f.read()

    def put_back():
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(content)

    sequence(pam, tmp_path, [
        (None, "PAM_SUCCESS"),
        (None, "PAM_SUCCESS"),
        (lambda: os.unlink(secret), "PAM_SERVICE_ERR"),
        (put_back, "PAM_SUCCESS"),
    ])


def test_rotated_reader_secret_is_used_on_the_next_call(pam, tmp_path, slapd):
    """The reader's password changes in the directory, then in its file:
    the call after the file changed binds with the new one (a cache that
    kept the old secret would fail every call from then on)."""
    secret = pam.icsoe_conf.keys["bindpw_file"]
    new_pw = "rotado-" + slapd.reader_pw[:20]

    def rotate_in_directory():
        slapd.modify(slapd.reader_dn, {"userPassword": ssha(new_pw)})

    def rotate_file():
        with open(secret, "w") as f:
            f.write(new_pw + "\n")

    lines, _ = sequence(pam, tmp_path, [
        (None, "PAM_SUCCESS"),
        (None, "PAM_SUCCESS"),
        (rotate_in_directory, "PAM_SYSTEM_ERR"),    # the file still has the old one
        (rotate_file, "PAM_SUCCESS"),
    ])
    assert CACHED in lines[1] and CACHED in lines[2] and LOADED in lines[3], lines


def test_threads_share_the_cache_while_the_file_changes(pam, tmp_path):
    """8 threads x 15 transactions in one process while the configuration
    is replaced again and again (timeout 3 or 4): every authentication
    succeeds, entries are dropped and freed under the threads' feet."""
    path = pam.icsoe_conf.path
    with open(path) as f:
        text = f.read()
    assert "timeout 3\n" in text
    proc = subprocess.Popen(
        [pam.pamdrv_path, "-s", "icsoe", "-u", ACTIVE, "-r", PW, "-T", "8", "-n", "15",
         "auth"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=pam.env())
    rewrites = 0
    while proc.poll() is None and rewrites < 200:
        # replaced whole (rename), as editors and config management do
        with open(path + ".new", "w") as f:
            f.write(text.replace("timeout 3\n", f"timeout {3 + rewrites % 2}\n"))
        os.rename(path + ".new", path)
        rewrites += 1
        time.sleep(0.01)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err[-3000:]
    assert "auth PAM_SUCCESS: 120" in out, out


VALGRIND_ARGS = ["--error-exitcode=97", "--leak-check=full",
                 "--show-leak-kinds=definite,indirect",
                 "--errors-for-leak-kinds=definite,indirect",
                 "--track-origins=yes", "--num-callers=30", "--keep-debuginfo=yes",
                 f"--suppressions={util.src('tests/integration/valgrind.supp')}"]


@pytest.mark.skipif(util.SANITIZED, reason="valgrind cannot run the "
                    "ASan-built drivers of the sanitizer stage (scripts/test "
                    "runs this test in the normal build)")
def test_valgrind_clean_with_a_cached_configuration(pam):
    """4 threads sharing cached entries (auth and account), freed at exit."""
    r = pam.pamdrv(ACTIVE, "auth", "acct", answers=[PW], threads=4, rounds=3,
                   keep_going=True, valgrind=VALGRIND_ARGS, timeout=300,
                   debuglevel=2)
    assert r.returncode == 0, r.stderr[-6000:]
    assert r.counts.get(("auth", "PAM_SUCCESS")) == 12, r.stdout
    assert CACHED in r.stderr, r.stderr[-3000:]
    assert "ERROR SUMMARY: 0 errors" in r.stderr, r.stderr[-6000:]
    assert re.search(r"definitely lost: 0 bytes", r.stderr) or \
        "All heap blocks were freed" in r.stderr, r.stderr[-6000:]
