"""Scale-out stage (issue 15): two slapd in mirror mode, two apache2 nodes
with mod_icsoe that share nothing but the session key file, and PAM
through pam_wrapper, all with the same ordered uri list.  The tests run in
file order on one cluster; the destructive ones (SIGSTOP, SIGKILL, restart
of ldap1) come last.  Which directory server did the work is read from the
slapd logs (BIND and MOD lines of the capturists), the state from the
entries as the rootdn.  Bounds on waiting are generous: the stage must
pass on a loaded 2-core machine."""
import concurrent.futures
import datetime
import hashlib
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
from harness.apache import API, BROWSER, Apache
from harness.conf import IcsoeConf
from harness.pam import PamEnv
from harness.slapd import mirror_pair, wait_in_sync
from harness.smtp import SmtpSink

LOGIN, ACTIVATE, HOME, SELECT = ("/icsoe/ingresar", "/icsoe/activar", "/icsoe/inicio",
                                 "/icsoe/contratista")
COOKIE = "icsoe_session"
RFC_1, RFC_2 = ha.rfc("SEA010101AB"), ha.rfc("MAY020202CD")
PW = "Tlacuache-Nopal-Volcan-2024"
REVALIDATE = 1
APP = """
<Location /app>
    AuthType ICSOE
    Require valid-user
</Location>
"""
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')
_N = iter(range(12 * 28))


def new_curp():
    """A fresh valid CURP per account (birth date varies; ha.curp adds the
    check digit)."""
    n = next(_N)
    return ha.curp(f"GOPJ80{n // 28 + 1:02d}{n % 28 + 1:02d}HDFMRN0")


def csrf_of(html):
    m = _CSRF.search(html)
    assert m, html[:1500]
    return m.group(1)


class Browser:
    """One user agent; node picks the Apache node of each request (the
    cookie goes wherever the load balancer sends it)."""

    def __init__(self):
        self.s = requests.Session()
        self.s.headers.update(BROWSER)

    def get(self, node, path, **kw):
        return self.s.get(node.url(path), allow_redirects=False, timeout=60, **kw)

    def post(self, node, path, data, **kw):
        return self.s.post(node.url(path), data=data, allow_redirects=False, timeout=60,
                           **kw)

    def login(self, node, curp, password=PW):
        r = self.get(node, LOGIN)
        assert r.status_code == 200, r.text[:300]
        return self.post(node, LOGIN, {"csrf": csrf_of(r.text), "curp": curp,
                                       "password": password})

    def cookie(self):
        return self.s.cookies.get(COOKIE)


class Cluster:
    def __init__(self, tmp):
        self.tmp = os.fspath(tmp)
        self.l1, self.l2 = mirror_pair(os.path.join(self.tmp, "ldap"))
        self.smtp = SmtpSink(os.path.join(self.tmp, "mail"))
        self.nodes = []
        self.l1.start()
        self.l2.start()
        self.smtp.start()
        self.l1.set_policy(pwdMaxFailure=6)
        ha.add_contractor(self.l1, RFC_1, "Servicios del Altiplano SA")
        ha.add_contractor(self.l1, RFC_2, "Servicios del Mayab SC")
        wait_in_sync(self.l1, self.l2)
        self.key = ha.write_key_file(os.path.join(self.tmp, "session.key"))
        self.confs = []
        for name in ("A", "B"):
            conf = self.conf(name)
            node = Apache(os.path.join(self.tmp, f"node{name}"), icsoe_conf_path=conf.path,
                          key_files=[self.key], revalidate=REVALIDATE, conf_snippet=APP)
            os.makedirs(os.path.join(node.docroot, "app"), exist_ok=True)
            with open(os.path.join(node.docroot, "app", "index.html"), "w") as f:
                f.write("<!DOCTYPE html><title>app</title><p>protegido</p>\n")
            os.chmod(os.path.join(node.docroot, "app"), 0o755)
            os.chmod(os.path.join(node.docroot, "app", "index.html"), 0o644)
            node.start()
            self.nodes.append(node)
        self.A, self.B = self.nodes
        # a PAM host holds only the reader's secret (schema/README.md)
        pam_conf = self.conf("pam")
        pam_conf.write(writer_binddn=None, writer_bindpw_file=None)
        self.pam = PamEnv(os.path.join(self.tmp, "pam"), pam_conf.path)

    def conf(self, name):
        """Each host has its own icsoe.conf, all with the same uri order."""
        c = IcsoeConf(os.path.join(self.tmp, f"etc-{name}"), self.l1, self.smtp,
                      uri=[self.l1.uri, self.l2.uri], timeout="4", server_timeout="2",
                      server_down_time="4", failback_interval="2")
        self.confs.append(c)
        return c

    def ctl(self, *args):
        argv = [util.built("tools/icsoectl"), "-c", self.confs[0].path] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    def capturist(self, password=PW, status="active", contractors=(RFC_1, RFC_2)):
        curp = new_curp()
        ha.add_capturist(self.l1 if self.l1.child else self.l2, curp, "Juan Gómez Pérez",
                         contractors=contractors, status=status, password=password)
        return curp

    def token(self, curp, via=None):
        s = via or self.l1
        token = secrets.token_urlsafe(32)
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        s.modify(s.capturist_dn(curp), {
            "icsoeTokenHash": hashlib.sha256(token.encode()).hexdigest(),
            "icsoeTokenExpiry": expiry.strftime("%Y%m%d%H%M%SZ"),
            "icsoeTokenPurpose": "activation"})
        return token

    def sync(self):
        wait_in_sync(self.l1, self.l2)

    def pam_auth(self, curp, password):
        return self.pam.pamdrv(curp, "auth", answers=[password]).code("auth")

    def stop(self):
        for n in self.nodes:
            n.stop()
        for s in (self.l1, self.l2):
            if s.child is not None and s.child.alive():
                s.child.signal(signal.SIGCONT)
            s.stop()
        self.smtp.stop()


@pytest.fixture(scope="module")
def cl(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("mirror"))
    yield c
    c.stop()


def user_ops(s, kind="BIND"):
    """Lines of slapd s's log with an operation of kind on a capturist."""
    if s.child is None:
        return []
    return [ln for ln in s.child.read_log().splitlines()
            if f'{kind} dn="uid=' in ln and ",ou=capturistas," in ln]


def activate(b, node, token, password):
    r = b.get(node, f"{ACTIVATE}?t={token}")
    if r.status_code != 200:
        return r
    return b.post(node, ACTIVATE, {"csrf": csrf_of(r.text), "t": token, "password": password,
                                   "password_confirm": password})


def activated(r):
    return r.status_code == 200 and "se actualizó" in r.text


def refused_link(r):
    return r.status_code == 404 and "no es válida" in r.text


def select(b, node, rfc):
    r = b.get(node, SELECT)
    assert r.status_code == 200, r.text[:300]
    return b.post(node, SELECT, {"csrf": csrf_of(r.text), "step": "continuar", "rfc": rfc})


# ------------------------------------------------------------------ healthy

def test_activation_on_a_login_on_b_selection_on_a_protected_on_b(cl):
    curp = cl.capturist(password=None, status="pending")
    token = cl.token(curp)
    cl.sync()
    b = Browser()
    new = "Ajolote Mezcal Huarache 77 norte"
    assert activated(activate(b, cl.A, token, new))
    cl.sync()
    r = b.login(cl.B, curp, new)
    assert r.status_code == 303, r.text[:500]
    r = select(b, cl.A, RFC_2)
    assert r.status_code == 303 and r.headers["Location"] == HOME, r.text[:300]
    r = b.get(cl.B, "/app/index.html")
    assert r.status_code == 200 and "protegido" in r.text
    assert RFC_2 in b.get(cl.B, HOME).text
    # everything went to ldap1
    assert not user_ops(cl.l2) and not user_ops(cl.l2, "MOD")
    # the audit lines name the node, so the logs of both can be merged
    host = socket.gethostname()
    cl.A.wait_log(f"icsoe audit: node={host} event=select-ok curp={curp}")
    cl.B.wait_log(f"icsoe audit: node={host} event=login-ok curp={curp}")


def test_twenty_uses_of_one_link_split_over_both_nodes(cl):
    curp = cl.capturist(password=None, status="pending")
    token = cl.token(curp)
    cl.sync()

    def racer(i):
        node = cl.A if i % 2 else cl.B
        b = Browser()
        r = b.get(node, f"{ACTIVATE}?t={token}")
        return b, node, csrf_of(r.text), f"tortuga-marina-{i:02d}-azul-{secrets.token_hex(3)}"
    racers = [racer(i) for i in range(20)]
    start = threading.Barrier(20)

    def post(rc):
        b, node, csrf, pw = rc
        start.wait()
        r = b.post(node, ACTIVATE, {"csrf": csrf, "t": token, "password": pw,
                                    "password_confirm": pw})
        return pw, r
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        results = list(ex.map(post, racers))
    winners = [pw for pw, r in results if activated(r)]
    assert len(winners) == 1, [(r.status_code, r.text[:100]) for _, r in results]
    assert sum(refused_link(r) for _, r in results) == 19
    cl.sync()
    for s in (cl.l1, cl.l2):
        e = s.get(s.capturist_dn(curp), ["icsoeEpoch", "icsoeTokenHash", "icsoeStatus"])
        assert e["icsoeEpoch"] == ["1"] and "icsoeTokenHash" not in e, e
        assert s.can_bind(s.capturist_dn(curp), winners[0])


def test_lockout_counted_across_both_nodes_and_pam(cl):
    curp = cl.capturist()
    for i in range(3):
        assert Browser().login(cl.A, curp, f"wrong-a-{i}").status_code == 200
    for i in range(2):
        assert Browser().login(cl.B, curp, f"wrong-b-{i}").status_code == 200
    assert cl.pam_auth(curp, "wrong-pam") == "PAM_AUTH_ERR"
    cl.sync()
    assert Browser().login(cl.A, curp).status_code != 303
    assert Browser().login(cl.B, curp).status_code != 303
    assert cl.pam_auth(curp, PW) != "PAM_SUCCESS"
    for s in (cl.l1, cl.l2):
        e = s.get(s.capturist_dn(curp), ["pwdAccountLockedTime"])
        assert e.get("pwdAccountLockedTime"), (s.uri, e)


def test_icsoectl_lock_is_denied_on_both_nodes_within_the_interval(cl):
    curp = cl.capturist()
    b = Browser()
    assert b.login(cl.A, curp).status_code == 303
    assert select(b, cl.A, RFC_1).status_code == 303
    for node in cl.nodes:
        assert b.get(node, "/app/index.html").status_code == 200
    r = cl.ctl("capturist", "lock", curp)
    assert r.returncode == 0, r.stdout + r.stderr
    t0 = time.monotonic()
    for node in cl.nodes:
        util.wait_until(lambda: b.get(node, "/app/index.html", headers=API).status_code == 401,
                        REVALIDATE + 10, f"lock seen by {node.url()}")
    assert time.monotonic() - t0 < REVALIDATE + 10


def test_key_rotation_across_both_nodes_loses_no_session(cl):
    curp = cl.capturist()
    b = Browser()
    assert b.login(cl.A, curp).status_code == 303
    assert select(b, cl.B, RFC_1).status_code == 303
    old = cl.key
    new = ha.write_key_file(os.path.join(cl.tmp, "session-new.key"))
    # step 1 on every node: the new key is accepted; step 2: it seals
    for keys in ([old, new], [new, old]):
        for node in cl.nodes:
            node.set_key_files(keys)
            node.graceful()
            for n in cl.nodes:
                assert b.get(n, "/app/index.html").status_code == 200
    b2 = Browser()
    assert b2.login(cl.B, curp).status_code == 303
    assert ha.open_cookie([new], "127.0.0.1", b2.cookie())["curp"] == curp
    assert b2.get(cl.A, HOME).status_code == 200
    cl.key = new


# ------------------------------------------------------------------ ldap1 fails

def test_sigstop_of_ldap1_is_a_bounded_wait_then_failover(cl):
    curp = cl.capturist()
    cl.sync()
    cl.l1.child.signal(signal.SIGSTOP)
    try:
        for node in cl.nodes:
            b = Browser()
            r = b.get(node, LOGIN)
            t0 = time.monotonic()
            # a process may have had a connection to ldap1: one 503 within timeout
            for _ in range(3):
                r = b.post(node, LOGIN, {"csrf": csrf_of(r.text), "curp": curp,
                                         "password": PW})
                if r.status_code == 303:
                    break
                assert r.status_code == 503 and "no está disponible" in r.text, r.status_code
                r = b.get(node, LOGIN)
            assert r.status_code == 303
            assert time.monotonic() - t0 < 3 * (4 + 2) + 10
        assert cl.pam_auth(curp, PW) == "PAM_SUCCESS"
    finally:
        cl.l1.child.signal(signal.SIGCONT)
    cl.sync()


def test_sigkill_of_ldap1_under_load(cl):
    users = [cl.capturist() for _ in range(4)]
    pending = cl.capturist(password=None, status="pending")
    locked = cl.capturist()
    cl.sync()
    stop = threading.Event()
    outcomes = []

    def load(i):
        node = cl.nodes[i % 2]
        while not stop.is_set():
            b = Browser()
            try:
                r = b.login(node, users[i])
                ok = r.status_code == 303 and b.get(node, "/app/index.html").status_code == 200
                outcomes.append((time.monotonic(), ok))
            except requests.RequestException:
                outcomes.append((time.monotonic(), False))
    threads = [threading.Thread(target=load, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)
        killed = time.monotonic()
        cl.l1.kill()
        time.sleep(6)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    after = [ok for t, ok in outcomes if t > killed + 4 + 2]
    assert after and all(after), outcomes[-20:]
    # logins and PAM on ldap2
    for node in cl.nodes:
        assert Browser().login(node, users[0]).status_code == 303
    assert cl.pam_auth(users[1], PW) == "PAM_SUCCESS"
    # an activation during the outage (the link was stored before the kill)
    token = cl.token(pending, via=cl.l2)
    assert activated(activate(Browser(), cl.B, token, "Ajolote Mezcal Huarache 88 sur"))
    cl.outage_link = token
    # lockout keeps counting: 3 on A + 2 on B + 1 PAM
    for i in range(3):
        Browser().login(cl.A, locked, f"wrong-a-{i}")
    for i in range(2):
        Browser().login(cl.B, locked, f"wrong-b-{i}")
    assert cl.pam_auth(locked, "wrong-pam") == "PAM_AUTH_ERR"
    assert cl.pam_auth(locked, PW) != "PAM_SUCCESS"
    assert Browser().login(cl.A, locked).status_code != 303
    e = cl.l2.get(cl.l2.capturist_dn(locked), ["pwdAccountLockedTime"])
    assert e.get("pwdAccountLockedTime"), e


def test_restart_of_ldap1_nobody_writes_to_it_before_it_caught_up(cl):
    token = getattr(cl, "outage_link", None)
    assert token, "needs test_sigkill_of_ldap1_under_load"
    curp = cl.capturist()
    # ldap1 back, with its replication from ldap2 cut: it stays behind
    cl.l1.start(peer_uri=f"ldap://127.0.0.1:{util.free_port()}/")
    binds0, mods0 = len(user_ops(cl.l1)), len(user_ops(cl.l1, "MOD"))
    time.sleep(2 + 4 + 1)    # failback_interval and server_down_time passed
    for node in cl.nodes:
        assert Browser().login(node, curp).status_code == 303
        # ldap1 still holds the token used during the outage: nobody may read it there
        assert refused_link(activate(Browser(), node, token, "Otra Clave Larga 99 oeste"))
    assert cl.pam_auth(curp, PW) == "PAM_SUCCESS"
    assert cl.pam_auth(curp, "wrong-pam") == "PAM_AUTH_ERR"
    r = cl.ctl("capturist", "show", curp)
    assert r.returncode == 0, r.stderr
    assert (len(user_ops(cl.l1)), len(user_ops(cl.l1, "MOD"))) == (binds0, mods0)
    # replication repaired: ldap1 catches up and every process returns to it
    cl.l1.stop()
    cl.l1.start()
    cl.sync()
    util.wait_until(lambda: Browser().login(cl.A, curp).status_code == 303 and
                    Browser().login(cl.B, curp).status_code == 303 and
                    len(user_ops(cl.l1)) >= binds0 + 2, 20, "the return to ldap1")
    for node in cl.nodes:
        assert refused_link(activate(Browser(), node, token, "Otra Clave Larga 99 oeste"))
    assert "back on " + cl.l1.uri in cl.A.error_log() + cl.B.error_log()
