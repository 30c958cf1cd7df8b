"""slapd's password-quality module (slapd_icsoe/icsoe_pwcheck.so, issue 13
item 7): every LDAP client, `ldappasswd` included, meets libicsoe's policy
and gets its Spanish reasons.  The harness slapd loads the shipped
ppolicy-default.ldif (pwdCheckQuality 2, pwdCheckModule icsoe_pwcheck.so,
pwdCheckModuleArg = the slapd's policy file)."""
import re
import subprocess

import ldap
import pytest

from harness import dirdrv, util
from harness.dirdrv import ok
from harness.conf import IcsoeConf

CURP = "GOMC800101HDFRRL09"
RFC = "AAA010101AAA"
PW = "correct horse battery staple 1"
GOOD = "una frase larga y nada comun 7"


@pytest.fixture
def conf(tmp_path, slapd):
    c = IcsoeConf(tmp_path / "etc", slapd)
    ok(dirdrv.run(c, "contractor-add", RFC, "Contratista Uno"))
    ok(dirdrv.run(c, "capturist-add", CURP, "Carlos Gómez Ruiz", "carlos@icsoe.test", RFC))
    tok = ok(dirdrv.run(c, "token-store", CURP, "activation", "3600"))["token"]
    ok(dirdrv.run(c, "token-consume", tok, "activation", input=PW + "\n"))
    return c


def ldappasswd(slapd, new, who=None, pw=PW):
    dn = slapd.capturist_dn(CURP)
    who = who or dn
    return subprocess.run(["/usr/bin/ldappasswd", "-x", "-H", slapd.uri, "-D", who,
                           "-w", pw, "-s", new, dn],
                          capture_output=True, text=True, errors="replace")


def refused(r, reason):
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert "Constraint violation (19)" in r.stdout, r.stdout + r.stderr
    assert f"Additional info: {reason}" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("new, reason", [
    ("x", "Debe tener al menos 15 caracteres."),
    ("corta pero 14c", "Debe tener al menos 15 caracteres."),
    ("mi GOMC800101 favorito", "No debe contener tu CURP."),
    ("gomc800101hdfrrl09 en minúsculas", "No debe contener tu CURP."),
    ("soy carlos y esta es mi clave", "No debe contener tu nombre ni tus apellidos."),
    ("a" * 129, "Debe tener como máximo 128 caracteres."),
])
def test_ldappasswd_refuses_what_the_pages_refuse(conf, slapd, new, reason):
    refused(ldappasswd(slapd, new), reason)
    assert slapd.can_bind(slapd.capturist_dn(CURP), PW)
    assert not slapd.can_bind(slapd.capturist_dn(CURP), new)


def test_ldappasswd_blocklist_from_the_policy_file(conf, slapd, tmp_path):
    bl = tmp_path / "blocklist"
    bl.write_text("contraseña filtrada de 2024\n")
    refused_pw = "Contraseña Filtrada De 2024"
    # the same file the front ends use, named in the policy file slapd reads
    slapd.write_policy(f"password_min_length 15\npassword_blocklist {bl}\n")
    refused(ldappasswd(slapd, refused_pw),
            "No debe ser una contraseña común o conocida por filtraciones.")


def test_ldappasswd_accepts_a_good_password_and_hashes_it(conf, slapd):
    r = ldappasswd(slapd, GOOD)
    assert r.returncode == 0, r.stdout + r.stderr
    assert slapd.can_bind(slapd.capturist_dn(CURP), GOOD)
    stored = slapd.get(slapd.capturist_dn(CURP), ["userPassword"])["userPassword"][0]
    assert stored.startswith("{ARGON2}")
    # the web/PAM path still works with the new password
    ok(dirdrv.run(conf, "verify", CURP, input=GOOD + "\n"))


def test_writer_is_held_to_the_policy_too(conf, slapd):
    refused(ldappasswd(slapd, "x", who=slapd.binddn, pw=slapd.bindpw),
            "Debe tener al menos 15 caracteres.")
    c = slapd._connect()
    c.simple_bind_s(slapd.binddn, slapd.bindpw)
    with pytest.raises(ldap.CONSTRAINT_VIOLATION) as exc:
        c.modify_s(slapd.capturist_dn(CURP), [(ldap.MOD_REPLACE, "userPassword", [b"corta"])])
    assert "al menos 15" in exc.value.args[0].get("info", "")


def test_prehashed_password_cannot_skip_the_check(conf, slapd):
    from harness.slapd import ssha
    c = slapd._connect()
    c.simple_bind_s(slapd.capturist_dn(CURP), PW)
    with pytest.raises(ldap.CONSTRAINT_VIOLATION):
        c.modify_s(slapd.capturist_dn(CURP),
                   [(ldap.MOD_REPLACE, "userPassword", [ssha("x").encode()])])
    assert slapd.can_bind(slapd.capturist_dn(CURP), PW)


def test_policy_file_follows_the_site_keys(conf, slapd):
    """One policy: the module reads the password_* keys, so a site that
    asks for 20 characters gets 20 from slapd too."""
    slapd.write_policy("password_min_length 20\n")
    refused(ldappasswd(slapd, "diecinueve letras 1"), "Debe tener al menos 20 caracteres.")
    slapd.write_policy("password_min_length 15\npassword_classes digit\n")
    refused(ldappasswd(slapd, "sin ningun numero aqui"), "Debe incluir al menos un número.")
    assert ldappasswd(slapd, "con un numero aqui 5").returncode == 0


def test_broken_or_missing_policy_file_fails_closed(conf, slapd):
    slapd.write_policy("password_min_length veinte\n")
    refused(ldappasswd(slapd, GOOD), "No se pudo verificar la contraseña: configuración del servidor.")
    import os
    os.unlink(slapd.policy_path)
    refused(ldappasswd(slapd, GOOD), "No se pudo verificar la contraseña: configuración del servidor.")
    assert slapd.can_bind(slapd.capturist_dn(CURP), PW)
    assert "icsoe_pwcheck:" in slapd.child.read_log()
    assert GOOD not in slapd.child.read_log()


# ---- the module alone, as slapd calls it: threads and valgrind ----

VALGRIND = ["valgrind", "--error-exitcode=97", "--leak-check=full",
            "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", "--num-callers=30"]


def pwcheckdrv(policy, *args, valgrind=False):
    argv = [util.built("tests/integration/pwcheckdrv"),
            util.built("slapd_icsoe/icsoe_pwcheck.so"), str(policy), *map(str, args)]
    return subprocess.run((VALGRIND if valgrind else []) + argv, capture_output=True,
                          text=True, timeout=600)


CASES = ["x", "mi GOMC800101 favorito", "soy carlos y esta es mi clave", GOOD]


def test_module_is_reentrant_across_threads(tmp_path):
    policy = tmp_path / "policy.conf"
    policy.write_text("password_min_length 15\n")
    r = pwcheckdrv(policy, 8, 20, CURP, "Carlos Gómez Ruiz", *CASES)
    assert r.returncode == 0, r.stdout + r.stderr
    out = [l.split("\t") for l in r.stdout.splitlines()]
    assert [o[0] for o in out] == ["19", "19", "19", "0"]
    assert out[0][1] == "Debe tener al menos 15 caracteres."
    assert out[1][1] == "No debe contener tu CURP."


@pytest.mark.skipif(util.SANITIZED, reason="valgrind cannot run ASan-built objects")
def test_module_is_valgrind_clean(tmp_path):
    policy = tmp_path / "policy.conf"
    bl = tmp_path / "blocklist"
    bl.write_text("contraseña filtrada de 2024\n")
    policy.write_text(f"password_min_length 15\npassword_blocklist {bl}\n")
    r = pwcheckdrv(policy, 2, 2, CURP, "Carlos Gómez Ruiz", *CASES,
                   "contraseña filtrada de 2024", valgrind=True)
    assert r.returncode == 0, r.stderr[-4000:]
    assert "ERROR SUMMARY: 0 errors" in r.stderr, r.stderr[-4000:]
    assert re.search(r"definitely lost: 0 bytes", r.stderr) or \
        "All heap blocks were freed" in r.stderr, r.stderr[-4000:]
    # a broken policy file: refused, still clean
    policy.write_text("password_min_length veinte\n")
    r = pwcheckdrv(policy, 1, 1, CURP, "Carlos", GOOD, valgrind=True)
    assert r.returncode == 0 and r.stdout.startswith("19\t"), r.stdout + r.stderr[-3000:]
    assert "ERROR SUMMARY: 0 errors" in r.stderr, r.stderr[-4000:]
