"""icsoectl check [--json] (issue 13): one line per check against the real
slapd (quality module loaded) and SMTP sink; exit 0 only when nothing
failed.  Each wiring mistake it exists for is made here and must FAIL."""
import json
import os
import subprocess

import pytest

from harness import dirdrv, util
from harness.conf import IcsoeConf

CURP = "GOMC800101HDFRRL09"
RFC = "AAA010101AAA"


def icsoectl(conf, *args):
    env = dict(os.environ, ICSOE_CONFIG=str(conf))
    env.pop("TZ", None)
    return subprocess.run([util.built("tools/icsoectl"), *args], capture_output=True,
                          text=True, env=env, timeout=120)


def lines(r):
    return [l for l in r.stdout.splitlines() if l.strip()]


def status_of(r, check):
    found = [l.split(None, 1)[0] for l in lines(r)
             if l.split(None, 1)[1].startswith(check + ":")]
    assert found, (check, r.stdout, r.stderr)
    return found


@pytest.fixture
def conf(tmp_path, slapd, smtp):
    c = IcsoeConf(tmp_path / "etc", slapd, smtp, timeout="2")
    assert dirdrv.run(c, "contractor-add", RFC, "Contratista Uno").status == "ok"
    r = dirdrv.run(c, "capturist-add", CURP, "Carlos Gómez Ruiz", "carlos@icsoe.test", RFC)
    assert r.status == "ok", r.stdout
    return c


def test_a_good_site_passes_every_check(conf, slapd):
    r = icsoectl(conf, "check")
    assert r.returncode == 0, r.stdout + r.stderr
    text = r.stdout
    for check in ("config", "config file", "secret bindpw_file", "secret writer_bindpw_file",
                  "bind reader", "bind writer", "base", "decoy", "schema", "ppolicy",
                  "quality module", "smtp"):
        assert status_of(r, check) == ["ok"], (check, text)
    assert "Debe tener al menos 15 caracteres." in text
    assert not any(l.startswith("FAIL") for l in lines(r))
    # nothing changed: the capturist's entry has no password, slapd saw no MOD result 0
    assert "userPassword" not in slapd.get(slapd.capturist_dn(CURP), ["userPassword"])
    j = icsoectl(conf, "check", "--json")
    assert j.returncode == 0
    data = json.loads(j.stdout)
    assert {d["status"] for d in data} <= {"ok", "warn"}
    assert {"config", "bind reader", "quality module", "smtp"} <= {d["check"] for d in data}
    # no secret in the output
    assert slapd.bindpw not in text + j.stdout and slapd.reader_pw not in text + j.stdout


def test_wrong_base_fails(conf):
    conf.write(base="dc=otra,dc=test")
    r = icsoectl(conf, "check")
    assert r.returncode == 1
    assert status_of(r, "base") == ["FAIL"] and "dc=otra,dc=test" in r.stdout
    assert status_of(r, "decoy") == ["FAIL"]


def test_malformed_base_fails_at_the_config_line(conf):
    conf.write(base="dc=otra,,dc=test")
    r = icsoectl(conf, "check")
    assert r.returncode == 1
    assert status_of(r, "config") == ["FAIL"] and "is not a valid LDAP DN" in r.stdout


def test_wrong_service_passwords_fail(conf, tmp_path):
    bad = tmp_path / "bad-pw"
    bad.write_text("not the password\n")
    os.chmod(bad, 0o600)
    conf.write(writer_bindpw_file=str(bad))
    r = icsoectl(conf, "check")
    assert r.returncode == 1
    assert status_of(r, "bind reader") == ["ok"]
    assert status_of(r, "bind writer") == ["FAIL"] and "Invalid credentials" in r.stdout


def test_quality_module_that_cannot_read_its_policy_fails(conf, slapd):
    os.unlink(slapd.policy_path)
    r = icsoectl(conf, "check")
    assert r.returncode == 1
    assert status_of(r, "quality module") == ["FAIL"]
    assert "configuración del servidor" in r.stdout


def test_smtp_down_or_without_starttls_fails(conf, smtp):
    conf.write(smtp_url=f"smtp://127.0.0.1:{util.free_port()}")
    r = icsoectl(conf, "check")
    assert r.returncode == 1 and status_of(r, "smtp") == ["FAIL"]
    conf.write(smtp_url=smtp.url, smtp_starttls="required")
    r = icsoectl(conf, "check")
    assert r.returncode == 1 and status_of(r, "smtp") == ["FAIL"], r.stdout
    assert smtp.count() == 0          # nothing was ever sent


def test_clear_ldap_to_another_host_warns(conf, slapd):
    conf.write(uri=[slapd.uri, "ldap://192.0.2.1:389"], timeout="1")
    r = icsoectl(conf, "check")
    warn = [l for l in lines(r) if l.startswith("warn") and "transport" in l]
    assert warn and "192.0.2.1" in warn[0] and "StartTLS" in warn[0], r.stdout


def test_key_file_modes_and_broken_mail_template(conf, tmp_path):
    key = tmp_path / "session.key"
    key.write_text("00" * 32 + "\n")
    os.chmod(key, 0o640)
    tdir = tmp_path / "mailtpl"
    tdir.mkdir()
    (tdir / "reset.txt").write_text("Subject: x\n\nHola {{nombre}}\n")
    conf.write(mail_template_dir=str(tdir))
    r = icsoectl(conf, "check", "--key", str(key))
    assert r.returncode == 1
    assert status_of(r, "session key") == ["FAIL"] and "chmod 600" in r.stdout
    assert status_of(r, "mail template reset.txt") == ["FAIL"] and "nombre" in r.stdout
    os.chmod(key, 0o600)
    (tdir / "reset.txt").write_text("Subject: x\n\nHola {{name}}: {{link}}\n")
    r = icsoectl(conf, "check", "--key", str(key))
    assert r.returncode == 0, r.stdout
    assert status_of(r, "session key") == ["ok"]


def test_missing_writer_is_a_warning(conf):
    """A PAM-only host has no writer: a warning (exit 0), so that a web
    server configured like one is noticed before activations fail."""
    conf.write(writer_binddn=None, writer_bindpw_file=None)
    r = icsoectl(conf, "check")
    assert r.returncode == 0, r.stdout
    assert status_of(r, "accounts") == ["warn"] and "no writer_binddn" in r.stdout
