"""Two slapd in mirror mode seen by libicsoe (issue 15): every process
sends everything to the first server that answers, a dead or hanging one
is remembered as down, and a process that failed over returns only once
the first server has caught up (contextCSN).  Which server did the work is
read from each slapd's own log (the user's BIND lines), the state from
the entries.  The web and PAM front ends on two Apache nodes are covered
by the stage scripts/test.d/60-mirror."""
import re
import signal
import subprocess
import time

import pytest

from harness import dirdrv
from harness import util
from harness.conf import IcsoeConf
from harness.pam import add_capturist
from harness.slapd import mirror_pair, wait_in_sync

CURP = "GOPJ800101HDFMRN09"
PASSWORD = "Tlacuache-Nopal-Volcan-2024"


@pytest.fixture
def pair(tmp_path):
    a, b = mirror_pair(tmp_path / "mirror")
    try:
        a.start()
        b.start()
        a.set_policy(pwdMaxFailure=3)
        add_capturist(a, CURP, PASSWORD)
        wait_in_sync(a, b)
        yield a, b
    finally:
        for s in (a, b):
            if s.child is not None and s.child.alive():
                s.child.signal(signal.SIGCONT)
            s.stop()


def conf_for(tmp_path, a, b, **kw):
    keys = dict(uri=[a.uri, b.uri], timeout="4", server_timeout="2",
                server_down_time="3", failback_interval="1")
    keys.update(kw)
    return IcsoeConf(tmp_path / "etc", a, **keys)


def binds(s):
    """How many times CURP bound on server s (its whole log)."""
    return s.child.read_log().count(f'BIND dn="{s.capturist_dn(CURP)}" method=128') \
        if s.child else 0


def verify_once(conf, password=PASSWORD):
    return dirdrv.run(conf, "verify", CURP, input=password + "\n")


def test_everything_goes_to_the_first_server(tmp_path, pair):
    a, b = pair
    conf = conf_for(tmp_path, a, b)
    loop = dirdrv.Loop(conf, CURP)
    try:
        for _ in range(3):
            assert loop.verify(PASSWORD)["status"] == "ok"
        assert verify_once(conf).status == "ok"
    finally:
        loop.close()
    assert (binds(a), binds(b)) == (4, 0)


def test_killed_first_server_fails_over_and_lockout_keeps_counting(tmp_path, pair):
    a, b = pair
    conf = conf_for(tmp_path, a, b)
    loop = dirdrv.Loop(conf, CURP)
    try:
        assert loop.verify("wrong-1")["status"] == "invalid_credentials"
        wait_in_sync(a, b)
        a.kill()
        # the same process carries on with ldap2, where failures keep being
        # counted (a success would reset them): 1 on ldap1 + 2 on ldap2
        assert loop.verify("wrong-2")["status"] == "invalid_credentials"
        assert loop.verify("wrong-3")["status"] == "invalid_credentials"
        r = loop.verify(PASSWORD)
        assert r["status"] != "ok" and r["locked"] == "1", r
        # and a fresh process finds the lock there too
        r = verify_once(conf)
        assert r.status != "ok" and r["locked"] == "1", r.stdout
    finally:
        err = loop.close()
    assert binds(b) == 4
    e = b.get(b.capturist_dn(CURP), ["pwdAccountLockedTime"])
    assert e.get("pwdAccountLockedTime"), e
    assert "is down" in err


def test_hanging_first_server_costs_a_bounded_wait_once(tmp_path, pair):
    """SIGSTOP: ldap1 accepts TCP connections (the kernel does) and never
    answers.  A fresh process waits server_timeout, then uses ldap2; a
    process that had a connection open waits at most timeout for that one
    call; afterwards ldap1 is skipped without waiting."""
    a, b = pair
    # remembered for longer than the test lasts (after server_down_time, a
    # failback check would give the hung server server_timeout again)
    conf = conf_for(tmp_path, a, b, server_down_time="60")
    loop = dirdrv.Loop(conf, CURP)
    try:
        assert loop.verify(PASSWORD)["status"] == "ok"
        a.child.signal(signal.SIGSTOP)
        r = verify_once(conf)
        assert r.status == "ok", r.stdout + r.stderr
        assert r.elapsed < 4 + 6, r.elapsed          # bounded, generous
        t0 = time.monotonic()
        first = loop.verify(PASSWORD)
        assert first["status"] in ("ok", "unavailable"), first
        assert time.monotonic() - t0 < 4 + 6
        for _ in range(3):
            t0 = time.monotonic()
            assert loop.verify(PASSWORD)["status"] == "ok"
            # remembered as down: no second wait for ldap1 (generous bound,
            # far below the 4 s a wait would cost)
            assert time.monotonic() - t0 < 2
    finally:
        a.child.signal(signal.SIGCONT)
        err = loop.close()
    assert err.count("is down") == 1, err


def test_failback_only_after_the_first_server_has_caught_up(tmp_path, pair):
    a, b = pair
    conf = conf_for(tmp_path, a, b)
    loop = dirdrv.Loop(conf, CURP)
    try:
        assert loop.verify(PASSWORD)["status"] == "ok"
        a.kill()
        # a write only ldap2 has: a failure count (binds are writes)
        assert loop.verify("wrong-1")["status"] == "invalid_credentials"
        on_b = binds(b)
        # ldap1 back, but its replication from ldap2 cut (closed port)
        a.start(peer_uri=f"ldap://127.0.0.1:{util.free_port()}/")
        time.sleep(1 + 3 + 0.5)   # failback_interval and server_down_time passed
        before_a = binds(a)
        for _ in range(3):
            assert loop.verify(PASSWORD)["status"] == "ok"
            time.sleep(0.6)
        assert verify_once(conf).status == "ok"   # a fresh process too
        assert binds(a) == before_a, "a process used ldap1 before it caught up"
        assert binds(b) == on_b + 4
        # replication repaired: ldap1 catches up, everybody returns to it
        a.stop()
        a.start()
        wait_in_sync(a, b)
        util.wait_until(lambda: loop.verify(PASSWORD)["status"] == "ok" and
                        binds(a) > before_a, 10, "the return to ldap1")
        assert verify_once(conf).status == "ok"
        n_a, n_b = binds(a), binds(b)
        assert loop.verify(PASSWORD)["status"] == "ok"
        assert (binds(a), binds(b)) == (n_a + 1, n_b)
    finally:
        err = loop.close()
    assert "has not caught up" in err and "back on " + a.uri in err, err


# ---- schema/mirror.ldif: today's single cn=config server becomes ldap1 ----

def test_online_conversion_of_a_single_cn_config_server(tmp_path):
    """A server installed the README's way (Debian's stock cn=config, then
    schema/README.md's block) takes replicator.ldif and mirror.ldif while
    running, over ldapi with SASL EXTERNAL as docs/scale-out.md says; a
    second node started empty (slapd.conf form, mirror-example.conf)
    copies everything, and writes flow both ways."""
    from harness.slapd import Slapd, render, ssha
    from test_slapd_setup import BASE, StockSlapd, run_readme
    n1 = StockSlapd(tmp_path / "n1")
    (tmp_path / "n1").mkdir()
    n1.create()
    n1.start()
    n2 = None
    try:
        etc = tmp_path / "etc"
        r = run_readme(n1, etc)
        assert r.returncode == 0, r.stdout + r.stderr
        n2 = Slapd(tmp_path / "n2", base=BASE)
        n2.reader_pw = (etc / "bindpw").read_text().strip()
        n2.bindpw = (etc / "writerpw").read_text().strip()
        replpw = "repl-" + CURP
        n2.mirror = {"server_id": 2, "rid": "002", "peer_uri": n1.uri + "/",
                     "replicator_pw": replpw}
        n2.bootstrap = False
        n1.ext(["ldapadd"], input=f"""dn: uid={CURP},ou=capturistas,{BASE}
objectClass: inetOrgPerson
objectClass: icsoeCapturist
uid: {CURP}
cn: Juan
sn: Juan
icsoeStatus: active
icsoeEpoch: 0
userPassword: {PASSWORD}
""")
        n1.ext(["ldapadd"], input=render(open(util.src("schema/replicator.ldif")).read(), BASE,
                                         replicator_password_hash=ssha(replpw)))
        n1.ext(["ldapmodify"], input=render(
            open(util.src("schema/mirror.ldif")).read(), BASE,
            database="olcDatabase={1}mdb,cn=config", server_id="1", rid="001",
            peer_uri=n2.uri + "/", replicator_password=replpw))
        n2.start()

        def n1_csn():
            out = n1.search(BASE, "-s", "base", "contextCSN").stdout
            return sorted(re.findall(r"^contextCSN: (\S+)", out, re.M))
        util.wait_until(lambda: n1_csn() and n1_csn() == n2.context_csn(), 20,
                        "n2 copies n1")
        assert n2.get(n2.capturist_dn(CURP), ["uid"]) is not None
        # the clients fail over from one to the other
        conf = IcsoeConf(tmp_path / "etc-client", n2, uri=[n1.uri, n2.uri])
        r = verify_once(conf)
        assert r.status == "ok", r.stdout + r.stderr
        n1.stop()
        assert verify_once(conf).status == "ok"
        # a write on n2 alone (a failure count) reaches n1 when it is back
        assert verify_once(conf, "wrong").status == "invalid_credentials"
        n1.start()
        util.wait_until(lambda: "pwdFailureTime:" in n1.search(
            f"uid={CURP},ou=capturistas,{BASE}", "-s", "base", "pwdFailureTime").stdout,
            20, "the failure on n2 replicated to n1")
    finally:
        if n2 is not None:
            n2.stop()
        n1.stop()
