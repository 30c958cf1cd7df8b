"""Two slapd in mirror mode seen by libicsoe (issue 15): every process
sends everything to the first server that answers, a dead or hanging one
is remembered as down, and a process that failed over returns only once
the first server has caught up (contextCSN).  Which server did the work is
read from each slapd's own log (the user's BIND lines), the state from
the entries.  The web and PAM front ends on two Apache nodes are covered
by the stage scripts/test.d/60-mirror."""
import os
import re
import secrets
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


def test_hanging_standby_does_not_stop_the_first_server(tmp_path, pair):
    """A new connection to ldap1 asks ldap2 for its contextCSN (is ldap1 a
    restarted server that has not caught up?).  A hung ldap2 costs that
    question a bounded wait, then ldap1 is used; nothing goes to ldap2."""
    a, b = pair
    conf = conf_for(tmp_path, a, b)
    b.child.signal(signal.SIGSTOP)
    try:
        before = binds(a)
        for _ in range(2):
            r = verify_once(conf)
            assert r.status == "ok", r.stdout + r.stderr
            assert r.elapsed < 4 + 4, r.elapsed        # bounded, generous
        assert binds(a) == before + 2
        assert "is down" in r.stderr
    finally:
        b.child.signal(signal.SIGCONT)


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

def _csn(node, base):
    out = node.search(base, "-s", "base", "contextCSN").stdout
    return sorted(re.findall(r"^contextCSN: (\S+)", out, re.M))


def test_online_conversion_and_a_second_node_from_its_config(tmp_path):
    """docs/scale-out.md, literally: a server installed the README's way
    (Debian's stock cn=config, then schema/README.md's block) gets
    replicator.ldif and mirror.ldif while running (SASL EXTERNAL over
    ldapi); ldap2 is its cn=config (slapcat -n0) with serverID, rid and
    provider changed, loaded with slapadd -n0 into an empty server.  ldap2
    copies everything, clients fail over to it, and its writes reach ldap1."""
    import types
    from harness.slapd import render, ssha
    from test_slapd_setup import BASE, StockSlapd, run_readme
    (tmp_path / "n1").mkdir()
    (tmp_path / "n2").mkdir()
    n1, n2 = StockSlapd(tmp_path / "n1"), StockSlapd(tmp_path / "n2")
    n1.create()
    n1.start()
    try:
        etc = tmp_path / "etc"
        r = run_readme(n1, etc)
        assert r.returncode == 0, r.stdout + r.stderr
        replpw = "repl-" + CURP
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
        # ldap1: the replication account, then the conversion
        n1.ext(["ldapadd"], input=render(open(util.src("schema/replicator.ldif")).read(), BASE,
                                         replicator_password_hash=ssha(replpw)))
        n1.ext(["ldapmodify"], input=render(
            open(util.src("schema/mirror.ldif")).read(), BASE,
            database="olcDatabase={1}mdb,cn=config", server_id="1", rid="001",
            peer_uri=n2.uri + "/", replicator_password=replpw))
        # ldap2: ldap1's cn=config with its own serverID, rid, provider (and,
        # here only, paths), into an empty server
        r = subprocess.run(["/usr/sbin/slapcat", "-n0", "-F", str(n1.confdir),
                            "-o", "ldif-wrap=no"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        cfg = r.stdout
        for old, new in (("olcServerID: 1\n", "olcServerID: 2\n"), ("rid=001", "rid=002"),
                         (f"provider={n2.uri}/", f"provider={n1.uri}/"),
                         (f"{tmp_path}/n1/", f"{tmp_path}/n2/")):
            assert old in cfg, old
            cfg = cfg.replace(old, new)
        n2.confdir.mkdir()
        n2.dbdir.mkdir()
        (tmp_path / "n2" / "config.ldif").write_text(cfg)
        r = subprocess.run(["/usr/sbin/slapadd", "-n0", "-F", str(n2.confdir), "-l",
                            str(tmp_path / "n2" / "config.ldif")], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        n2.start()
        util.wait_until(lambda: _csn(n1, BASE) and _csn(n1, BASE) == _csn(n2, BASE), 20,
                        "ldap2 copies ldap1")
        assert f"uid: {CURP}" in n2.search(f"uid={CURP},ou=capturistas,{BASE}", "-s", "base",
                                             "uid").stdout
        # the clients: both uris, ldap1 first; then ldap1 down
        acct = types.SimpleNamespace(
            uri=n1.uri, base=BASE, reader_dn=f"cn=icsoe-reader,{BASE}",
            reader_pw=(etc / "bindpw").read_text().strip(),
            binddn=f"cn=icsoe-writer,{BASE}", bindpw=(etc / "writerpw").read_text().strip())
        conf = IcsoeConf(tmp_path / "etc-client", acct, uri=[n1.uri, n2.uri])
        r = verify_once(conf)
        assert r.status == "ok", r.stdout + r.stderr
        n1.stop()
        assert verify_once(conf).status == "ok"
        # a write on ldap2 alone (a failure count) reaches ldap1 when it is back
        assert verify_once(conf, "wrong").status == "invalid_credentials"
        n1.start()
        util.wait_until(lambda: "pwdFailureTime:" in n1.search(
            f"uid={CURP},ou=capturistas,{BASE}", "-s", "base", "pwdFailureTime").stdout,
            20, "the failure on ldap2 replicated to ldap1")
    finally:
        n2.stop()
        n1.stop()


# ---- a write whose answer was lost, across a failover ----

@pytest.mark.parametrize("replicated", [True, False], ids=["replicated", "not-replicated"])
def test_lost_activation_answer_then_failover_is_reported_as_done(tmp_path, pair, replicated):
    """ldap1 applies the token Modify, its answer never arrives (a relay
    swallows it) and ldap1 dies.  The client replays on ldap2, which has
    either received the change (the replay finds the token gone: a bind
    with the new password proves it was ours) or not (the same Modify is
    applied again).  Either way the caller hears "done", never "link
    refused", and after ldap1 returns both servers agree: token gone,
    account active, the new password works."""
    import hashlib
    import threading
    from test_faults import OP_MODIFY, LdapFaultProxy
    a, b = pair
    pending = "LOMA850505MJCPRR02"
    new_pw = "Ajolote Mezcal Huarache 77 norte"
    add_capturist(a, pending, status="pending")
    token = secrets.token_urlsafe(32)
    a.modify(a.capturist_dn(pending), {
        "icsoeTokenHash": hashlib.sha256(token.encode()).hexdigest(),
        "icsoeTokenExpiry": "20991231000000Z", "icsoeTokenPurpose": "activation"})
    wait_in_sync(a, b)
    if not replicated:
        b.stop()      # ldap2 no longer hears from ldap1
        b.start(peer_uri=f"ldap://127.0.0.1:{util.free_port()}/")
    proxy = LdapFaultProxy(a.port)
    try:
        conf = conf_for(tmp_path, a, b, uri=[proxy.uri, b.uri], timeout="10")
        proxy.arm(lambda tag, dn: tag == OP_MODIFY, "mute")   # the only Modify here
        out = {}
        t = threading.Thread(target=lambda: out.update(r=dirdrv.run(
            conf, "token-consume", token, "activation", input=new_pw + "\n")))
        t.start()
        if not proxy.fired.wait(15):
            t.join(60)
            pytest.fail(f"no Modify through the relay: {out['r'].stdout} {out['r'].stderr}"
                        f" {proxy.seen}")
        util.wait_until(lambda: a.get(a.capturist_dn(pending), ["icsoeStatus"])
                        ["icsoeStatus"] == ["active"], 5, "ldap1 applied the Modify")
        if replicated:
            wait_in_sync(a, b)
        a.kill()
        t.join(60)
        r = out["r"]
        assert r.status == "ok", r.stdout + r.stderr
        # replicated: the replay found the token gone and a bind proved the
        # change was ours; not replicated: ldap2 applied it itself
        assert ("applied before the connection was lost" in r.stderr) == replicated, r.stderr
        assert b.can_bind(b.capturist_dn(pending), new_pw)
    finally:
        proxy.close()
    if not replicated:
        b.stop()
        b.start()
    a.start()
    wait_in_sync(a, b)
    for s in (a, b):
        e = s.get(s.capturist_dn(pending), ["icsoeStatus", "icsoeTokenHash", "icsoeEpoch"])
        assert e["icsoeStatus"] == ["active"] and "icsoeTokenHash" not in e, e
        assert s.can_bind(s.capturist_dn(pending), new_pw)


# ---- icsoectl check: both servers' contextCSN and the lag ----

def _replication(conf):
    import json
    env = dict(os.environ, ICSOE_CONFIG=str(conf))
    r = subprocess.run([util.built("tools/icsoectl"), "check", "--json"], capture_output=True,
                       text=True, env=env, timeout=120)
    return [d for d in json.loads(r.stdout) if d["check"] == "replication"]


def test_icsoectl_check_reports_both_servers_and_the_lag(tmp_path, pair):
    a, b = pair
    conf = conf_for(tmp_path, a, b)
    rep = _replication(conf)
    assert [d["status"] for d in rep] == ["ok", "ok"], rep
    assert rep[0]["detail"].startswith(a.uri) and rep[1]["detail"].startswith(b.uri)
    assert all(d["detail"].endswith("in step") for d in rep), rep
    # ldap2 stops hearing from ldap1; a change on ldap1 shows ldap2 behind
    b.stop()
    b.start(peer_uri=f"ldap://127.0.0.1:{util.free_port()}/")
    a.modify(a.capturist_dn(CURP), {"cn": "Juan G"})
    rep = _replication(conf)
    assert rep[0]["detail"].endswith("in step"), rep
    assert "behind on serverID 1" in rep[1]["detail"], rep
    # a server that cannot be reached is named, not skipped
    b.stop()
    rep = _replication(conf)
    assert rep[1]["status"] == "warn" and "not read" in rep[1]["detail"], rep
