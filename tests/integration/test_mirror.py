"""Two slapd in mirror mode seen by libicsoe (issue 15): every process
sends everything to the first server that answers, a dead or hanging one
is remembered as down, and a process that failed over returns only once
the first server has caught up (contextCSN).  Which server did the work is
read from each slapd's own log (the user's BIND lines), the state from
the entries.  The web and PAM front ends on two Apache nodes are covered
by the stage scripts/test.d/60-mirror."""
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
    conf = conf_for(tmp_path, a, b)
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
