"""Fault injection against the real servers (issue 8): slapd killed in the
middle of a login, an activation and a revalidation; the first LDAP URI
down; slapd stopped (SIGSTOP) while other pages keep being served; SMTP
down or refusing recipients; an Apache graceful restart (with a key
rotation) under load.

"In the middle" is made deterministic by LdapFaultProxy, a small TCP relay
between mod_icsoe and slapd that reads the LDAP messages going to slapd
(BER: tag, messageID, protocolOp) and, when an armed predicate matches a
message (e.g. the Modify that consumes an activation token), holds it --
or forwards it and swallows the answer -- and tells the test, which then
kills slapd with SIGKILL at exactly that point.  Afterwards the entry is
read as the rootdn to prove that nothing was half-written."""
import concurrent.futures
import hashlib
import datetime
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

from harness import apache as ha
from harness import util
from harness.apache import BROWSER, API
from harness.conf import IcsoeConf
from harness.smtp import SmtpSink

CURP = ha.curp("GOPJ800101HDFMRN0")
CURP_P = ha.curp("LOMA850505MJCPRR0")     # pending, for activation
NAME = "Juan Gómez Pérez"
PASSWORD = "Tlacuache-Nopal-Volcan-2024"
NEW_PASSWORD = "Ajolote Mezcal Huarache 77 norte"
RFC_A = ha.rfc("SEA010101AB")

LOGIN = "/icsoe/ingresar"
ACTIVATE = "/icsoe/activar"
RECOVER = "/icsoe/recuperar"
HOME = "/icsoe/inicio"
COOKIE = "icsoe_session"
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')

# LDAP protocolOp tags (RFC 4511, [APPLICATION n])
OP_BIND, OP_SEARCH, OP_MODIFY = 0x60, 0x63, 0x66

APP = """
<Location /app>
    AuthType ICSOE
    Require valid-user
</Location>
"""


# ---------------------------------------------------------------- helpers

def _ber_len(buf, pos):
    """(length, offset after the length octets) or None if incomplete."""
    if pos >= len(buf):
        return None
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    n = first & 0x7F
    if pos + 1 + n > len(buf):
        return None
    return int.from_bytes(buf[pos + 1:pos + 1 + n], "big"), pos + 1 + n


def split_ldap_messages(buf):
    """Complete LDAPMessages at the start of buf: ([bytes...], rest)."""
    out = []
    while len(buf) >= 2:
        if buf[0] != 0x30:
            raise ValueError(f"not an LDAPMessage: {buf[:8]!r}")
        got = _ber_len(buf, 1)
        if got is None:
            break
        length, start = got
        if len(buf) < start + length:
            break
        out.append(bytes(buf[:start + length]))
        buf = buf[start + length:]
    return out, buf


def ldap_op(msg):
    """(protocolOp tag, bind DN or None) of one LDAPMessage."""
    _, pos = _ber_len(msg, 1)
    assert msg[pos] == 0x02                    # messageID INTEGER
    pos += 2 + msg[pos + 1]
    tag = msg[pos]
    dn = None
    if tag == OP_BIND:
        _, p = _ber_len(msg, pos + 1)
        p += 2 + msg[p + 1]                    # version INTEGER
        assert msg[p] == 0x04                  # name LDAPDN
        n, p = _ber_len(msg, p + 1)
        dn = msg[p:p + n].decode("utf-8", "replace")
    return tag, dn


class LdapFaultProxy:
    """TCP relay 127.0.0.1:port -> slapd that can stop the conversation at
    one chosen LDAP operation.

    arm(pred, mode): the next client message with pred(tag, dn) true is
      mode "hold":   not forwarded (slapd never sees it);
      mode "mute":   forwarded, but nothing slapd answers on that
                     connection reaches the client any more.
    .fired is set when that happens.  A connection is closed towards the
    client as soon as slapd's side closes (slapd killed), and a new one is
    refused while slapd is down, exactly as if slapd itself were there."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.pred = None
        self.mode = None
        self.fired = threading.Event()
        self.seen = []            # (tag, dn) of every client message
        self.lock = threading.Lock()
        self.stopped = False
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, pred, mode="hold"):
        with self.lock:
            self.fired.clear()
            self.pred, self.mode = pred, mode

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream), timeout=2)
                up.settimeout(None)
            except OSError:
                client.close()
                continue
            state = {"mute": False}
            self.conns.append((client, up))
            threading.Thread(target=self._to_server, args=(client, up, state),
                             daemon=True).start()
            threading.Thread(target=self._to_client, args=(up, client, state),
                             daemon=True).start()

    def _to_server(self, client, up, state):
        buf = b""
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                buf += data
                msgs, buf = split_ldap_messages(buf)
                for m in msgs:
                    tag, dn = ldap_op(m)
                    self.seen.append((tag, dn))
                    action = None
                    with self.lock:
                        if self.pred is not None and self.pred(tag, dn):
                            action, self.pred = self.mode, None
                    if action == "hold":
                        self.fired.set()
                        continue
                    up.sendall(m)
                    if action == "mute":
                        state["mute"] = True
                        self.fired.set()
        except OSError:
            pass
        finally:
            _close(up)

    def _to_client(self, up, client, state):
        try:
            while True:
                data = up.recv(65536)
                if not data:
                    break
                if not state["mute"]:
                    client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client)
            _close(up)

    def drop_connections(self):
        """Cut every relayed connection (slapd stays up, new ones work)."""
        conns, self.conns = self.conns, []
        for c, u in conns:
            _close(c)
            _close(u)

    def close(self):
        self.stopped = True
        _close(self.sock)
        for c, u in self.conns:
            _close(c)
            _close(u)


def _close(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


def bind_of(curp):
    return lambda tag, dn: tag == OP_BIND and dn is not None and f"uid={curp}," in dn


def csrf_of(html):
    m = _CSRF.search(html)
    assert m, html[:1500]
    return m.group(1)


class Browser:
    def __init__(self, a):
        self.a = a
        self.s = requests.Session()
        self.s.headers.update(BROWSER)

    def get(self, path, **kw):
        return self.s.get(self.a.url(path), allow_redirects=False, timeout=30, **kw)

    def post(self, path, data, **kw):
        return self.s.post(self.a.url(path), data=data, allow_redirects=False,
                           timeout=30, **kw)

    def csrf(self, path=LOGIN):
        r = self.get(path)
        assert r.status_code == 200, r.text[:500]
        return csrf_of(r.text)

    def login(self, curp=CURP, password=PASSWORD):
        return self.post(LOGIN, {"csrf": self.csrf(), "curp": curp, "password": password})

    def cookie(self):
        return self.s.cookies.get(COOKIE)


def store_token(slapd, curp, purpose="activation", lifetime=3600):
    token = secrets.token_urlsafe(32)
    expiry = (datetime.datetime.now(datetime.timezone.utc)
              + datetime.timedelta(seconds=lifetime))
    slapd.modify(slapd.capturist_dn(curp), {
        "icsoeTokenHash": hashlib.sha256(token.encode()).hexdigest(),
        "icsoeTokenExpiry": expiry.strftime("%Y%m%d%H%M%SZ"),
        "icsoeTokenPurpose": purpose})
    return token


def entry(slapd, curp):
    return slapd.get(slapd.capturist_dn(curp),
                     ["icsoeStatus", "icsoeTokenHash", "icsoeTokenExpiry",
                      "icsoeTokenPurpose", "icsoeEpoch", "userPassword",
                      "pwdFailureTime", "pwdAccountLockedTime", "pwdChangedTime"])


def assert_unavailable_page(r):
    assert r.status_code == 503, (r.status_code, r.text[:500])
    assert "no está disponible" in r.text
    assert r.headers.get("Retry-After") == "30"
    assert r.headers.get("Cache-Control") == "no-store"


def assert_no_crash(a):
    log = a.error_log()
    assert "exit signal" not in log and "free(): " not in log, log[-2000:]


def in_thread(fn, *args):
    ex = concurrent.futures.ThreadPoolExecutor(1)
    fut = ex.submit(fn, *args)
    ex.shutdown(wait=False)
    return fut


class Env:
    """slapd (behind the fault proxy), an SMTP sink and apache2."""

    def __init__(self, tmp_path, slapd, smtp, apache, revalidate=60, proxy=True,
                 snippet=APP, uri=None, **conf_keys):
        self.slapd, self.smtp = slapd, smtp
        ha.add_contractor(slapd, RFC_A, "Servicios del Altiplano SA")
        ha.add_capturist(slapd, CURP, NAME, contractors=[RFC_A], password=PASSWORD)
        ha.add_capturist(slapd, CURP_P, "Ana López Mar", contractors=[RFC_A],
                         status="pending")
        self.proxy = LdapFaultProxy(slapd.port) if proxy else None
        if uri is None:
            uri = self.proxy.uri if proxy else slapd.uri
        conf_keys.setdefault("timeout", "2")
        self.conf = IcsoeConf(tmp_path / "etc", slapd, smtp, uri=uri, **conf_keys)
        self.a = apache(icsoe_conf_path=self.conf.path, revalidate=revalidate,
                        conf_snippet=snippet)
        os.makedirs(os.path.join(self.a.docroot, "app"), exist_ok=True)
        with open(os.path.join(self.a.docroot, "app", "index.html"), "w") as f:
            f.write("<!DOCTYPE html><title>app</title><p>protegido</p>\n")
        os.chmod(os.path.join(self.a.docroot, "app"), 0o755)
        os.chmod(os.path.join(self.a.docroot, "app", "index.html"), 0o644)

    def close(self):
        if self.proxy:
            self.proxy.close()


@pytest.fixture
def env(tmp_path, slapd, smtp, apache):
    e = Env(tmp_path, slapd, smtp, apache)
    yield e
    e.close()


@pytest.fixture
def env_reval(tmp_path, slapd, smtp, apache):
    """Revalidation on every protected request."""
    e = Env(tmp_path, slapd, smtp, apache, revalidate=0)
    yield e
    e.close()


# ------------------------------------------------ slapd killed mid-request

def test_slapd_killed_during_login(env):
    b = Browser(env.a)
    csrf = b.csrf()
    before = entry(env.slapd, CURP)
    env.proxy.arm(bind_of(CURP), "hold")
    fut = in_thread(b.post, LOGIN, {"csrf": csrf, "curp": CURP, "password": PASSWORD})
    assert env.proxy.fired.wait(10), "the capturist's bind never reached the proxy"
    # slapd dies while the capturist's bind is on its way
    env.slapd.kill(signal.SIGKILL)
    t0 = time.monotonic()
    r = fut.result(timeout=30)
    assert time.monotonic() - t0 < 2 + 2
    assert_unavailable_page(r)
    assert "Set-Cookie" not in r.headers       # no session was started
    assert b.get(HOME).status_code == 303
    env.a.wait_log(f"event=login-failed curp={CURP} client=127.0.0.1 "
                   "detail=directory-unavailable")
    # slapd back: nothing was recorded against the account, login works
    env.slapd.start()
    after = entry(env.slapd, CURP)
    assert after == before
    assert "pwdFailureTime" not in after and "pwdAccountLockedTime" not in after
    r = b.login()
    assert r.status_code == 303 and r.headers["Location"] == HOME, r.text[:500]
    assert b.get(HOME).status_code == 200
    assert_no_crash(env.a)


def activation_post(b, token, password=NEW_PASSWORD):
    csrf = csrf_of(b.get(f"{ACTIVATE}?t={token}").text)
    return {"csrf": csrf, "t": token, "password": password, "password_confirm": password}


def test_slapd_killed_before_the_activation_modify(env):
    """The token lookup went through; slapd dies before it sees the Modify
    that consumes the token: the account is untouched and the same link
    works once slapd is back."""
    token = store_token(env.slapd, CURP_P)
    b = Browser(env.a)
    data = activation_post(b, token)
    before = entry(env.slapd, CURP_P)
    env.proxy.arm(lambda tag, dn: tag == OP_MODIFY, "hold")
    fut = in_thread(b.post, ACTIVATE, data)
    assert env.proxy.fired.wait(10)
    env.slapd.kill(signal.SIGKILL)
    assert_unavailable_page(fut.result(timeout=30))
    env.slapd.start()
    after = entry(env.slapd, CURP_P)
    assert after == before
    assert after["icsoeStatus"] == ["pending"] and "userPassword" not in after
    assert after["icsoeTokenHash"] == [hashlib.sha256(token.encode()).hexdigest()]
    assert env.smtp.count() == 0               # no "contraseña registrada" mail
    # the link still works, once
    r = b.post(ACTIVATE, activation_post(b, token))
    assert r.status_code == 200 and "Tu contraseña se actualizó correctamente" in r.text
    e = entry(env.slapd, CURP_P)
    assert e["icsoeStatus"] == ["active"] and "icsoeTokenHash" not in e
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_P), NEW_PASSWORD)
    assert_no_crash(env.a)


def test_slapd_killed_after_the_activation_modify(env):
    """slapd applies the Modify and dies before its answer arrives: the
    user sees 503, and the account is completely activated (status, hashed
    password, token gone, epoch) -- the one Modify is all or nothing."""
    token = store_token(env.slapd, CURP_P)
    b = Browser(env.a)
    data = activation_post(b, token)
    env.proxy.arm(lambda tag, dn: tag == OP_MODIFY, "mute")
    fut = in_thread(b.post, ACTIVATE, data)
    assert env.proxy.fired.wait(10)
    util.wait_until(lambda: entry(env.slapd, CURP_P)["icsoeStatus"] == ["active"], 5,
                    "the Modify applied")
    env.slapd.kill(signal.SIGKILL)
    assert_unavailable_page(fut.result(timeout=30))
    env.slapd.start()
    e = entry(env.slapd, CURP_P)
    assert e["icsoeStatus"] == ["active"] and e["icsoeEpoch"] == ["1"]
    for attr in ("icsoeTokenHash", "icsoeTokenExpiry", "icsoeTokenPurpose"):
        assert attr not in e, attr
    assert len(e["userPassword"]) == 1 and e["userPassword"][0].startswith("{ARGON2}")
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_P), NEW_PASSWORD)
    # the spent link is refused; the new password logs in
    assert b.get(f"{ACTIVATE}?t={token}").status_code == 404
    r = b.login(CURP_P, NEW_PASSWORD)
    assert r.status_code == 303, r.text[:500]
    assert_no_crash(env.a)


def lose_the_activation_answer(env):
    """Activate with the connection cut after slapd applied the Modify
    (slapd itself stays up): the directory layer reconnects and retries."""
    token = store_token(env.slapd, CURP_P)
    b = Browser(env.a)
    data = activation_post(b, token)
    env.proxy.arm(lambda tag, dn: tag == OP_MODIFY, "mute")
    fut = in_thread(b.post, ACTIVATE, data)
    assert env.proxy.fired.wait(10)
    util.wait_until(lambda: entry(env.slapd, CURP_P)["icsoeStatus"] == ["active"], 5,
                    "the Modify applied")
    env.proxy.drop_connections()
    return b, fut.result(timeout=30)


def test_activation_answer_lost_with_slapd_up_leaves_a_consistent_account(env):
    b, r = lose_the_activation_answer(env)
    assert r.status_code in (200, 404, 503), r.status_code
    e = entry(env.slapd, CURP_P)
    assert e["icsoeStatus"] == ["active"] and e["icsoeEpoch"] == ["1"]
    assert "icsoeTokenHash" not in e and len(e["userPassword"]) == 1
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_P), NEW_PASSWORD)
    assert b.login(CURP_P, NEW_PASSWORD).status_code == 303
    assert_no_crash(env.a)


def test_activation_answer_lost_with_slapd_up_is_not_reported_as_refused(env):
    """The consuming Modify is applied but its answer is lost; the library
    re-sends it, ppolicy refuses the re-send ("in history"), and a bind with
    the new password shows the first attempt won: success, not a refusal."""
    _, r = lose_the_activation_answer(env)
    assert "rechazó la contraseña" not in r.text
    assert r.status_code in (404, 503) or "se actualizó" in r.text


def test_slapd_killed_during_revalidation(env_reval):
    env = env_reval
    b = Browser(env.a)
    assert b.login().status_code == 303
    assert b.get("/app/").status_code == 200
    cookie = b.cookie()
    env.proxy.arm(lambda tag, dn: tag == OP_SEARCH, "hold")
    fut = in_thread(b.get, "/app/")
    assert env.proxy.fired.wait(10)
    env.slapd.kill(signal.SIGKILL)
    r = fut.result(timeout=30)
    assert_unavailable_page(r)
    assert "protegido" not in r.text
    # fail closed, but the session is not thrown away for an outage
    assert "Max-Age=0" not in r.headers.get("Set-Cookie", "")
    assert b.cookie() == cookie
    r = b.s.get(env.a.url("/app/"), headers=API, allow_redirects=False, timeout=30)
    assert r.status_code == 503
    env.a.wait_log("revalidation impossible")
    env.slapd.start()
    r = b.get("/app/")
    assert r.status_code == 200 and "protegido" in r.text
    e = entry(env.slapd, CURP)
    assert e["icsoeStatus"] == ["active"] and e["icsoeEpoch"] == ["0"]
    assert_no_crash(env.a)


# ------------------------------------------------------------ failover

def test_first_uri_down_fails_over_within_the_timeout(tmp_path, slapd, smtp, apache):
    dead = f"ldap://127.0.0.1:{util.free_port()}"
    e = Env(tmp_path, slapd, smtp, apache, proxy=False, revalidate=0,
            uri=[dead, slapd.uri], timeout="3")
    b = Browser(e.a)
    csrf = b.csrf()
    t0 = time.monotonic()
    r = b.post(LOGIN, {"csrf": csrf, "curp": CURP, "password": PASSWORD})
    assert r.status_code == 303 and r.headers["Location"] == HOME, r.text[:500]
    assert time.monotonic() - t0 < 3
    # and every later directory call of the pages too
    for _ in range(3):
        t0 = time.monotonic()
        assert b.get(HOME).status_code == 200
        assert time.monotonic() - t0 < 3


def test_first_uri_hanging_fails_over_after_server_timeout(tmp_path, slapd, smtp, apache):
    """A first URI that accepts connections and never answers (a stopped
    server) costs server_timeout once: the login goes on with the next URI,
    and later requests of the same Apache process skip the hung one."""
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)
    try:
        e = Env(tmp_path, slapd, smtp, apache, proxy=False, revalidate=0,
                uri=[f"ldap://127.0.0.1:{hung.getsockname()[1]}", slapd.uri],
                timeout="4", server_timeout="1")
        b = Browser(e.a)
        csrf = b.csrf()
        t0 = time.monotonic()
        r = b.post(LOGIN, {"csrf": csrf, "curp": CURP, "password": PASSWORD})
        elapsed = time.monotonic() - t0
        assert r.status_code == 303 and r.headers["Location"] == HOME, r.text[:500]
        assert elapsed < 4 + 2, elapsed
        assert "is down" in e.a.error_log()
    finally:
        hung.close()


# ----------------------------------------------------- slapd stopped

def test_slapd_stopped_bounded_503_while_other_pages_are_served(env):
    b = Browser(env.a)
    csrf = b.csrf()
    cookie = b.cookie()
    pid = env.slapd.child.proc.pid
    os.killpg(pid, signal.SIGSTOP)
    try:
        def login():
            s = requests.Session()
            s.cookies.set(COOKIE, cookie, domain="127.0.0.1", path="/")
            t0 = time.monotonic()
            r = s.post(env.a.url(LOGIN), data={"csrf": csrf, "curp": CURP,
                                               "password": PASSWORD},
                       headers=BROWSER, allow_redirects=False, timeout=30)
            return r, time.monotonic() - t0

        def static(path):
            t0 = time.monotonic()
            r = requests.get(env.a.url(path), timeout=30)
            return r.status_code, time.monotonic() - t0

        with concurrent.futures.ThreadPoolExecutor(24) as ex:
            logins = [ex.submit(login) for _ in range(8)]
            time.sleep(0.3)                  # the logins are waiting on slapd now
            assert not any(f.done() for f in logins)
            others = [ex.submit(static, p) for p in
                      ("/index.html", "/icsoe/icsoe.css", LOGIN, RECOVER) * 4]
            for f in others:
                status, took = f.result(timeout=30)
                assert status == 200 and took < 1.0, (status, took)
            # meanwhile the logins are still waiting
            assert not all(f.done() for f in logins)
            for f in logins:
                r, took = f.result(timeout=30)
                assert_unavailable_page(r)
                assert took < 2 + 2, took    # timeout 2
    finally:
        os.killpg(pid, signal.SIGCONT)
    r = b.post(LOGIN, {"csrf": csrf, "curp": CURP, "password": PASSWORD})
    assert r.status_code == 303, r.text[:500]
    assert entry(env.slapd, CURP)["icsoeStatus"] == ["active"]
    assert_no_crash(env.a)


# ---------------------------------------------------------------- SMTP

def test_activation_with_smtp_down_stores_the_password_and_says_so(env):
    """The "contraseña registrada" notice cannot go out: the password is
    stored (the user is told it was saved, which is true) and the sysadmin
    sees why in the log."""
    token = store_token(env.slapd, CURP_P)
    env.smtp.stop()
    b = Browser(env.a)
    r = b.post(ACTIVATE, activation_post(b, token))
    assert r.status_code == 200 and "Tu contraseña se actualizó correctamente" in r.text
    e = entry(env.slapd, CURP_P)
    assert e["icsoeStatus"] == ["active"] and "icsoeTokenHash" not in e
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_P), NEW_PASSWORD)
    env.a.wait_log(f"notification mail to the capturist {CURP_P} not sent")
    assert b.login(CURP_P, NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize("mode", ["refuse", "down"])
def test_recovery_with_smtp_failing_leaves_the_account_as_it_was(tmp_path, slapd, apache,
                                                                  mode):
    sink = SmtpSink(tmp_path / "mail", refuse=(mode == "refuse"))
    sink.start()
    try:
        e = Env(tmp_path, slapd, sink, apache, proxy=False)
        if mode == "down":
            sink.stop()
        b = Browser(e.a)
        before = entry(slapd, CURP)
        r = b.post(RECOVER, {"csrf": b.csrf(RECOVER), "curp": CURP,
                             "email": f"{CURP.lower()}@example.test"})
        # the same page as for anything else (no enumeration) ...
        assert r.status_code == 200 and "Si los datos coinciden" in r.text
        # ... and the sysadmin is told
        e.a.wait_log(f"event=recover-ignored curp={CURP} client=127.0.0.1 "
                     "detail=mail-failed", timeout=15)
        after = entry(slapd, CURP)
        # the password and the status are untouched; the old password works
        for attr in ("icsoeStatus", "icsoeEpoch", "userPassword"):
            assert after.get(attr) == before.get(attr), attr
        assert slapd.can_bind(slapd.capturist_dn(CURP), PASSWORD)
        assert b.login().status_code == 303
        if mode == "refuse":
            assert sink.count() == 0
    finally:
        sink.stop()


def test_icsoectl_add_with_a_silent_smtp_server_is_bounded(tmp_path, slapd, smtp):
    """An SMTP server that accepts and never answers: icsoectl gives up
    within smtp_timeout, says the account exists but the mail was not sent
    (exit 3), and the account is a consistent pending one."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        conf = IcsoeConf(tmp_path / "etc", slapd, smtp,
                         smtp_url=f"smtp://127.0.0.1:{silent.getsockname()[1]}",
                         smtp_timeout="2")
        ctl = util.built("tools/icsoectl")
        r = subprocess.run([ctl, "-c", conf.path, "contractor", "add", "--rfc", RFC_A,
                            "--name", "Servicios"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode in (0, 2), r.stderr
        t0 = time.monotonic()
        r = subprocess.run([ctl, "-c", conf.path, "capturist", "add", "--curp",
                            ha.curp("MARR751120HVZRMS0"), "--name", "Raúl Mar",
                            "--email", "raul@example.test", "--contractor", RFC_A],
                           capture_output=True, text=True, timeout=60)
        assert time.monotonic() - t0 < 2 + 3
        assert r.returncode == 3, (r.stdout, r.stderr)
        assert "mail not sent" in r.stderr and "capturist resend --unsent" in r.stderr
        e = entry(slapd, ha.curp("MARR751120HVZRMS0"))
        assert e["icsoeStatus"] == ["pending"] and "userPassword" not in e
        assert e["icsoeTokenHash"]             # resend will replace it
    finally:
        silent.close()


# ---------------------------------------- graceful restart under load

def parse_wrk(out):
    m = re.search(r"(\d+) requests in", out)
    total = int(m.group(1)) if m else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                       r"timeout (\d+)", out)
    return total, int(non2xx.group(1)) if non2xx else 0, \
        tuple(int(x) for x in errors.groups()) if errors else (0, 0, 0, 0)


def test_graceful_restart_with_key_rotation_under_load(tmp_path, slapd, smtp, apache):
    """wrk hammers a protected page with one real session (revalidated
    against slapd every second, so the directory pool is busy too) while
    Apache restarts gracefully twice, the second time with a new key listed
    first.  Not one request fails; the old session is still valid; a new
    login is sealed with the new key only."""
    e = Env(tmp_path, slapd, smtp, apache, revalidate=1, proxy=False)
    a = e.a
    b = Browser(a)
    assert b.login().status_code == 303
    cookie = b.cookie()
    old_key = a.key_files[0]
    assert ha.open_cookie([old_key], "127.0.0.1", cookie)["curp"] == CURP
    # API Accept: a lost session would be a 401, which wrk counts
    argv = ["wrk", "-t2", "-c8", "-d8s", "-H", f"Cookie: {COOKIE}={cookie}",
            "-H", "Accept: application/json", "-H", "Connection: close",
            a.url("/app/index.html")]
    run = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        time.sleep(2)
        a.graceful()
        time.sleep(1.5)
        new_key = ha.write_key_file(str(tmp_path / "new.key"))
        a.set_key_files([new_key, old_key])
        a.graceful()
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    total, non2xx, sock_errors = parse_wrk(out)
    assert total > 500, out
    assert non2xx == 0, out
    assert sock_errors == (0, 0, 0, 0), out
    assert a.error_log().count("resuming normal operations") >= 3
    # the old session, sealed with the old key, is still valid ...
    r = b.get("/app/")
    assert r.status_code == 200 and "protegido" in r.text
    # ... and a new login is sealed with the new key
    b2 = Browser(a)
    assert b2.login().status_code == 303
    fresh = b2.cookie()
    assert ha.open_cookie([new_key], "127.0.0.1", fresh)["curp"] == CURP
    assert ha.open_cookie([old_key], "127.0.0.1", fresh) is None
    assert_no_crash(a)
