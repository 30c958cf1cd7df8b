"""The LDAP directory layer (lib/dir*.c) against a real slapd built from
schema/: accounts, contractors, password checks, ppolicy lockout, failover,
timeouts, reconnection, escaping, and values that must not leave LDAP."""
import os
import signal
import subprocess
import time

import ldap
import pytest

from harness import dirdrv, util
from harness.dirdrv import ok
from harness.conf import IcsoeConf
from harness.slapd import Slapd

CURP = "GOMC800101HDFRRL09"
CURP2 = "PEMJ850505MJCRRN04"
RFC = "AAA010101AAA"
RFC2 = "BBB020202BB1"
PW = "correct horse battery staple 1"
PW2 = "another long passphrase 2024"


@pytest.fixture
def conf(tmp_path, slapd):
    return IcsoeConf(tmp_path / "etc", slapd)


def make_active(conf, curp=CURP, pw=PW, rfcs=(RFC,)):
    for rfc in rfcs:
        r = dirdrv.run(conf, "contractor-add", rfc, f"Contratista {rfc}")
        assert r.status in ("ok", "exists")
    ok(dirdrv.run(conf, "capturist-add", curp, "Carlos Gómez Ruiz", "carlos@icsoe.test", *rfcs))
    tok = ok(dirdrv.run(conf, "token-store", curp, "activation", "3600"))["token"]
    ok(dirdrv.run(conf, "token-consume", tok, "activation", input=pw + "\n"))


# ---- contractors and capturists ----

def test_contractor_add_get_list_and_duplicate(conf, slapd):
    ok(dirdrv.run(conf, "contractor-add", RFC, "Servicios Peña SA de CV", "rh@pena.test",
                  "REPSE-123"))
    r = ok(dirdrv.run(conf, "contractor-get", RFC))
    assert (r["rfc"], r["name"], r["email"], r["repse"]) == (
        RFC, "Servicios Peña SA de CV", "rh@pena.test", "REPSE-123")
    assert dirdrv.run(conf, "contractor-add", RFC, "Otra").status == "exists"
    # the duplicate did not overwrite anything
    e = slapd.get(slapd.contractor_dn(RFC))
    assert e["o"] == ["Servicios Peña SA de CV"]
    ok(dirdrv.run(conf, "contractor-add", RFC2, "Beta"))
    r = ok(dirdrv.run(conf, "contractor-list"))
    assert r["rfcs"] == f"{RFC},{RFC2}"
    r = ok(dirdrv.run(conf, "contractor-list", RFC2, "ZZZ010101ZZZ"))
    assert (r["n"], r["rfcs"]) == ("1", RFC2)
    assert dirdrv.run(conf, "contractor-get", "ZZZ010101ZZZ").status == "not_found"


def test_bad_input_is_refused_before_ldap(conf, slapd):
    assert dirdrv.run(conf, "contractor-add", "AAA01", "x").status == "invalid_input"
    assert dirdrv.run(conf, "contractor-add", RFC, "").status == "invalid_input"
    assert dirdrv.run(conf, "contractor-add", RFC, "x\r\nBcc: a@b").status == "invalid_input"
    assert dirdrv.run(conf, "contractor-add", RFC, "x", "not-an-email").status == "invalid_input"
    assert dirdrv.run(conf, "capturist-add", "gomc800101hdfrrl09", "x", "a@b.mx").status \
        == "invalid_input"
    assert dirdrv.run(conf, "capturist-add", CURP, "x", "a@b.mx", RFC, RFC).status \
        == "invalid_input"
    assert slapd.search("(|(objectClass=icsoeCapturist)(objectClass=icsoeContractor))") == []


def test_capturist_add_requires_existing_contractors(conf, slapd):
    ok(dirdrv.run(conf, "contractor-add", RFC, "Alfa"))
    r = dirdrv.run(conf, "capturist-add", CURP, "Carlos", "c@icsoe.test", RFC, RFC2)
    assert r.status == "not_found"
    assert slapd.get(slapd.capturist_dn(CURP)) is None   # nothing half-written
    ok(dirdrv.run(conf, "capturist-add", CURP, "Carlos Gómez", "c@icsoe.test", RFC))
    r = ok(dirdrv.run(conf, "capturist-get", CURP))
    assert (r["curp"], r["state"], r["epoch"], r["contractors"], r["name"], r["email"]) == (
        CURP, "pending", "0", RFC, "Carlos Gómez", "c@icsoe.test")
    e = slapd.get(slapd.capturist_dn(CURP))
    assert set(e["objectClass"]) == {"inetOrgPerson", "icsoeCapturist"}
    assert e["cn"] == e["sn"] == ["Carlos Gómez"]
    assert "userPassword" not in e
    assert dirdrv.run(conf, "capturist-add", CURP, "Otro", "o@icsoe.test").status == "exists"
    assert slapd.get(slapd.capturist_dn(CURP))["cn"] == ["Carlos Gómez"]


def test_grant_revoke_and_lists(conf, slapd):
    ok(dirdrv.run(conf, "contractor-add", RFC, "Alfa"))
    ok(dirdrv.run(conf, "contractor-add", RFC2, "Beta"))
    ok(dirdrv.run(conf, "capturist-add", CURP, "Carlos", "c@icsoe.test", RFC))
    ok(dirdrv.run(conf, "capturist-add", CURP2, "Juana", "j@icsoe.test"))
    ok(dirdrv.run(conf, "grant", CURP, RFC2))
    assert dirdrv.run(conf, "grant", CURP, RFC2).status == "exists"
    assert dirdrv.run(conf, "grant", CURP, "ZZZ010101ZZZ").status == "not_found"
    assert dirdrv.run(conf, "grant", "ZZZZ800101HDFRRL09", RFC).status == "not_found"
    assert ok(dirdrv.run(conf, "capturist-get", CURP))["contractors"] == f"{RFC},{RFC2}"
    assert ok(dirdrv.run(conf, "capturist-list", RFC2))["curps"] == CURP
    assert ok(dirdrv.run(conf, "capturist-list"))["curps"] == f"{CURP},{CURP2}"
    assert ok(dirdrv.run(conf, "capturist-list", "-", "pending"))["n"] == "2"
    assert ok(dirdrv.run(conf, "capturist-list", "-", "active"))["n"] == "0"
    ok(dirdrv.run(conf, "revoke", CURP, RFC))
    assert dirdrv.run(conf, "revoke", CURP, RFC).status == "not_found"
    assert slapd.get(slapd.capturist_dn(CURP))["icsoeContractorRFC"] == [RFC2]
    # contractor still assigned: refused unless forced, which revokes it first
    assert dirdrv.run(conf, "contractor-remove", RFC2).status == "exists"
    assert slapd.get(slapd.contractor_dn(RFC2)) is not None
    ok(dirdrv.run(conf, "contractor-remove", RFC2, "force"))
    assert slapd.get(slapd.contractor_dn(RFC2)) is None
    assert "icsoeContractorRFC" not in slapd.get(slapd.capturist_dn(CURP))
    assert dirdrv.run(conf, "contractor-remove", RFC2).status == "not_found"
    ok(dirdrv.run(conf, "capturist-remove", CURP2))
    assert dirdrv.run(conf, "capturist-remove", CURP2).status == "not_found"
    assert slapd.get(slapd.capturist_dn(CURP2)) is None


# ---- passwords ----

def test_verify_right_wrong_unknown_pending(conf, slapd):
    make_active(conf)
    ok(dirdrv.run(conf, "capturist-add", CURP2, "Juana", "j@icsoe.test"))
    r = ok(dirdrv.run(conf, "verify", CURP, input=PW + "\n"))
    # what a login seals into its session, nothing more was asked of slapd
    # (the contractor list and the mail are read by the pages that need them)
    whole = ok(dirdrv.run(conf, "capturist-get", CURP))
    assert (r["curp"], r["state"], r["epoch"], r["name"]) == \
        (CURP, "active", whole["epoch"], "Carlos Gómez Ruiz")
    assert (r["contractors"], r["email"]) == ("", "")
    assert (whole["contractors"], whole["email"]) == (RFC, "carlos@icsoe.test")
    results = {
        "wrong": dirdrv.run(conf, "verify", CURP, input="not the password at all\n"),
        "unknown": dirdrv.run(conf, "verify", "ZZZZ800101HDFRRL09", input=PW + "\n"),
        "pending": dirdrv.run(conf, "verify", CURP2, input=PW + "\n"),
        "empty": dirdrv.run(conf, "verify", CURP, input="\n"),
        "malformed": dirdrv.run(conf, "verify", "x*)(uid=*", input=PW + "\n"),
    }
    for what, r in results.items():
        assert r.status == "invalid_credentials", (what, r.stdout)
        assert PW not in r.stderr and "not the password" not in r.stderr


def test_unknown_and_pending_bind_the_decoy(conf, slapd):
    """Same work for unknown CURPs: slapd sees a bind (with Argon2 hashing)
    of the decoy entry, not just a search."""
    ok(dirdrv.run(conf, "capturist-add", CURP2, "Juana", "j@icsoe.test"))
    decoy = f'BIND dn="{slapd.decoy_dn}"'
    before = slapd.child.read_log().count(decoy)
    dirdrv.run(conf, "verify", "ZZZZ800101HDFRRL09", input=PW + "\n")
    dirdrv.run(conf, "verify", CURP2, input=PW + "\n")
    util.wait_until(lambda: slapd.child.read_log().count(decoy) >= before + 2, 5,
                    "decoy binds in the slapd log")
    # and the decoy can still not be logged in to by anybody
    assert not slapd.can_bind(slapd.decoy_dn, PW)


def test_ppolicy_lockout_after_five_failures(conf, slapd):
    make_active(conf)
    for i in range(5):
        r = dirdrv.run(conf, "verify", CURP, input=f"wrong password number {i}\n")
        assert r.status == "invalid_credentials", r.stdout
    r = dirdrv.run(conf, "verify", CURP, input=PW + "\n")
    assert r.status == "locked" and r["locked"] == "1", r.stdout
    assert ok(dirdrv.run(conf, "capturist-get", CURP))["pp_locked"] == "1"
    e = slapd.get(slapd.capturist_dn(CURP), ["pwdAccountLockedTime"])
    assert "pwdAccountLockedTime" in e
    ok(dirdrv.run(conf, "unlock", CURP))
    assert "pwdAccountLockedTime" not in slapd.get(slapd.capturist_dn(CURP),
                                                   ["pwdAccountLockedTime"])
    r = ok(dirdrv.run(conf, "verify", CURP, input=PW + "\n"))
    assert r["state"] == "active"


def test_lockout_threshold_follows_policy(conf, slapd):
    make_active(conf)
    slapd.set_policy(pwdMaxFailure=2)
    for i in range(2):
        assert dirdrv.run(conf, "verify", CURP, input=f"bad {i} xxxxxxxxxx\n").status \
            == "invalid_credentials"
    assert dirdrv.run(conf, "verify", CURP, input=PW + "\n").status == "locked"


def test_admin_lock_and_unlock(conf, slapd):
    make_active(conf)
    epoch = int(ok(dirdrv.run(conf, "capturist-get", CURP))["epoch"])
    ok(dirdrv.run(conf, "lock", CURP))
    r = ok(dirdrv.run(conf, "capturist-get", CURP))
    assert r["state"] == "locked" and int(r["epoch"]) == epoch + 1
    assert dirdrv.run(conf, "verify", CURP, input=PW + "\n").status == "locked"
    # a wrong password on a locked account reveals nothing more
    assert dirdrv.run(conf, "verify", CURP, input="wrong wrong wrong\n").status \
        == "invalid_credentials"
    ok(dirdrv.run(conf, "unlock", CURP))
    assert ok(dirdrv.run(conf, "capturist-get", CURP))["state"] == "active"
    ok(dirdrv.run(conf, "verify", CURP, input=PW + "\n"))
    # unlocking an account that never had a password leaves it pending
    ok(dirdrv.run(conf, "capturist-add", CURP2, "Juana", "j@icsoe.test"))
    ok(dirdrv.run(conf, "lock", CURP2))
    ok(dirdrv.run(conf, "unlock", CURP2))
    assert ok(dirdrv.run(conf, "capturist-get", CURP2))["state"] == "pending"
    assert dirdrv.run(conf, "lock", "ZZZZ800101HDFRRL09").status == "not_found"


def test_change_password(conf, slapd):
    make_active(conf)
    epoch = int(ok(dirdrv.run(conf, "capturist-get", CURP))["epoch"])
    r = dirdrv.run(conf, "change-password", CURP, input=f"wrong old password\n{PW2}\n")
    assert r.status == "invalid_credentials"
    ok(dirdrv.run(conf, "change-password", CURP, input=f"{PW}\n{PW2}\n"))
    assert int(ok(dirdrv.run(conf, "capturist-get", CURP))["epoch"]) == epoch + 1
    assert dirdrv.run(conf, "verify", CURP, input=PW + "\n").status == "invalid_credentials"
    ok(dirdrv.run(conf, "verify", CURP, input=PW2 + "\n"))
    # back to a password in the ppolicy history (pwdInHistory 5)
    r = dirdrv.run(conf, "change-password", CURP, input=f"{PW2}\n{PW}\n")
    assert r.status == "policy" and r["why"] == "1", r.stdout
    assert "anteriores" in r["message"]
    ok(dirdrv.run(conf, "verify", CURP, input=PW2 + "\n"))
    assert PW not in r.stderr and PW2 not in r.stderr


def test_claim_recover_rate_limit(conf, slapd):
    make_active(conf)
    now = int(time.time())
    ok(dirdrv.run(conf, "claim-recover", CURP, now, 900))
    assert dirdrv.run(conf, "claim-recover", CURP, now + 10, 900).status == "exists"
    ok(dirdrv.run(conf, "claim-recover", CURP, now + 901, 900))
    assert int(ok(dirdrv.run(conf, "capturist-get", CURP))["last_recover"]) == now + 901
    assert dirdrv.run(conf, "claim-recover", "ZZZZ800101HDFRRL09", now, 900).status \
        == "not_found"


# ---- availability ----

def test_failover_to_second_uri(conf, slapd):
    make_active(conf)
    dead = f"ldap://127.0.0.1:{util.free_port()}"
    conf.write(uri=[dead, slapd.uri])
    r = ok(dirdrv.run(conf, "verify", CURP, input=PW + "\n"))
    assert r.elapsed < 2.0
    conf.write(uri=None)
    with open(conf.path, "a") as f:      # repeated "uri" lines add up too
        f.write(f"uri {dead}\nuri {slapd.uri}\n")
    ok(dirdrv.run(conf, "verify", CURP, input=PW + "\n"))


def test_every_server_down_is_unavailable_quickly(conf):
    conf.write(uri=[f"ldap://127.0.0.1:{util.free_port()}",
                    f"ldap://127.0.0.1:{util.free_port()}"], timeout="2")
    for args in (("verify", CURP), ("capturist-get", CURP), ("contractor-list",)):
        r = dirdrv.run(conf, *args, input=PW + "\n")
        assert r.status == "unavailable", r.stdout
        assert r.elapsed < 2 + 2
        assert "127.0.0.1" in r["reason"]


def test_unresponsive_server_times_out(conf, slapd):
    """A server that accepts connections but never answers (stopped):
    the configured timeout bounds the whole call."""
    make_active(conf)
    conf.write(timeout="2")
    os.killpg(slapd.child.proc.pid, signal.SIGSTOP)
    try:
        r = dirdrv.run(conf, "verify", CURP, input=PW + "\n", timeout=20)
    finally:
        os.killpg(slapd.child.proc.pid, signal.SIGCONT)
    assert r.status == "unavailable", r.stdout
    assert 1.5 < r.elapsed < 2 + 2


def test_reconnect_after_restart(conf, slapd):
    make_active(conf)
    loop = dirdrv.Loop(conf, CURP)
    try:
        assert loop.verify(PW)["status"] == "ok"
        slapd.restart()
        assert loop.verify(PW)["status"] == "ok"
        slapd.kill(signal.SIGKILL)
        r = loop.verify(PW)
        assert r["status"] == "unavailable", r
        slapd.start()
        assert loop.verify(PW)["status"] == "ok"
        assert loop.verify("wrong password here")["status"] == "invalid_credentials"
    finally:
        err = loop.close()
    assert loop.proc.returncode == 0, err
    assert PW not in err


# ---- escaping and values from LDAP ----

def test_filter_escape_rfc4515():
    r = dirdrv.run(None, "escape", "a*b(c)d\\e")
    assert r["escaped"] == "a\\2ab\\28c\\29d\\5ce"
    assert dirdrv.run(None, "escape", "Peña & Hijos")["escaped"] == "Peña & Hijos"


@pytest.mark.parametrize("value", ["*", "A*", "*)(uid=*", "GOMC800101HDFRRL0*",
                                   "AAA010101AA*", "\\2a", "(objectClass=*)"])
def test_filter_metacharacters_match_nothing(conf, slapd, value):
    make_active(conf)
    ok(dirdrv.run(conf, "contractor-add", RFC2, "Beta"))
    assert dirdrv.run(conf, "capturist-get", value).status in ("invalid_input", "not_found")
    assert dirdrv.run(conf, "contractor-get", value).status in ("invalid_input", "not_found")
    assert dirdrv.run(conf, "verify", value, input=PW + "\n").status == "invalid_credentials"
    r = dirdrv.run(conf, "capturist-list", value)
    assert r.status == "invalid_input" or r["n"] == "0"
    r = dirdrv.run(conf, "contractor-list", value)
    assert r.status == "invalid_input" or r["n"] == "0"
    assert dirdrv.run(conf, "grant", CURP, value).status in ("invalid_input", "not_found")
    assert ok(dirdrv.run(conf, "capturist-get", CURP))["contractors"] == RFC


def test_contractor_rfc_with_ampersand_and_enye(conf, slapd):
    rfc = "PEÑ&010101AB1"
    ok(dirdrv.run(conf, "contractor-add", rfc, "Peña & Hijos"))
    r = ok(dirdrv.run(conf, "contractor-get", rfc))
    assert r["rfc"] == rfc and r["name"] == "Peña & Hijos"
    ok(dirdrv.run(conf, "capturist-add", CURP, "Carlos", "c@icsoe.test", rfc))
    assert ok(dirdrv.run(conf, "capturist-list", rfc))["curps"] == CURP
    assert ok(dirdrv.run(conf, "contractor-list", rfc))["rfcs"] == rfc


@pytest.mark.parametrize("bad", [b"Carlos\r\nX-Injected: 1", b"Carlos\nG", b"Carlos\x00G",
                                 b"Carlos\r"])
def test_unsafe_names_from_ldap_fail_closed(conf, slapd, bad):
    make_active(conf)
    slapd.modify(slapd.capturist_dn(CURP), [(ldap.MOD_REPLACE, "cn", [bad])])
    r = dirdrv.run(conf, "capturist-get", CURP)
    assert r.status == "internal_error", r.stdout
    assert "unsafe" in r.stderr
    assert dirdrv.run(conf, "verify", CURP, input=PW + "\n").status == "internal_error"
    # a list leaves the bad entry out instead of failing
    assert ok(dirdrv.run(conf, "capturist-list"))["n"] == "0"


def test_login_identity_is_the_dn_not_a_uid_value(conf, slapd):
    """A login reads the CURP from the DN its base search found (the one
    the bind proves), not from uid: an entry whose uid also holds another
    capturist's CURP, listed first, still logs in as itself only."""
    make_active(conf)
    slapd.modify(slapd.capturist_dn(CURP),
                 [(ldap.MOD_REPLACE, "uid", [CURP2.encode(), CURP.encode()])])
    r = ok(dirdrv.run(conf, "verify", CURP, input=PW + "\n"))
    assert r["curp"] == CURP, r
    # the whole record still reads uid (and finds the first value)
    assert ok(dirdrv.run(conf, "capturist-get", CURP))["curp"] == CURP2


@pytest.mark.parametrize("bad", [b"disabled", b"Active", b"active\r\n", b"active\x00"])
def test_unknown_status_from_ldap_fails_closed(conf, slapd, bad):
    """A status we do not know (slapd's caseIgnoreMatch would take
    "Active") is an unreadable account, for the whole record and for the
    three attributes a login reads alike: never a login."""
    make_active(conf)
    slapd.modify(slapd.capturist_dn(CURP), [(ldap.MOD_REPLACE, "icsoeStatus", [bad])])
    r = dirdrv.run(conf, "capturist-get", CURP)
    assert r.status == "internal_error", r.stdout
    assert "unsafe" in r.stderr
    r = dirdrv.run(conf, "verify", CURP, input=PW + "\n")
    assert r.status == "internal_error", r.stdout
    slapd.modify(slapd.capturist_dn(CURP), [(ldap.MOD_REPLACE, "icsoeStatus", [b"active"])])
    ok(dirdrv.run(conf, "verify", CURP, input=PW + "\n"))


# ---- the service account and the ACLs of schema/acl-example.conf ----

def test_wrong_service_password_is_an_error_not_a_hang(conf, slapd, tmp_path):
    pwfile = tmp_path / "wrongpw"
    pwfile.write_text("not-the-service-password\n")
    pwfile.chmod(0o600)
    conf.write(bindpw_file=str(pwfile))
    r = dirdrv.run(conf, "capturist-get", CURP)
    assert r.status == "internal_error" and "service bind" in r["reason"], r.stdout
    assert "not-the-service-password" not in r.stdout + r.stderr


def test_acl_passwords_and_token_hashes_are_not_readable(conf, slapd):
    make_active(conf)
    ok(dirdrv.run(conf, "token-store", CURP, "reset", "3600"))
    dn = slapd.capturist_dn(CURP)
    svc = ldap.initialize(slapd.uri)
    svc.simple_bind_s(slapd.binddn, slapd.bindpw)
    e = svc.search_s(dn, ldap.SCOPE_BASE, attrlist=["*", "+"])[0][1]
    assert "userPassword" not in e and "icsoeTokenHash" in e and "cn" in e
    # the service account cannot write outside its attributes or branches
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        svc.modify_s(dn, [(ldap.MOD_REPLACE, "description", [b"x"])])
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        svc.add_s(f"cn=evil,{slapd.base}", [("objectClass", [b"organizationalRole"]),
                                           ("cn", [b"evil"])])
    user = ldap.initialize(slapd.uri)
    user.simple_bind_s(dn, PW)
    e = user.search_s(dn, ldap.SCOPE_BASE, attrlist=["*", "+"])[0][1]
    assert "userPassword" not in e and "icsoeTokenHash" not in e and "cn" in e
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        user.modify_s(dn, [(ldap.MOD_REPLACE, "icsoeStatus", [b"active"])])
    anon = ldap.initialize(slapd.uri)
    try:
        assert anon.search_s(slapd.base, ldap.SCOPE_SUBTREE, "(uid=*)") == []
    except ldap.NO_SUCH_OBJECT:
        pass   # not even the base is disclosed


def test_service_account_cannot_be_locked_out(conf, slapd):
    for _ in range(8):
        assert not slapd.can_bind(slapd.binddn, "guess")
    assert slapd.can_bind(slapd.binddn, slapd.bindpw)
    ok(dirdrv.run(conf, "contractor-list"))


# ---- the cn=config form of the schema ----

# ---- TLS (per-handle options: tls_cacertfile, tls_reqcert, ldap_starttls) ----

@pytest.fixture
def tls_slapd(tmp_path):
    s = Slapd(tmp_path / "tls-slapd", tls=True)
    s.start()
    yield s
    s.stop()


def test_tls_ldaps_and_starttls(tmp_path, tls_slapd):
    s = tls_slapd
    conf = IcsoeConf(tmp_path / "etc", s, uri=s.ldaps_uri, tls_cacertfile=s.cacert)
    make_active(conf)
    ok(dirdrv.run(conf, "verify", CURP, input=PW + "\n"))
    # StartTLS on ldap://, required
    conf.write(uri=s.uri, ldap_starttls="required")
    ok(dirdrv.run(conf, "verify", CURP, input=PW + "\n"))
    assert "STARTTLS" in s.child.read_log()
    # a certificate nobody vouches for is refused (fail closed, quickly)
    conf.write(uri=s.ldaps_uri, ldap_starttls=None, tls_cacertfile=None, timeout="2")
    for args in (("verify", CURP), ("capturist-get", CURP)):
        r = dirdrv.run(conf, *args, input=PW + "\n")
        assert r.status in ("unavailable", "internal_error"), r.stdout
        assert r.elapsed < 4
    conf.write(uri=s.uri, ldap_starttls="required")
    assert dirdrv.run(conf, "capturist-get", CURP).status in ("unavailable", "internal_error")
    # ... unless checking is explicitly switched off
    conf.write(uri=s.ldaps_uri, ldap_starttls=None, tls_reqcert="never")
    ok(dirdrv.run(conf, "verify", CURP, input=PW + "\n"))
