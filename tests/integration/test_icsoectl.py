"""icsoectl against a real slapd (harness/slapd.py) and SMTP sink
(harness/smtp.py): every verb's success path and its refusals, the
activation email and its one-time link, SMTP down, CSV import, JSON output,
key generation and validate.

Each test writes its own icsoe.conf for the fixtures' servers (the CLI reads
it with -c, exactly as an administrator would)."""
import hashlib
import json
import os
import re
import stat
import subprocess
import time
import urllib.parse

import pytest

from harness import dirdrv, util
from harness.smtp import SmtpSink

ACTIVATION_URL = "https://icsoe.example.test/icsoe/activar"

# ---- CURP / RFC with valid check digits ----

_CURP_ALPHABET = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ"
_RFC_VALUES = {ch: i for i, ch in enumerate("0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ")}
_RFC_VALUES[" "] = 37


def curp(first17):
    total = sum(_CURP_ALPHABET.index(ch) * (18 - i) for i, ch in enumerate(first17))
    return first17 + str((10 - total % 10) % 10)


def rfc(first):
    """RFC (11 chars for a company, 12 for a person) + SAT check digit."""
    padded = first if len(first) == 12 else " " + first
    total = sum(_RFC_VALUES[ch] * (13 - i) for i, ch in enumerate(padded))
    r = 11 - total % 11
    return first + ("0" if r == 11 else "A" if r == 10 else str(r))


def bad_digit(value):
    last = value[-1]
    return value[:-1] + ("1" if last == "0" else "0")


CURP_A = curp("GOMC800101HDFRRR0")   # Carla
CURP_B = curp("PEPJ900215MJCRRN0")   # Juana
CURP_C = curp("LOAA020304HNLPRNA")   # born 2002: letter differentiator
CURP_D = curp("MARR751120HVZRMS0")
RFC_1 = rfc("EKU900317SA")           # companies (12)
RFC_2 = rfc("XYZ991231A1")
RFC_3 = rfc("GODE561231GR")          # a person (13)


# ---- running icsoectl ----

def write_conf(tmp_path, slapd, smtp_url, name="icsoe.conf", **extra):
    keys = {
        "uri": slapd.uri,
        "base": slapd.base,
        "binddn": slapd.binddn,
        "bindpw_file": slapd.bindpw_file,
        "timeout": "3",
        "smtp_url": smtp_url,
        "smtp_timeout": "3",
        "mail_from": "Buzón ICSOE <icsoe@imss.example.test>",
        "activation_url": ACTIVATION_URL,
        "site_name": "ICSOE",
    }
    keys.update(extra)
    path = tmp_path / name
    path.write_text("".join(f"{k} {v}\n" for k, v in keys.items() if v is not None),
                    encoding="utf-8")
    return str(path)


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout.decode("utf-8")
        self.err = proc.stderr.decode("utf-8")

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"rc={self.rc}\nstdout:\n{self.out}\nstderr:\n{self.err}"


# scripts/test.d/45-valgrind sets ICSOE_VALGRIND=DIR: every icsoectl run
# then goes through memcheck, which exits 99 on any error or definite leak
# (no expected exit status is 99) and writes its report under DIR.
VALGRIND_DIR = os.environ.get("ICSOE_VALGRIND")


def valgrind_prefix():
    if not VALGRIND_DIR:
        return []
    return ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            f"--suppressions={util.src('tests/integration/valgrind.supp')}",
            f"--log-file={VALGRIND_DIR}/icsoectl.%p.log"]


def icsoectl(*args, conf=None, env=None, stdin=None, timeout=60):
    argv = valgrind_prefix() + [util.built("tools/icsoectl")]
    if conf is not None:
        argv += ["-c", conf]
    argv += [str(a) for a in args]
    e = dict(os.environ)
    e.pop("ICSOE_CONFIG", None)
    if env:
        e.update(env)
    return Result(subprocess.run(argv, capture_output=True, env=e, timeout=timeout,
                                 input=stdin))


@pytest.fixture
def conf(tmp_path, slapd, smtp):
    return write_conf(tmp_path, slapd, smtp.url)


def capturist_entry(slapd, c):
    return slapd.get(slapd.capturist_dn(c),
                     ["*", "pwdAccountLockedTime", "pwdFailureTime"])


def capturist_count(slapd):
    return len(slapd.search("(objectClass=icsoeCapturist)", ["uid"]))


def token_of(link):
    q = urllib.parse.urlparse(link).query
    return urllib.parse.parse_qs(q)["t"][0]


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


def add_contractor(conf, r=RFC_1, name="Servicios Ejemplo SA de CV", *extra):
    res = icsoectl("contractor", "add", "--rfc", r, "--name", name, *extra, conf=conf)
    assert res.rc == 0, res
    return res


def add_capturist(conf, c=CURP_A, name="Carla Gómez", email="carla@example.test",
                  contractors=(RFC_1,), *extra):
    args = ["capturist", "add", "--curp", c, "--name", name, "--email", email]
    for r in contractors:
        args += ["--contractor", r]
    return icsoectl(*args, *extra, conf=conf)


def activate(conf, token, password):
    """What the activation page does: icsoe_dir_token_consume through
    tests/integration/dirdrv (atomic delete of the exact token hash + the
    new password).  Returns dirdrv's status word: "ok", "not_found"..."""
    return dirdrv.run(conf, "token-consume", token, "activation",
                      input=password + "\n").status


def verify(conf, c, password):
    """icsoe_dir_verify_password (the login path of mod_icsoe and PAM)."""
    return dirdrv.run(conf, "verify", c, input=password + "\n").status


# ======================================================================
# validate and key generate: no configuration, no directory
# ======================================================================

VALIDATE_CURPS = [
    (CURP_A, "ok", "ok"),
    (CURP_B.lower(), "ok", "ok"),                     # any case
    ("  " + CURP_C + " ", "ok", "ok"),                # surrounding blanks
    (CURP_D, "ok", "ok"),
    (bad_digit(CURP_A), "invalid", "bad-check-digit"),
    (CURP_A[:17], "invalid", "bad-length"),
    (CURP_A + "X", "invalid", "bad-length"),
    ("", "invalid", "empty"),
    ("GOMC801301HDFRRR0" + "0", "invalid", None),     # month 13
    ("GOMC800101ZDFRRR0" + "0", "invalid", None),     # sex Z
    ("GOMC800101HZZRRR0" + "0", "invalid", None),     # state ZZ
    ("GOMC80010!HDFRRR00", "invalid", None),          # symbol
]
VALIDATE_RFCS = [
    (RFC_1, "ok", "ok"),
    (RFC_2.lower(), "ok", "ok"),
    (RFC_3, "ok", "ok"),
    (bad_digit(RFC_1), "warning", "bad-check-digit"),
    (bad_digit(RFC_3), "warning", "bad-check-digit"),
    ("EKU900317S", "invalid", "bad-length"),
    ("EKU901317SA1", "invalid", None),                # month 13
    ("E1U900317SA1", "invalid", None),                # digit among the letters
    ("", "invalid", "empty"),
    ("EKU900317SA1X9", "invalid", "bad-length"),
]


def test_validate_many_values_without_config(tmp_path):
    assert len(VALIDATE_CURPS) + len(VALIDATE_RFCS) >= 20
    # a config path that does not exist proves it is never read
    env = {"ICSOE_CONFIG": str(tmp_path / "nope.conf")}
    for kind, table in (("curp", VALIDATE_CURPS), ("rfc", VALIDATE_RFCS)):
        r = icsoectl("--json", "validate", kind, *[v for v, _, _ in table], env=env)
        items = r.json()
        assert len(items) == len(table), r
        for (value, verdict, reason), item in zip(table, items):
            assert item["input"] == value
            assert item["verdict"] == verdict, (value, item)
            if reason is not None:
                assert item["reason"] == reason, (value, item)
            assert item["message"]
            if verdict != "invalid":
                assert item["normalized"] == value.strip().upper()
        assert r.rc == 1, r  # every table holds invalid values
    # only valid values: exit 0; warnings alone: exit 0
    r = icsoectl("validate", "curp", CURP_A, CURP_B, CURP_C, env=env)
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert len(lines) == 3 and all(re.match(r"^\S+\s+ok\s+ok$", ln) for ln in lines)
    r = icsoectl("validate", "rfc", RFC_1, bad_digit(RFC_2), env=env)
    assert r.rc == 0, r
    assert re.search(rf"^{bad_digit(RFC_2)}\s+warning\s+bad-check-digit$", r.out, re.M)
    # --strict: the check digit becomes an error
    r = icsoectl("validate", "rfc", "--strict", RFC_1, bad_digit(RFC_2), env=env)
    assert r.rc == 1, r
    assert re.search(rf"^{bad_digit(RFC_2)}\s+invalid\s+bad-check-digit$", r.out, re.M)
    # a CURP check digit is always enforced
    r = icsoectl("validate", "curp", bad_digit(CURP_A), env=env)
    assert r.rc == 1 and "invalid" in r.out, r
    # aligned: the verdict column starts at the same offset on every line
    r = icsoectl("validate", "rfc", RFC_1, RFC_3, "X", env=env)
    cols = {ln.index(" ok") if " ok" in ln else ln.index(" invalid")
            for ln in r.out.splitlines()}
    assert len(cols) == 1, r.out
    # usage errors
    assert icsoectl("validate", "curp", env=env).rc == 1
    assert icsoectl("validate", "nif", "X", env=env).rc == 1


def test_json_escapes_every_value():
    tricky = ['quote " back \\ slash', "tab\tnew\nline", "ctl\x01\x1f", "ñandú €"]
    r = icsoectl("--json", "validate", "rfc", *tricky)
    items = r.json()
    assert [i["input"] for i in items] == tricky


def test_key_generate(tmp_path):
    key = tmp_path / "session.key"
    r = icsoectl("key", "generate", key)
    assert r.rc == 0, r
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    first = key.read_bytes()
    assert re.fullmatch(rb"[0-9a-f]{64}\n?", first), first
    assert first.strip().decode() not in r.out + r.err  # never printed
    # refuses to overwrite: exit 2 and the file is unchanged
    r = icsoectl("key", "generate", key)
    assert r.rc == 2, r
    assert "icsoectl:" in r.err and len(r.err.strip().splitlines()) == 1
    assert key.read_bytes() == first
    # --force replaces it with a different key, still 0600
    r = icsoectl("--json", "key", "generate", "--force", key)
    assert r.rc == 0, r
    assert r.json() == {"file": str(key), "replaced": True}
    assert key.read_bytes() != first
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    # unusable path
    r = icsoectl("key", "generate", tmp_path / "missing" / "k")
    assert r.rc == 1, r
    assert not (tmp_path / "missing").exists()


# ======================================================================
# configuration
# ======================================================================

def test_config_errors(tmp_path, slapd, smtp):
    r = icsoectl("contractor", "list", conf=str(tmp_path / "absent.conf"))
    assert r.rc == 4, r
    assert r.err.startswith("icsoectl: ") and "absent.conf" in r.err
    bad = write_conf(tmp_path, slapd, smtp.url, name="bad.conf", urii="ldap://x")
    r = icsoectl("contractor", "list", conf=bad)
    assert r.rc == 4, r
    assert re.search(r"bad\.conf:\d+: .*urii", r.err), r
    # ICSOE_CONFIG is used when -c is absent
    good = write_conf(tmp_path, slapd, smtp.url)
    r = icsoectl("contractor", "list", env={"ICSOE_CONFIG": good})
    assert r.rc == 0, r
    # no activation_url: add refuses before writing anything
    add_contractor(good)
    nolink = write_conf(tmp_path, slapd, smtp.url, name="nolink.conf",
                        activation_url=None)
    r = add_capturist(nolink)
    assert r.rc == 4 and "activation_url" in r.err, r
    assert capturist_count(slapd) == 0
    assert smtp.count() == 0


def test_directory_down_is_exit_3(tmp_path, slapd, smtp):
    conf = write_conf(tmp_path, slapd, smtp.url)
    slapd.stop()
    for args in (("contractor", "list"), ("capturist", "show", CURP_A),
                 ("contractor", "add", "--rfc", RFC_1, "--name", "X")):
        r = icsoectl(*args, conf=conf)
        assert r.rc == 3, (args, r)
        assert "icsoectl:" in r.err
    slapd.start()


# ======================================================================
# contractors
# ======================================================================

def test_contractor_lifecycle(conf, slapd):
    r = icsoectl("contractor", "add", "--rfc", RFC_1.lower(), "--name",
                 "  Servicios Ejemplo SA de CV ", "--repse", "ar12345/2022",
                 "--email", "contacto@example.test", conf=conf)
    assert r.rc == 0, r
    e = slapd.get(slapd.contractor_dn(RFC_1))
    assert e["icsoeRFC"] == [RFC_1] and e["o"] == ["Servicios Ejemplo SA de CV"]
    assert e["icsoeREPSE"] == ["AR12345/2022"] and e["mail"] == ["contacto@example.test"]
    add_contractor(conf, RFC_3, "Dolores Godínez")

    # duplicate
    r = icsoectl("contractor", "add", "--rfc", RFC_1, "--name", "Otra", conf=conf)
    assert r.rc == 2 and "already exists" in r.err, r
    assert slapd.get(slapd.contractor_dn(RFC_1))["o"] == ["Servicios Ejemplo SA de CV"]

    # refusals write nothing
    before = len(slapd.search("(objectClass=icsoeContractor)", ["icsoeRFC"]))
    for args, what in (
            (["--rfc", "EKU9003", "--name", "X"], "RFC"),
            (["--rfc", RFC_2, "--name", "   "], "name"),
            (["--rfc", RFC_2, "--name", "X" * 201], "name"),
            (["--rfc", RFC_2, "--name", "a\nb"], "name"),
            (["--rfc", RFC_2, "--name", "X", "--email", "no-at-sign"], "email"),
            (["--rfc", RFC_2, "--name", "X", "--email", "a@b.c\r\nBcc: x@y.z"], "email"),
            (["--rfc", RFC_2, "--name", "X", "--repse", "AR 1;2"], "REPSE"),
            (["--rfc", bad_digit(RFC_2), "--name", "X", "--strict"], "check digit"),
            (["--name", "X"], "required")):
        r = icsoectl("contractor", "add", *args, conf=conf)
        assert r.rc == 1, (args, r)
        assert what in r.err and len(r.err.strip().splitlines()) <= 2, (args, r)
    assert len(slapd.search("(objectClass=icsoeContractor)", ["icsoeRFC"])) == before

    # a wrong check digit without --strict: accepted with a warning
    r = icsoectl("contractor", "add", "--rfc", bad_digit(RFC_2), "--name", "Digito SA",
                 conf=conf)
    assert r.rc == 0 and "warning" in r.err and "check digit" in r.err, r
    assert slapd.get(slapd.contractor_dn(bad_digit(RFC_2))) is not None

    # list: aligned table and JSON
    r = icsoectl("contractor", "list", conf=conf)
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0].split() == ["RFC", "NAME", "REPSE", "EMAIL"]
    assert len(lines) == 4
    assert len({ln.index(ln.split()[1]) for ln in lines}) == 1  # NAME column aligned
    r = icsoectl("--json", "contractor", "list", conf=conf)
    items = r.json()
    assert sorted(i["rfc"] for i in items) == sorted([RFC_1, RFC_3, bad_digit(RFC_2)])
    one = [i for i in items if i["rfc"] == RFC_1][0]
    assert one == {"rfc": RFC_1, "name": "Servicios Ejemplo SA de CV",
                   "repse": "AR12345/2022", "email": "contacto@example.test"}

    # show
    r = icsoectl("contractor", "show", RFC_3, "--json", conf=conf)
    assert r.rc == 0, r
    assert r.json()["name"] == "Dolores Godínez" and r.json()["capturists"] == []
    r = icsoectl("contractor", "show", RFC_3, conf=conf)
    assert "Dolores Godínez" in r.out
    r = icsoectl("contractor", "show", RFC_2, conf=conf)
    assert r.rc == 2 and RFC_2 in r.err, r
    r = icsoectl("contractor", "show", "NOPE", conf=conf)
    assert r.rc == 1, r

    # remove (unassigned)
    r = icsoectl("contractor", "remove", RFC_3, conf=conf)
    assert r.rc == 0, r
    assert slapd.get(slapd.contractor_dn(RFC_3)) is None
    r = icsoectl("contractor", "remove", RFC_3, conf=conf)
    assert r.rc == 2, r


def test_contractor_remove_refused_while_assigned(conf, slapd, smtp):
    add_contractor(conf, RFC_1)
    add_contractor(conf, RFC_2, "Segunda SA")
    r = add_capturist(conf, contractors=(RFC_1, RFC_2))
    assert r.rc == 0, r
    r = icsoectl("contractor", "remove", RFC_1, conf=conf)
    assert r.rc == 2, r
    assert "--force" in r.err and RFC_1 in r.err
    assert slapd.get(slapd.contractor_dn(RFC_1)) is not None
    assert sorted(capturist_entry(slapd, CURP_A)["icsoeContractorRFC"]) == \
        sorted([RFC_1, RFC_2])
    r = icsoectl("contractor", "remove", "--force", RFC_1, conf=conf)
    assert r.rc == 0, r
    assert slapd.get(slapd.contractor_dn(RFC_1)) is None
    assert capturist_entry(slapd, CURP_A)["icsoeContractorRFC"] == [RFC_2]


# ======================================================================
# capturists
# ======================================================================

def test_capturist_add_sends_activation_mail(conf, slapd, smtp):
    add_contractor(conf, RFC_1)
    add_contractor(conf, RFC_2, "Segunda SA")
    r = add_capturist(conf, CURP_A.lower(), "  Carla Gómez ", "carla@example.test",
                      (RFC_1, RFC_2.lower(), RFC_1))
    assert r.rc == 0, r
    assert "pending" in r.out and "carla@example.test" in r.out
    e = capturist_entry(slapd, CURP_A)
    assert e is not None, "the CURP is stored normalised"
    assert e["icsoeStatus"] == ["pending"]
    assert sorted(e["icsoeContractorRFC"]) == sorted([RFC_1, RFC_2])
    assert e["mail"] == ["carla@example.test"]
    assert "userPassword" not in e

    msgs = smtp.wait_for(1)
    assert len(msgs) == 1
    msg = msgs[0]
    assert "carla@example.test" in msg["To"]
    links = SmtpSink.links(msg)
    assert len(links) >= 1 and links[0].startswith(ACTIVATION_URL + "?t=")
    token = token_of(links[0])
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    # only the hash is stored; it is the hash of the mailed token
    assert e["icsoeTokenHash"] == [sha256_hex(token)]
    assert e["icsoeTokenPurpose"] == ["activation"]
    assert token not in r.out + r.err

    # the directory accepts the token once
    assert activate(conf, token, "una frase de paso larga y segura 1") == "ok"
    assert activate(conf, token, "otra frase de paso larga y segura") == "not_found"
    assert verify(conf, CURP_A, "una frase de paso larga y segura 1") == "ok"
    assert verify(conf, CURP_A, "otra frase de paso larga y segura") != "ok"

    # show never prints the token or its hash
    r = icsoectl("capturist", "show", CURP_A, conf=conf)
    assert r.rc == 0 and "active" in r.out
    assert token not in r.out and sha256_hex(token) not in r.out


def test_show_pending_never_prints_token(conf, slapd, smtp):
    add_contractor(conf, RFC_1)
    r = add_capturist(conf, CURP_A, "Carla Gómez", "carla@example.test", (RFC_1,),
                      "--no-mail")
    assert r.rc == 0, r
    link = [ln for ln in r.out.splitlines() if ln.startswith(ACTIVATION_URL)][0]
    token = token_of(link)
    assert smtp.count() == 0  # --no-mail
    for args in (("capturist", "show", CURP_A), ("--json", "capturist", "show", CURP_A),
                 ("capturist", "list"), ("--json", "capturist", "list")):
        r = icsoectl(*args, conf=conf)
        assert r.rc == 0, r
        assert token not in r.out + r.err and sha256_hex(token) not in r.out + r.err
    r = icsoectl("capturist", "show", CURP_A, conf=conf)
    assert re.search(r"^status:\s+pending$", r.out, re.M), r.out
    assert re.search(r"^token:\s+activation link, expires \d{4}-", r.out, re.M), r.out
    assert RFC_1 in r.out and "Servicios Ejemplo SA de CV" in r.out
    d = icsoectl("--json", "capturist", "show", CURP_A, conf=conf).json()
    assert d["curp"] == CURP_A and d["status"] == "pending"
    assert d["name"] == "Carla Gómez" and d["email"] == "carla@example.test"
    assert d["contractors"] == [RFC_1]
    assert d["token"]["purpose"] == "activation" and d["token"]["expired"] is False
    assert d["ppolicy_locked"] is False and isinstance(d["epoch"], int)
    # the link printed by --no-mail works like a mailed one
    assert activate(conf, token, "una frase de paso larga y segura 2") == "ok"


def test_capturist_add_refusals(conf, slapd, smtp):
    add_contractor(conf, RFC_1)
    cases = [
        ((bad_digit(CURP_A), "Carla", "carla@example.test", (RFC_1,)), 1, "CURP"),
        (("XXXX", "Carla", "carla@example.test", (RFC_1,)), 1, "CURP"),
        ((CURP_A, "Carla", "carla@", (RFC_1,)), 1, "email"),
        ((CURP_A, "Carla", "carla@example.test\nBcc: x@example.test", (RFC_1,)), 1,
         "email"),
        ((CURP_A, "   ", "carla@example.test", (RFC_1,)), 1, "name"),
        ((CURP_A, "Carla\r\nX-Evil: 1", "carla@example.test", (RFC_1,)), 1, "name"),
        ((CURP_A, "Carla", "carla@example.test", ("EKU9",)), 1, "RFC"),
        ((CURP_A, "Carla", "carla@example.test", (RFC_1, RFC_2)), 2, RFC_2),
        ((CURP_A, "Carla", "carla@example.test", ()), 1, "--contractor"),
    ]
    for args, rc, what in cases:
        r = add_capturist(conf, *args)
        assert r.rc == rc, (args, r)
        assert r.err.startswith("icsoectl: ") and what in r.err, (args, r)
    assert capturist_count(slapd) == 0
    # duplicate
    assert add_capturist(conf).rc == 0
    smtp.wait_for(1)
    r = add_capturist(conf, CURP_A, "Otra Persona", "otra@example.test")
    assert r.rc == 2 and "already exists" in r.err, r
    e = capturist_entry(slapd, CURP_A)
    assert e["mail"] == ["carla@example.test"]
    time.sleep(0.3)
    assert smtp.count() == 1  # no mail for a refused add


def test_resend_voids_old_token(conf, slapd, smtp):
    add_contractor(conf, RFC_1)
    assert add_capturist(conf).rc == 0
    old = token_of(SmtpSink.links(smtp.wait_for(1)[0])[0])
    r = icsoectl("capturist", "resend", CURP_A, conf=conf)
    assert r.rc == 0, r
    msgs = smtp.wait_for(2)
    new = token_of(SmtpSink.links(msgs[1])[0])
    assert new != old
    assert capturist_entry(slapd, CURP_A)["icsoeTokenHash"] == [sha256_hex(new)]
    assert activate(conf, old, "una frase de paso larga y segura 3") == "not_found"
    assert capturist_entry(slapd, CURP_A)["icsoeStatus"] == ["pending"]
    assert activate(conf, new, "una frase de paso larga y segura 3") == "ok"
    # an active account gets no activation link
    r = icsoectl("capturist", "resend", CURP_A, conf=conf)
    assert r.rc == 2 and "active" in r.err, r
    r = icsoectl("capturist", "resend", CURP_B, conf=conf)
    assert r.rc == 2 and "does not exist" in r.err, r


def test_smtp_down_then_resend(tmp_path, slapd, smtp):
    conf = write_conf(tmp_path, slapd, smtp.url)
    add_contractor(conf, RFC_1)
    smtp.stop()
    r = add_capturist(conf)
    assert r.rc == 3, r
    assert "activation email NOT sent" in r.out
    assert "the mail server is unavailable" in r.err
    assert "icsoectl capturist resend --unsent" in r.err
    e = capturist_entry(slapd, CURP_A)
    assert e["icsoeStatus"] == ["pending"] and "userPassword" not in e
    # issue 17, item 3: the account says its mail never left
    d = icsoectl("--json", "capturist", "show", CURP_A, conf=conf).json()
    assert d["mail"]["state"] == "unsent" and d["mail"]["kind"] == "activation", d
    assert d["mail"]["error"] and d["mail"]["time"], d
    assert "NOT SENT" in icsoectl("capturist", "show", CURP_A, conf=conf).out
    # resend while still down: same exit code, still pending
    r = icsoectl("capturist", "resend", CURP_A, conf=conf)
    assert r.rc == 3, r
    # the mail server is back (on a new port): resend delivers
    sink = SmtpSink(tmp_path / "mail2")
    sink.start()
    try:
        conf2 = write_conf(tmp_path, slapd, sink.url, name="icsoe2.conf")
        r = icsoectl("capturist", "resend", CURP_A, conf=conf2)
        assert r.rc == 0, r
        msg = sink.wait_for(1)[0]
        token = token_of(SmtpSink.links(msg)[0])
        assert capturist_entry(slapd, CURP_A)["icsoeTokenHash"] == [sha256_hex(token)]
        d = icsoectl("--json", "capturist", "show", CURP_A, conf=conf2).json()
        assert d["mail"]["state"] == "sent" and d["mail"]["error"] is None, d
        # nothing left to send
        r = icsoectl("capturist", "resend", "--unsent", conf=conf2)
        assert r.rc == 0 and "0 sent" in r.out, r
        assert activate(conf2, token, "una frase de paso larga y segura 4") == "ok"
    finally:
        sink.stop()


def test_import_rerun_sends_what_never_left(tmp_path, slapd, smtp):
    """Issue 17, item 3: with the relay down, import creates the accounts,
    records their mails as unsent and exits 3; re-running the same file
    once the relay is back sends exactly those mails (and nothing twice);
    "resend --unsent" does the same for accounts from "capturist add"."""
    conf = write_conf(tmp_path, slapd, smtp.url)
    add_contractor(conf, RFC_1)
    smtp.stop()
    path = tmp_path / "c.csv"
    path.write_text("curp,nombre,correo,rfc\n"
                    f"{CURP_A},Carla Gómez,carla@example.test,{RFC_1}\n"
                    f"{CURP_B},Juana Pérez,juana@example.test,{RFC_1}\n", encoding="utf-8")
    r = icsoectl("capturist", "import", path, conf=conf)
    assert r.rc == 3, r
    assert "2 created" in r.out and "2 mail failures" in r.out, r
    assert add_capturist(conf, CURP_C, "Ana López", "ana@example.test").rc == 3
    listed = icsoectl("--json", "capturist", "list", conf=conf).json()
    assert {c["curp"]: c["mail"]["state"] for c in listed} == \
        {CURP_A: "unsent", CURP_B: "unsent", CURP_C: "unsent"}
    table = icsoectl("capturist", "list", conf=conf).out
    assert all(ln.split()[-1] == "unsent" for ln in table.splitlines()[1:]), table
    sink = SmtpSink(tmp_path / "mail2")
    sink.start()
    try:
        conf2 = write_conf(tmp_path, slapd, sink.url, name="icsoe2.conf")
        r = icsoectl("capturist", "import", path, conf=conf2)
        assert r.rc == 0, r
        assert "0 created" in r.out and "2 mails (2 of them resent)" in r.out, r
        msgs = sink.wait_for(2)
        assert sorted(m["To"].addresses[0].addr_spec for m in msgs) == \
            ["carla@example.test", "juana@example.test"]
        # the capturist added by hand is left to resend --unsent
        r = icsoectl("--json", "capturist", "resend", "--unsent", conf=conf2)
        assert r.rc == 0, r
        assert r.json() == {"sent": 1, "failed": 0, "refused": 0, "complete": True}
        msgs = sink.wait_for(3)
        assert msgs[2]["To"].addresses[0].addr_spec == "ana@example.test"
        # every link works: the mailed ones are the stored ones
        for m in msgs:
            curp = re.search(r"CURP ([A-Z0-9]{18})", SmtpSink.text(m)).group(1)
            token = token_of(SmtpSink.links(m)[0])
            assert capturist_entry(slapd, curp)["icsoeTokenHash"] == [sha256_hex(token)]
        # and a third run sends nothing
        r = icsoectl("capturist", "import", path, conf=conf2)
        assert r.rc == 0 and "0 mails" in r.out, r
        time.sleep(0.3)
        assert sink.count() == 3
        listed = icsoectl("--json", "capturist", "list", conf=conf2).json()
        assert {c["mail"]["state"] for c in listed} == {"sent"}
    finally:
        sink.stop()


def test_refused_recipient_is_exit_1_and_set_email_fixes_it(tmp_path, slapd):
    """Issue 17, item 4: a 550 to RCPT is no outage: exit 1, the message
    says the address must be corrected and how; "capturist set --email"
    corrects it and mails a new link there (the old one stops working)."""
    sink = SmtpSink(tmp_path / "refuse", refuse=True)
    sink.start()
    try:
        conf = write_conf(tmp_path, slapd, sink.url)
        add_contractor(conf, RFC_1)
        r = add_capturist(conf)
        assert r.rc == 1, r
        assert "refused the address" in r.err and "for good" in r.err
        assert f"icsoectl capturist set {CURP_A} --email" in r.err
        assert "resend" not in r.err
        assert capturist_entry(slapd, CURP_A)["icsoeStatus"] == ["pending"]
        old_hash = capturist_entry(slapd, CURP_A)["icsoeTokenHash"]
        d = icsoectl("--json", "capturist", "show", CURP_A, conf=conf).json()
        assert d["mail"]["state"] == "refused" and "550" in d["mail"]["error"], d
        # resend --unsent does not hammer a refused address
        r = icsoectl("capturist", "resend", "--unsent", conf=conf)
        assert r.rc == 1 and "--email" in r.err, r
        assert capturist_entry(slapd, CURP_A)["icsoeTokenHash"] == old_hash
    finally:
        sink.stop()
    good = SmtpSink(tmp_path / "good")
    good.start()
    try:
        conf2 = write_conf(tmp_path, slapd, good.url, name="icsoe2.conf")
        r = icsoectl("capturist", "set", CURP_A, "--email", "ana.bien@example.test",
                     conf=conf2)
        assert r.rc == 0, r
        (msg,) = good.wait_for(1)
        assert msg["To"].addresses[0].addr_spec == "ana.bien@example.test"
        e = capturist_entry(slapd, CURP_A)
        assert e["mail"] == ["ana.bien@example.test"]
        assert e["icsoeTokenHash"] != old_hash  # the old link is void
        assert e["icsoeTokenHash"] == [sha256_hex(token_of(SmtpSink.links(msg)[0]))]
        assert e["icsoeMailState"] == ["sent"] and "icsoeMailError" not in e
        # a bad address is refused before anything changes
        r = icsoectl("capturist", "set", CURP_A, "--email", "no es correo", conf=conf2)
        assert r.rc == 1, r
        assert capturist_entry(slapd, CURP_A)["mail"] == ["ana.bien@example.test"]
    finally:
        good.stop()


def test_grant_revoke(conf, slapd, smtp):
    add_contractor(conf, RFC_1)
    add_contractor(conf, RFC_2, "Segunda SA")
    assert add_capturist(conf).rc == 0
    r = icsoectl("capturist", "grant", CURP_A, RFC_2.lower(), conf=conf)
    assert r.rc == 0, r
    assert sorted(capturist_entry(slapd, CURP_A)["icsoeContractorRFC"]) == \
        sorted([RFC_1, RFC_2])
    r = icsoectl("capturist", "grant", CURP_A, RFC_2, conf=conf)
    assert r.rc == 2 and "already" in r.err, r
    r = icsoectl("capturist", "grant", CURP_A, RFC_3, conf=conf)
    assert r.rc == 2 and RFC_3 in r.err, r
    r = icsoectl("capturist", "grant", CURP_B, RFC_1, conf=conf)
    assert r.rc == 2 and CURP_B in r.err, r
    r = icsoectl("capturist", "grant", "nope", RFC_1, conf=conf)
    assert r.rc == 1, r
    r = icsoectl("capturist", "revoke", CURP_A, RFC_1, conf=conf)
    assert r.rc == 0, r
    assert capturist_entry(slapd, CURP_A)["icsoeContractorRFC"] == [RFC_2]
    r = icsoectl("capturist", "revoke", CURP_A, RFC_1, conf=conf)
    assert r.rc == 2, r
    r = icsoectl("--json", "capturist", "revoke", CURP_A, RFC_2, conf=conf)
    assert r.rc == 0 and r.json()["action"] == "revoked", r
    assert "icsoeContractorRFC" not in capturist_entry(slapd, CURP_A)


def test_lock_unlock_remove(conf, slapd, smtp):
    add_contractor(conf, RFC_1)
    assert add_capturist(conf).rc == 0
    token = token_of(SmtpSink.links(smtp.wait_for(1)[0])[0])
    assert activate(conf, token, "una frase de paso larga y segura 5") == "ok"
    epoch = int(capturist_entry(slapd, CURP_A)["icsoeEpoch"][0])
    r = icsoectl("capturist", "lock", CURP_A, conf=conf)
    assert r.rc == 0 and "locked" in r.out, r
    e = capturist_entry(slapd, CURP_A)
    assert e["icsoeStatus"] == ["locked"] and int(e["icsoeEpoch"][0]) > epoch
    r = icsoectl("--json", "capturist", "unlock", CURP_A, conf=conf)
    assert r.rc == 0, r
    assert r.json()["status"] == "active"
    assert capturist_entry(slapd, CURP_A)["icsoeStatus"] == ["active"]
    # a pending account goes back to pending
    add_capturist(conf, CURP_B, "Juana Pérez", "juana@example.test")
    assert icsoectl("capturist", "lock", CURP_B, conf=conf).rc == 0
    assert icsoectl("capturist", "unlock", CURP_B, conf=conf).rc == 0
    assert capturist_entry(slapd, CURP_B)["icsoeStatus"] == ["pending"]
    for verb in ("lock", "unlock", "remove", "show"):
        r = icsoectl("capturist", verb, CURP_C, conf=conf)
        assert r.rc == 2 and "does not exist" in r.err, (verb, r)
        r = icsoectl("capturist", verb, "BAD", conf=conf)
        assert r.rc == 1 and "CURP" in r.err, (verb, r)
    r = icsoectl("capturist", "remove", CURP_A, conf=conf)
    assert r.rc == 0, r
    assert capturist_entry(slapd, CURP_A) is None


def test_unlock_clears_ppolicy_lockout(conf, slapd, smtp):
    add_contractor(conf, RFC_1)
    assert add_capturist(conf).rc == 0
    token = token_of(SmtpSink.links(smtp.wait_for(1)[0])[0])
    good = "una frase de paso larga y segura 6"
    assert activate(conf, token, good) == "ok"
    assert verify(conf, CURP_A, good) == "ok"
    for _ in range(5):  # pwdMaxFailure 5 in schema/ppolicy-default.ldif
        assert verify(conf, CURP_A, "contraseña equivocada") != "ok"
    assert verify(conf, CURP_A, good) == "locked", "ppolicy should lock the account"
    assert "pwdAccountLockedTime" in capturist_entry(slapd, CURP_A)
    d = icsoectl("--json", "capturist", "show", CURP_A, conf=conf).json()
    assert d["ppolicy_locked"] is True and d["status"] == "active"
    r = icsoectl("capturist", "show", CURP_A, conf=conf)
    assert re.search(r"^ppolicy lock:\s+yes$", r.out, re.M), r.out
    r = icsoectl("capturist", "unlock", CURP_A, conf=conf)
    assert r.rc == 0, r
    e = capturist_entry(slapd, CURP_A)
    assert "pwdAccountLockedTime" not in e and "pwdFailureTime" not in e
    assert verify(conf, CURP_A, good) == "ok"
    assert icsoectl("--json", "capturist", "show", CURP_A,
                    conf=conf).json()["ppolicy_locked"] is False


def test_list_filters_and_json(conf, slapd, smtp):
    add_contractor(conf, RFC_1)
    add_contractor(conf, RFC_2, "Segunda SA")
    assert add_capturist(conf, CURP_A, "Carla Gómez", "carla@example.test",
                         (RFC_1,)).rc == 0
    assert add_capturist(conf, CURP_B, "Juana Pérez", "juana@example.test",
                         (RFC_1, RFC_2)).rc == 0
    assert add_capturist(conf, CURP_C, "Ana López", "ana@example.test", (RFC_2,)).rc == 0
    assert icsoectl("capturist", "lock", CURP_C, conf=conf).rc == 0

    def curps(*args):
        r = icsoectl("--json", "capturist", "list", *args, conf=conf)
        assert r.rc == 0, r
        return [i["curp"] for i in r.json()]

    assert curps() == sorted([CURP_A, CURP_B, CURP_C])
    assert curps("--contractor", RFC_1) == sorted([CURP_A, CURP_B])
    assert curps("--contractor", RFC_2, "--status", "pending") == [CURP_B]
    assert curps("--status", "locked") == [CURP_C]
    assert curps("--contractor", RFC_3) == []
    r = icsoectl("capturist", "list", "--status", "weird", conf=conf)
    assert r.rc == 1, r
    r = icsoectl("capturist", "list", conf=conf)
    lines = r.out.splitlines()
    assert lines[0].split() == ["CURP", "STATUS", "NAME", "EMAIL", "CONTRACTORS", "MAIL"]
    assert len(lines) == 4
    row_b = [ln for ln in lines if ln.startswith(CURP_B)][0]
    assert "Juana Pérez" in row_b and f"{RFC_1},{RFC_2}" in row_b
    # the EMAIL column lines up even after multi-byte names
    assert len({ln.index(ln.split()[-3]) for ln in lines[1:]}) == 1, r.out
    # contractor show lists its capturists
    d = icsoectl("--json", "contractor", "show", RFC_2, conf=conf).json()
    assert sorted(c["curp"] for c in d["capturists"]) == sorted([CURP_B, CURP_C])


# ======================================================================
# CSV import
# ======================================================================

def test_import_mixed_rows_then_idempotent(tmp_path, conf, slapd, smtp):
    add_contractor(conf, RFC_1)
    add_contractor(conf, RFC_2, "Segunda SA")
    # an existing capturist: the import may only grant it a contractor
    assert add_capturist(conf, CURP_D, "Rafael Martínez", "rafa@example.test",
                         (RFC_1,)).rc == 0
    smtp.wait_for(1)
    smtp.clear()
    csv = (
        "\ufeffCURP,Nombre,Correo,RFC\r\n"                                   # 1
        f"{CURP_A},Carla Gómez,carla@example.test,{RFC_1}\r\n"              # 2 ok
        f"{CURP_A.lower()},Carla Gómez,carla@example.test,{RFC_2}\r\n"      # 3 ok
        f"{bad_digit(CURP_B)},Juana,juana@example.test,{RFC_1}\r\n"         # 4 bad CURP
        f"{CURP_B},Juana Pérez,juana@,{RFC_1}\r\n"                          # 5 bad email
        "\r\n"                                                              # 6 blank
        f"{CURP_B},Juana Pérez,juana@example.test,{RFC_3}\r\n"              # 7 unknown
        f"{CURP_B},Juana Pérez,juana@example.test,EKU9\r\n"                 # 8 RFC invalid
        f"{CURP_A},Carla Distinta,carla@example.test,{RFC_1}\r\n"           # 9 conflict
        f"{CURP_C},\"López, Ana\",ana@example.test,{RFC_2}\r\n"             # 10 ok (quoted)
        f"{CURP_D},Rafael Martínez,rafa@example.test,{RFC_2}\r\n"           # 11 grant
        f"{CURP_D},Rafael Martínez,rafa@example.test,{RFC_1}\r\n"           # 12 has it
        f"{CURP_C},Ana,ana@example.test\r\n"                                # 13 3 fields
    )
    path = tmp_path / "capturistas.csv"
    path.write_bytes(csv.encode("utf-8"))
    r = icsoectl("capturist", "import", path, conf=conf)
    assert r.rc == 1, r
    bad = {}
    for ln in r.err.splitlines():
        m = re.match(rf"^icsoectl: {re.escape(str(path))}:(\d+): (.*)$", ln)
        assert m, ln
        bad[int(m.group(1))] = m.group(2)
    assert sorted(bad) == [4, 5, 7, 8, 9, 13], r.err
    assert "CURP" in bad[4] and "check-digit" in bad[4]
    assert "email" in bad[5]
    assert "unknown contractor" in bad[7] and RFC_3 in bad[7]
    assert "RFC" in bad[8]
    assert "line 2" in bad[9] and "name" in bad[9]
    assert "4 fields" in bad[13]
    assert r.out.strip().endswith(
        "11 rows, 6 bad, 2 created, 1 granted, 2 mails"), r.out
    # what was written
    a = capturist_entry(slapd, CURP_A)
    assert a["icsoeStatus"] == ["pending"] and a["cn"] == ["Carla Gómez"]
    assert sorted(a["icsoeContractorRFC"]) == sorted([RFC_1, RFC_2])
    assert capturist_entry(slapd, CURP_C)["cn"] == ["López, Ana"]
    assert capturist_entry(slapd, CURP_B) is None
    assert sorted(capturist_entry(slapd, CURP_D)["icsoeContractorRFC"]) == \
        sorted([RFC_1, RFC_2])
    msgs = smtp.wait_for(2)
    time.sleep(0.3)
    assert smtp.count() == 2
    rcpts = sorted(m["To"].addresses[0].addr_spec for m in msgs)
    assert rcpts == ["ana@example.test", "carla@example.test"]
    for m in msgs:
        token = token_of(SmtpSink.links(m)[0])
        owner = CURP_A if "carla" in str(m["To"]) else CURP_C
        assert capturist_entry(slapd, owner)["icsoeTokenHash"] == [sha256_hex(token)]

    # second run: nothing changes, nothing is sent
    before = {c: capturist_entry(slapd, c) for c in (CURP_A, CURP_C, CURP_D)}
    r = icsoectl("--json", "capturist", "import", path, conf=conf)
    assert r.rc == 1, r
    s = r.json()
    assert (s["rows"], s["bad"], s["created"], s["granted"], s["mails"]) == \
        (11, 6, 0, 0, 0)
    assert sorted(m["line"] for m in s["messages"]) == [4, 5, 7, 8, 9, 13]
    assert {c: capturist_entry(slapd, c) for c in before} == before
    r = icsoectl("capturist", "import", path, conf=conf)
    assert "0 created, 0 granted, 0 mails" in r.out
    time.sleep(0.3)
    assert smtp.count() == 2


def test_import_clean_file_exit_0_and_header_checks(tmp_path, conf, slapd, smtp):
    add_contractor(conf, RFC_1)
    good = tmp_path / "ok.csv"
    good.write_text("curp,nombre,correo,rfc\n"
                    f"{CURP_A},Carla Gómez,carla@example.test,{RFC_1}\n", encoding="utf-8")
    r = icsoectl("capturist", "import", good, "--no-mail", conf=conf)
    assert r.rc == 0, r
    assert re.search(rf"^{CURP_A}\t{re.escape(ACTIVATION_URL)}\?t=[A-Za-z0-9_-]{{43}}$",
                     r.out, re.M), r.out
    assert "1 rows, 0 bad, 1 created, 0 granted, 0 mails" in r.out
    assert smtp.count() == 0
    for name, text in (("hdr.csv", "curp,name,email,rfc\n"),
                       ("empty.csv", ""),
                       ("order.csv", "nombre,curp,correo,rfc\n")):
        p = tmp_path / name
        p.write_text(text + f"{CURP_B},Juana,juana@example.test,{RFC_1}\n"
                     if text else "", encoding="utf-8")
        r = icsoectl("capturist", "import", p, conf=conf)
        assert r.rc == 1 and "curp,nombre,correo,rfc" in r.err, (name, r)
    assert capturist_entry(slapd, CURP_B) is None
    r = icsoectl("capturist", "import", tmp_path / "absent.csv", conf=conf)
    assert r.rc == 1, r


def test_import_smtp_down(tmp_path, slapd, smtp):
    conf = write_conf(tmp_path, slapd, smtp.url)
    add_contractor(conf, RFC_1)
    smtp.stop()
    p = tmp_path / "a.csv"
    p.write_text("curp,nombre,correo,rfc\n"
                 f"{CURP_A},Carla,carla@example.test,{RFC_1}\n"
                 f"{CURP_B},Juana,juana@example.test,{RFC_1}\n", encoding="utf-8")
    r = icsoectl("capturist", "import", p, conf=conf)
    assert r.rc == 3, r
    assert r.err.count("capturist resend") == 2
    assert "2 created" in r.out and "2 mail failures" in r.out
    for c in (CURP_A, CURP_B):
        assert capturist_entry(slapd, c)["icsoeStatus"] == ["pending"]
