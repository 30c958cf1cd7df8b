"""One-time activation/reset tokens in the directory (lib/dir_token.c):
single use (also under 50 concurrent consumers), expiry, a newer token
voids the older, purposes, and nothing half-written when refused."""
import hashlib
import re

import pytest

from harness import dirdrv
from harness.conf import IcsoeConf

CURP = "GOMC800101HDFRRL09"
RFC = "AAA010101AAA"
PW = "correct horse battery staple 1"


@pytest.fixture
def conf(tmp_path, slapd):
    c = IcsoeConf(tmp_path / "etc", slapd)
    assert dirdrv.run(c, "contractor-add", RFC, "Alfa").status == "ok"
    assert dirdrv.run(c, "capturist-add", CURP, "Carlos Gómez", "c@icsoe.test", RFC).status \
        == "ok"
    return c


def store(conf, purpose="activation", lifetime=3600, curp=CURP):
    r = dirdrv.run(conf, "token-store", curp, purpose, lifetime)
    assert r.status == "ok", r.stdout
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", r["token"])
    return r["token"]


def entry(slapd, curp=CURP):
    return slapd.get(slapd.capturist_dn(curp), ["*", "+"])


def test_only_the_hash_is_stored(conf, slapd):
    tok = store(conf)
    e = entry(slapd)
    assert e["icsoeTokenHash"] == [hashlib.sha256(tok.encode()).hexdigest()]
    assert e["icsoeTokenPurpose"] == ["activation"]
    assert tok not in repr(e)


def test_token_is_single_use(conf, slapd):
    tok = store(conf)
    # looking a token up (what a GET does) never consumes it
    for _ in range(2):
        r = dirdrv.run(conf, "token-lookup", tok, "activation")
        assert r.status == "ok" and r["curp"] == CURP and r["state"] == "pending"
    r = dirdrv.run(conf, "token-consume", tok, "activation", input=PW + "\n")
    assert r.status == "ok", r.stdout
    e = entry(slapd)
    assert e["icsoeStatus"] == ["active"] and e["icsoeEpoch"] == ["1"]
    for attr in ("icsoeTokenHash", "icsoeTokenExpiry", "icsoeTokenPurpose"):
        assert attr not in e
    assert e["userPassword"][0].startswith("{ARGON2}")   # hashed by slapd
    assert slapd.can_bind(slapd.capturist_dn(CURP), PW)
    # second use: refused, nothing changes
    r = dirdrv.run(conf, "token-consume", tok, "activation", input="other password 12345\n")
    assert r.status == "not_found"
    assert dirdrv.run(conf, "token-lookup", tok).status == "not_found"
    assert slapd.can_bind(slapd.capturist_dn(CURP), PW)
    assert entry(slapd)["icsoeEpoch"] == ["1"]
    assert dirdrv.run(conf, "verify", CURP, input=PW + "\n").status == "ok"
    assert PW not in r.stderr and tok not in r.stderr


def test_expired_token_fails_and_changes_nothing(conf, slapd):
    tok = store(conf, lifetime=-5)
    assert dirdrv.run(conf, "token-lookup", tok).status == "expired"
    r = dirdrv.run(conf, "token-consume", tok, input=PW + "\n")
    assert r.status == "expired"
    e = entry(slapd)
    assert e["icsoeStatus"] == ["pending"] and "userPassword" not in e
    assert "icsoeTokenHash" in e and e["icsoeEpoch"] == ["0"]


def test_newer_token_voids_older(conf, slapd):
    old = store(conf)
    new = store(conf, purpose="reset")
    assert dirdrv.run(conf, "token-lookup", old).status == "not_found"
    assert dirdrv.run(conf, "token-consume", old, input=PW + "\n").status == "not_found"
    assert "userPassword" not in entry(slapd)
    assert dirdrv.run(conf, "token-consume", new, "reset", input=PW + "\n").status == "ok"
    assert slapd.can_bind(slapd.capturist_dn(CURP), PW)


def test_wrong_purpose_and_malformed_tokens(conf, slapd):
    tok = store(conf, purpose="activation")
    assert dirdrv.run(conf, "token-lookup", tok, "reset").status == "not_found"
    assert dirdrv.run(conf, "token-consume", tok, "reset", input=PW + "\n").status \
        == "not_found"
    for bad in ("", "short", tok[:-1], tok + "A", tok[:-1] + "*", "*", "(icsoeTokenHash=*)"):
        assert dirdrv.run(conf, "token-lookup", bad).status == "not_found", bad
        assert dirdrv.run(conf, "token-consume", bad, input=PW + "\n").status == "not_found"
    e = entry(slapd)
    assert "userPassword" not in e and "icsoeTokenHash" in e
    assert dirdrv.run(conf, "token-consume", tok, "activation", input=PW + "\n").status == "ok"


def test_token_for_unknown_capturist(conf):
    r = dirdrv.run(conf, "token-store", "ZZZZ800101HDFRRL09", "activation", 3600)
    assert r.status == "not_found"


def test_refused_password_keeps_the_token(conf, slapd):
    """A password slapd's ppolicy refuses (here: in the history) leaves the
    token, the status and the old password exactly as they were."""
    tok = store(conf)
    assert dirdrv.run(conf, "token-consume", tok, input=PW + "\n").status == "ok"
    reset = store(conf, purpose="reset")
    before = entry(slapd)
    r = dirdrv.run(conf, "token-consume", reset, "reset", input=PW + "\n")
    assert r.status == "policy", r.stdout
    after = entry(slapd)
    for attr in ("icsoeTokenHash", "icsoeStatus", "icsoeEpoch", "userPassword"):
        assert after.get(attr) == before.get(attr), attr
    assert dirdrv.run(conf, "token-consume", reset, "reset",
                      input="a brand new passphrase\n").status == "ok"


def test_admin_locked_account_is_not_unlocked_by_a_link(conf, slapd):
    tok = store(conf)
    assert dirdrv.run(conf, "lock", CURP).status == "ok"
    assert dirdrv.run(conf, "token-consume", tok, input=PW + "\n").status == "locked"
    e = entry(slapd)
    assert e["icsoeStatus"] == ["locked"] and "userPassword" not in e


def test_concurrent_consumers_exactly_one_wins(conf, slapd):
    # Every consumer's Modify makes slapd hash the offered password (ppolicy)
    # before the atomic delete decides: 50 Argon2 runs on a loaded machine
    # may exceed the 3 s default of the test config.  Atomicity, not
    # latency, is under test here.
    conf.write(timeout="20")
    tok = store(conf)
    r = dirdrv.run(conf, "token-race", tok, 50, timeout=120)
    assert r.status == "ok", r.stdout + r.stderr
    assert r["succeeded"] == "1", r.stdout + r.stderr
    assert (r["not_found"], r["other"]) == ("49", "0"), r.stdout + r.stderr
    winner = int(r["winner"])
    dn = slapd.capturist_dn(CURP)
    # the stored password is the winner's, and only the winner's
    assert slapd.can_bind(dn, f"pw-{winner}-correct-horse-battery-staple")
    loser = (winner + 1) % 50
    assert not slapd.can_bind(dn, f"pw-{loser}-correct-horse-battery-staple")
    e = entry(slapd)
    assert e["icsoeStatus"] == ["active"] and e["icsoeEpoch"] == ["1"]
    assert "icsoeTokenHash" not in e and len(e["userPassword"]) == 1
