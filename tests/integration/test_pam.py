"""pam_icsoe through real Linux-PAM (pam_wrapper + a private service dir)
against a private slapd with the project's schema and ppolicy."""
import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import dirdrv, util
from harness.pam import (PamEnv, add_capturist, add_contractor, curp,
                         wrong_check_digit)

ACTIVE = curp("GOPJ800101HDFRRN0")
PENDING = curp("MAPL850202MJCRRR0")
LOCKED = curp("HEGA900303HNLRRN0")
OTHER = curp("LOSM750404MDFPNR0")
UNKNOWN = curp("RAHE990505HCSMRN0")
EXPIRING = curp("VEGC700606MOCLRR0")
PW = "caballo correcto bateria 7"
NEW_PW = "otra frase bastante larga 42"
RFC1 = "ABC010203AB1"
RFC2 = "XYZ9801019Z3"

PROMPT = "Contraseña: "


@pytest.fixture
def pam(tmp_path, slapd, icsoe_conf):
    add_contractor(slapd, RFC1)
    add_contractor(slapd, RFC2, name="Otra Contratista SC")
    add_capturist(slapd, ACTIVE, PW, contractors=[RFC1])
    add_capturist(slapd, PENDING, None, status="pending", contractors=[RFC1])
    add_capturist(slapd, LOCKED, PW, status="locked", contractors=[RFC1])
    add_capturist(slapd, OTHER, PW, contractors=[RFC2], cn="Sofía López Mena",
                  sn="López Mena")
    env = PamEnv(tmp_path / "pam", icsoe_conf.path)
    env.slapd = slapd
    env.icsoe_conf = icsoe_conf
    return env


def decoy_binds(slapd):
    return slapd_log(slapd).count(f'BIND dn="{slapd.decoy_dn}"')


def slapd_log(slapd):
    with open(slapd.logpath, encoding="utf-8", errors="replace") as f:
        return f.read()


# ---------------------------------------------------------------- the ABI

def test_exports_only_the_pam_sm_functions():
    so = util.built("pam_icsoe/pam_icsoe.so")
    out = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True,
                         text=True, check=True).stdout
    names = {line.split()[-1] for line in out.splitlines() if line.strip()}
    assert names == {"pam_sm_authenticate", "pam_sm_setcred", "pam_sm_acct_mgmt",
                     "pam_sm_open_session", "pam_sm_close_session",
                     "pam_sm_chauthtok"}


# ------------------------------------------------------------------- auth

def test_success_whole_transaction(pam):
    r = pam.pamdrv(ACTIVE, "auth", "acct", "setcred", "open", "env", "close",
                   answers=[PW])
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.codes == ["PAM_SUCCESS"] * 6
    assert r.prompts == [PROMPT]
    assert r.errors == []
    assert r.env["ICSOE_CURP"] == ACTIVE


def test_success_with_pamtester(pam):
    p = pam.pamtester(ACTIVE, "authenticate", "acct_mgmt", stdin=PW + "\n")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "successfully authenticated" in p.stderr + p.stdout
    p = pam.pamtester(ACTIVE, "authenticate", stdin="not it at all\n")
    assert p.returncode != 0
    assert "Authentication failure" in p.stderr + p.stdout


def test_lowercase_curp_logs_in_and_pam_user_becomes_canonical(pam):
    """Lower case is the same account; on success PAM_USER is rewritten to
    the canonical CURP, so the application (and mod_authnz_pam's
    REMOTE_USER) sees one name per account."""
    r = pam.pamdrv(ACTIVE.lower(), "auth", "acct", "open", "env", answers=[PW])
    assert r.codes == ["PAM_SUCCESS"] * 4, r.stdout + r.stderr
    assert r.env["ICSOE_CURP"] == ACTIVE
    assert r.env["PAM_USER"] == ACTIVE
    # the account step alone (ssh keys: no auth) canonicalises too
    r = pam.pamdrv(ACTIVE.lower(), "acct", "env", keep_going=True)
    assert r.code("acct") == "PAM_SUCCESS"
    assert r.env["PAM_USER"] == ACTIVE
    # a failure leaves the name as it was
    r = pam.pamdrv(ACTIVE.lower(), "auth", "env", answers=["no es"], keep_going=True)
    assert r.code("auth") == "PAM_AUTH_ERR"
    assert r.env["PAM_USER"] == ACTIVE.lower()


@pytest.mark.parametrize("user", [f"{ACTIVE}\n", f"\t{ACTIVE}", f"{ACTIVE}\r",
                                  f"{ACTIVE[:9]}\x1b{ACTIVE[9:]}", f"{ACTIVE}\x7f",
                                  f"  {ACTIVE.lower()} ", f" {ACTIVE}", f"{ACTIVE} "])
def test_user_name_aliases_with_control_characters_or_spaces_are_refused(pam, user):
    """"CURP\n", "\tCURP", "  curp ": once accepted, and PAM_USER kept the
    newline.  Now none of them is a user of ours, at any step, and the
    directory is not asked."""
    r = pam.pamdrv(user, "auth", "acct", "chauthtok", "open", "env",
                   answers=[PW, PW, NEW_PW, NEW_PW], keep_going=True)
    assert r.code("auth") == "PAM_USER_UNKNOWN", r.stdout + r.stderr
    assert r.code("acct") == "PAM_USER_UNKNOWN"
    assert r.code("chauthtok") == "PAM_USER_UNKNOWN"
    # the module ignores it; libpam answers so for a stack that only ignored
    assert r.code("open") == "PAM_PERM_DENIED"
    assert r.prompts == []
    assert "ICSOE_CURP" not in r.env or r.env["ICSOE_CURP"] == "(unset)"
    assert pam.slapd.can_bind(pam.slapd.capturist_dn(ACTIVE), PW)


@pytest.mark.parametrize("user", [ACTIVE, UNKNOWN])
def test_one_connection_per_call(pam, user):
    """One PAM call, one LDAP connection (issue 16): the service bind and
    the search, then the user's (or the decoy's) bind on the same
    connection, and nothing after that bind on it."""
    before = len(slapd_log(pam.slapd))
    r = pam.pamdrv(user, "auth", answers=[PW])
    assert r.code("auth") == ("PAM_SUCCESS" if user == ACTIVE else "PAM_AUTH_ERR")
    util.wait_until(lambda: " closed" in slapd_log(pam.slapd)[before:], timeout=5,
                    what="the PAM call's connection closed")
    log = slapd_log(pam.slapd)[before:]
    conns = set(re.findall(r"conn=(\d+) fd=\d+ ACCEPT", log))
    assert len(conns) == 1, log
    conn = conns.pop()
    ops = re.findall(rf"conn={conn} op=\d+ (BIND dn=\"[^\"]*\" method|SRCH base)", log)
    dn = pam.slapd.capturist_dn(ACTIVE) if user == ACTIVE else pam.slapd.decoy_dn
    assert ops == [f'BIND dn="{pam.slapd.reader_dn}" method', "SRCH base",
                   f'BIND dn="{dn}" method'], ops


def test_wrong_password(pam):
    r = pam.pamdrv(ACTIVE, "auth", answers=["contraseña equivocada"])
    assert r.code("auth") == "PAM_AUTH_ERR"
    assert r.prompts == [PROMPT]
    assert r.errors == [] and r.infos == []
    assert r.returncode == 1


@pytest.mark.parametrize("user", [UNKNOWN, PENDING])
def test_failures_look_alike(pam, user):
    """Unknown CURP, pending account, wrong password: same code, same
    prompt, no message, and the directory does the decoy bind."""
    before = decoy_binds(pam.slapd)
    r = pam.pamdrv(user, "auth", answers=[PW])
    assert r.code("auth") == "PAM_AUTH_ERR", r.stdout + r.stderr
    assert r.prompts == [PROMPT]
    assert r.errors == [] and r.infos == []
    util.wait_until(lambda: decoy_binds(pam.slapd) > before, timeout=5,
                    what="a decoy bind in the slapd log")
    # nothing was written to the account
    e = pam.slapd.get(pam.slapd.capturist_dn(PENDING), ["icsoeStatus", "userPassword"])
    assert e["icsoeStatus"] == ["pending"] and "userPassword" not in e


NOT_CURPS = ["root", "admin", "NOTACURP", "juan.perez", wrong_check_digit(ACTIVE),
             ACTIVE + "X", ACTIVE[:-1]]


def slapd_connections(slapd):
    return len(re.findall(r"conn=\d+ fd=\d+ ACCEPT from", slapd_log(slapd)))


@pytest.mark.parametrize("user", NOT_CURPS)
def test_local_passwords_never_reach_the_directory(pam, user):
    """A name that is not a well-formed CURP (root, a local user, a CURP
    with a wrong check digit) gets PAM_USER_UNKNOWN at once: no password
    prompt, no connection to slapd (its stats log shows none), so a
    mistyped root password stacked with use_first_pass is never sent."""
    pam.service("stacked", auth="use_first_pass")
    before = slapd_connections(pam.slapd)
    r = pam.pamdrv(user, "auth", "acct", "chauthtok", service="icsoe",
                   answers=[PW, PW, NEW_PW, NEW_PW], keep_going=True)
    assert r.codes == ["PAM_USER_UNKNOWN"] * 3, r.stdout + r.stderr
    assert r.prompts == [] and r.errors == []
    r = pam.pamdrv(user, "auth", service="stacked", authtok="the root password")
    assert r.code("auth") == "PAM_USER_UNKNOWN"
    # a connection we make ourselves is logged; then none of PAM's can be
    # still on its way
    assert pam.slapd.can_bind(pam.slapd.capturist_dn(ACTIVE), PW)
    util.wait_until(lambda: slapd_connections(pam.slapd) > before, timeout=5,
                    what="our own connection in the slapd log")
    assert slapd_connections(pam.slapd) == before + 1, slapd_log(pam.slapd)[-2000:]
    assert "the root password" not in slapd_log(pam.slapd)


def test_non_curp_answers_without_config_and_with_slapd_stopped(pam, tmp_path):
    """The answer for a non-CURP comes before the configuration is read
    (a missing file is no PAM_SERVICE_ERR here) and costs no timeout when
    slapd is down; a well-formed CURP still needs both."""
    pam.service("nocfg", lines=[f"auth required {{module}} config={tmp_path}/nope.conf"])
    assert pam.pamdrv("root", "auth", service="nocfg",
                      answers=[PW]).code("auth") == "PAM_USER_UNKNOWN"
    assert pam.pamdrv(ACTIVE, "auth", service="nocfg",
                      answers=[PW]).code("auth") == "PAM_SERVICE_ERR"
    pam.icsoe_conf.write(timeout=2)
    pam.slapd.stop()
    r = pam.pamdrv("root", "auth", answers=[PW])
    assert r.code("auth") == "PAM_USER_UNKNOWN"
    assert r.errors == []
    assert pam.pamdrv(UNKNOWN, "auth", answers=[PW]).code("auth") == "PAM_AUTHINFO_UNAVAIL"


def test_local_account_with_a_curp_shaped_name_below_minimum_uid(pam):
    """A local account below minimum_uid= (default 1000) is never a
    capturist, even with a CURP-shaped name in either case; a local
    account above it (a capturist given a passwd entry) still is."""
    pam.local_accounts([(ACTIVE.lower(), 0), (OTHER, 5000)])
    r = pam.pamdrv(ACTIVE.lower(), "auth", "acct", answers=[PW], keep_going=True)
    assert r.codes == ["PAM_USER_UNKNOWN"] * 2, r.stdout + r.stderr
    assert r.prompts == []
    # user names are case-sensitive for the system: the upper-case name is
    # not that local account, and it is the capturist
    assert pam.pamdrv(ACTIVE, "auth", answers=[PW]).code("auth") == "PAM_SUCCESS"
    assert pam.pamdrv(OTHER, "auth", "acct", answers=[PW]).codes == ["PAM_SUCCESS"] * 2
    pam.service("nomin", args="minimum_uid=0")
    assert pam.pamdrv(ACTIVE.lower(), "auth", service="nomin",
                      answers=[PW]).code("auth") == "PAM_SUCCESS"
    pam.service("high", args="minimum_uid=6000")
    assert pam.pamdrv(OTHER, "auth", service="high",
                      answers=[PW]).code("auth") == "PAM_USER_UNKNOWN"
    pam.service("bad", args="minimum_uid=mil")
    assert pam.pamdrv(OTHER, "auth", service="bad",
                      answers=[PW]).code("auth") == "PAM_USER_UNKNOWN"


def test_empty_password_is_not_an_anonymous_bind(pam):
    r = pam.pamdrv(ACTIVE, "auth", answers=[""])
    assert r.code("auth") == "PAM_AUTH_ERR"


def ldap_work(log):
    """SRCH and BIND operations in a slice of slapd's stats log, without the
    service accounts' own binds (connection set-up, the same for every
    call)."""
    ops = []
    for m in re.finditer(r'conn=\d+ op=\d+ (SRCH base|BIND dn)="([^"]*)"', log):
        kind, target = m.group(1).split()[0], m.group(2)
        if kind == "BIND" and target.startswith(("cn=icsoe-reader,", "cn=icsoe-writer,",
                                                  "cn=icsoe-service,")):
            continue
        ops.append((kind, target))
    return ops


def test_failures_do_the_same_ldap_work(pam):
    """Deterministic "same cost" (a timing assertion would flake on a busy
    machine; bench/timing_enumeration gives the statistical view): an
    unknown CURP, a pending account and a wrong password each cost slapd one
    search and one simple bind to an {ARGON2} entry -- the capturist's, or
    the decoy's -- and the decoy's hash has the account's Argon2 parameters."""
    pam.slapd.set_policy(pwdMaxFailure=0, pwdLockout=False)
    cases = {"wrong": (ACTIVE, "contraseña equivocada 1"),
             "unknown": (UNKNOWN, PW), "pending": (PENDING, PW)}
    work = {}
    for label, (user, pw) in cases.items():
        before = len(slapd_log(pam.slapd))
        r = pam.pamdrv(user, "auth", answers=[pw])
        assert r.code("auth") == "PAM_AUTH_ERR"
        util.wait_until(lambda: any(k == "BIND" for k, _ in
                                    ldap_work(slapd_log(pam.slapd)[before:])),
                        timeout=5, what="the bind in the slapd log")
        time.sleep(0.3)
        work[label] = ldap_work(slapd_log(pam.slapd)[before:])
    kinds = {label: [k for k, _ in ops] for label, ops in work.items()}
    assert kinds["wrong"] == ["SRCH", "BIND"], work
    assert kinds["unknown"] == kinds["wrong"] and kinds["pending"] == kinds["wrong"], work
    decoy = pam.slapd.decoy_dn
    assert work["unknown"][1][1] == decoy and work["pending"][1][1] == decoy, work
    assert work["wrong"][1][1] == pam.slapd.capturist_dn(ACTIVE), work

    def argon2_params(dn):
        pw = pam.slapd.get(dn, ["userPassword"])["userPassword"][0]
        assert pw.startswith("{ARGON2}$argon2"), pw[:20]
        return pw.split("$")[1:4]            # variant, version, m/t/p
    assert argon2_params(decoy) == argon2_params(pam.slapd.capturist_dn(ACTIVE))


def test_admin_locked_account(pam):
    r = pam.pamdrv(LOCKED, "auth", answers=[PW])
    assert r.code("auth") == "PAM_PERM_DENIED"
    assert any("bloqueada" in e for e in r.errors)
    r = pam.pamdrv(LOCKED, "acct")
    assert r.code("acct") == "PAM_PERM_DENIED"


def test_ppolicy_lockout_after_five_failures(pam):
    for i in range(5):
        r = pam.pamdrv(ACTIVE, "auth", answers=[f"mala contraseña {i}"])
        assert r.code("auth") == "PAM_AUTH_ERR"
    e = pam.slapd.get(pam.slapd.capturist_dn(ACTIVE), ["pwdAccountLockedTime"])
    assert "pwdAccountLockedTime" in e
    r = pam.pamdrv(ACTIVE, "auth", answers=[PW])
    assert r.code("auth") == "PAM_MAXTRIES"
    assert any("bloqueada" in e for e in r.errors)
    r = pam.pamdrv(ACTIVE, "acct")
    assert r.code("acct") == "PAM_PERM_DENIED"
    # the web login (same library call as mod_icsoe) sees the same lock
    web = dirdrv.run(pam.icsoe_conf, "verify", ACTIVE, input=PW + "\n")
    assert web.status == "locked", web.stdout + web.stderr


def test_lockout_counts_web_and_pam_failures_together(pam):
    for i in range(3):
        assert dirdrv.run(pam.icsoe_conf, "verify", ACTIVE,
                          input=f"mala {i}\n").status != "ok"
    for i in range(2):
        r = pam.pamdrv(ACTIVE, "auth", answers=[f"mala contraseña {i}"])
        assert r.code("auth") == "PAM_AUTH_ERR"
    assert pam.pamdrv(ACTIVE, "auth", answers=[PW]).code("auth") == "PAM_MAXTRIES"


# ---------------------------------------------------------------- options

def test_use_first_pass_stacked_prompts_once(pam):
    pam.service("stack", lines=[
        "auth requisite {module} config={config}",
        "auth required {module} config={config} use_first_pass",
        "account required {module} config={config}",
    ])
    r = pam.pamdrv(ACTIVE, "auth", "acct", service="stack", answers=[PW])
    assert r.codes == ["PAM_SUCCESS", "PAM_SUCCESS"], r.stdout + r.stderr
    assert r.prompts == [PROMPT]


def test_use_first_pass_takes_the_token_and_never_prompts(pam):
    pam.service("first", auth="use_first_pass")
    r = pam.pamdrv(ACTIVE, "auth", service="first", authtok=PW)
    assert r.code("auth") == "PAM_SUCCESS" and r.prompts == []
    r = pam.pamdrv(ACTIVE, "auth", service="first", authtok="no es esta")
    assert r.code("auth") == "PAM_AUTH_ERR" and r.prompts == []
    r = pam.pamdrv(ACTIVE, "auth", service="first", answers=[PW])
    assert r.code("auth") == "PAM_AUTHTOK_RECOVERY_ERR" and r.prompts == []


def test_try_first_pass(pam):
    pam.service("try", auth="try_first_pass")
    r = pam.pamdrv(ACTIVE, "auth", service="try", authtok=PW)
    assert r.code("auth") == "PAM_SUCCESS" and r.prompts == []
    r = pam.pamdrv(ACTIVE, "auth", service="try", answers=[PW])
    assert r.code("auth") == "PAM_SUCCESS" and r.prompts == [PROMPT]


def test_unknown_option_is_logged_and_ignored(pam):
    pam.service("odd", args="frobnicate")
    r = pam.pamdrv(ACTIVE, "auth", service="odd", answers=[PW])
    assert r.code("auth") == "PAM_SUCCESS"
    assert "unknown option 'frobnicate' ignored" in r.stderr


def test_debug_logs_results_but_never_the_password(pam):
    pam.service("dbg", args="debug")
    r = pam.pamdrv(ACTIVE, "auth", "acct", service="dbg", answers=[PW],
                   debuglevel=2)
    assert r.codes == ["PAM_SUCCESS", "PAM_SUCCESS"]
    assert f"auth: {ACTIVE} -> Success" in r.stderr
    r2 = pam.pamdrv(ACTIVE, "auth", service="dbg", answers=["equivocada " + PW],
                    debuglevel=2)
    assert r2.code("auth") == "PAM_AUTH_ERR"
    for out in (r.stderr, r2.stderr, slapd_log(pam.slapd)):
        assert PW not in out
    # without debug, no debug lines
    r3 = pam.pamdrv(ACTIVE, "auth", answers=[PW], debuglevel=2)
    assert f"auth: {ACTIVE} -> Success" not in r3.stderr


def test_bad_config_is_a_service_error(pam, tmp_path):
    pam.service("nocfg", lines=[f"auth required {{module}} config={tmp_path}/nope.conf"])
    r = pam.pamdrv(ACTIVE, "auth", service="nocfg", answers=[PW])
    assert r.code("auth") == "PAM_SERVICE_ERR"
    assert "nope.conf" in r.stderr
    assert r.prompts == []


# -------------------------------------------------------------- contratista=

@pytest.mark.parametrize("arg,admitted", [
    (f"contratista={RFC1}", True),
    (f"contratista={RFC2}", False),
    (f"contratista={RFC2},{RFC1.lower()}", True),
    ("contratista=NO-ES-RFC", False),
    (f"contratista={RFC1},", False),
])
def test_contratista_filter(pam, arg, admitted):
    pam.service("host", account=arg)
    r = pam.pamdrv(ACTIVE, "auth", "acct", service="host", answers=[PW])
    assert r.code("auth") == "PAM_SUCCESS"
    if admitted:
        assert r.code("acct") == "PAM_SUCCESS"
    else:
        assert r.code("acct") == "PAM_PERM_DENIED"
        assert r.errors == ["Tu cuenta no tiene acceso a este servicio."]


def test_contratista_filter_admits_the_other_contractors_capturist(pam):
    pam.service("host2", account=f"contratista={RFC2}")
    assert pam.pamdrv(OTHER, "auth", "acct", service="host2",
                      answers=[PW]).codes == ["PAM_SUCCESS"] * 2
    assert pam.pamdrv(ACTIVE, "acct", service="host2").code("acct") == "PAM_PERM_DENIED"


def test_account_step_unknown_and_malformed_users(pam):
    assert pam.pamdrv(UNKNOWN, "acct").code("acct") == "PAM_USER_UNKNOWN"
    assert pam.pamdrv("root", "acct").code("acct") == "PAM_USER_UNKNOWN"
    assert pam.pamdrv(PENDING, "acct").code("acct") == "PAM_PERM_DENIED"
    assert pam.pamdrv(ACTIVE, "acct").code("acct") == "PAM_SUCCESS"


# ---------------------------------------------------------------- password

def change(pam, user, old, new, again=None, op="chauthtok", **kw):
    return pam.pamdrv(user, op, answers=[old, new, new if again is None else again], **kw)


def test_chauthtok_changes_the_password(pam):
    r = change(pam, ACTIVE, PW, NEW_PW)
    assert r.code("chauthtok") == "PAM_SUCCESS", r.stdout + r.stderr
    assert r.prompts == ["Contraseña actual: ", "Contraseña nueva: ",
                         "Repite la contraseña nueva: "]
    assert "Tu contraseña fue actualizada." in r.infos
    assert pam.pamdrv(ACTIVE, "auth", answers=[NEW_PW]).code("auth") == "PAM_SUCCESS"
    assert pam.pamdrv(ACTIVE, "auth", answers=[PW]).code("auth") == "PAM_AUTH_ERR"


def test_chauthtok_wrong_old_password(pam):
    r = change(pam, ACTIVE, "no es la actual", NEW_PW)
    assert r.code("chauthtok") == "PAM_AUTH_ERR"
    assert r.errors == ["La contraseña actual no es correcta."]
    assert r.prompts == ["Contraseña actual: "]
    assert pam.slapd.can_bind(pam.slapd.capturist_dn(ACTIVE), PW)


def test_chauthtok_lists_every_broken_rule(pam):
    # contains the CURP and a word of the name, and too short + mismatch
    r = change(pam, ACTIVE, PW, "juan" + ACTIVE.lower())
    assert r.code("chauthtok") == "PAM_AUTHTOK_ERR"
    assert r.errors[0] == "La contraseña nueva no cumple estas reglas:"
    assert len(r.errors) == 3, r.errors          # header + CURP + name
    r2 = change(pam, ACTIVE, PW, "juan1", again="juan2")
    assert r2.code("chauthtok") == "PAM_AUTHTOK_ERR"
    assert len(r2.errors) == 4, r2.errors         # header + short + name + mismatch
    assert any("15" in e for e in r2.errors[1:])
    assert len(set(r.errors[1:] + r2.errors[1:])) == 4
    assert pam.slapd.can_bind(pam.slapd.capturist_dn(ACTIVE), PW)


def test_chauthtok_history_reuse_refused(pam):
    assert change(pam, ACTIVE, PW, NEW_PW).code("chauthtok") == "PAM_SUCCESS"
    r = change(pam, ACTIVE, NEW_PW, PW)
    assert r.code("chauthtok") == "PAM_AUTHTOK_ERR"
    assert len(r.errors) == 1 and r.errors[0], r.stdout
    assert pam.slapd.can_bind(pam.slapd.capturist_dn(ACTIVE), NEW_PW)
    assert not pam.slapd.can_bind(pam.slapd.capturist_dn(ACTIVE), PW)


def test_chauthtok_use_authtok(pam):
    pam.service("pw", password="use_authtok")
    r = pam.pamdrv(ACTIVE, "chauthtok", service="pw", answers=[PW], authtok=NEW_PW)
    assert r.code("chauthtok") == "PAM_SUCCESS", r.stdout + r.stderr
    assert r.prompts == ["Contraseña actual: "]
    assert pam.slapd.can_bind(pam.slapd.capturist_dn(ACTIVE), NEW_PW)


def test_chauthtok_malformed_user(pam):
    r = change(pam, "root", PW, NEW_PW)
    assert r.code("chauthtok") == "PAM_USER_UNKNOWN"


def test_must_change_after_reset(pam):
    """pwdReset (an administrator reset the password): auth passes, the
    account step demands a new password, chauthtok changes it, and the new
    one works in a fresh transaction."""
    pam.slapd.set_policy(pwdMustChange=True)
    pam.slapd.modify(pam.slapd.capturist_dn(ACTIVE), {"pwdReset": "TRUE"})
    r = pam.pamdrv(ACTIVE, "auth", "acct", answers=[PW])
    assert r.code("auth") == "PAM_SUCCESS"
    assert r.code("acct") == "PAM_NEW_AUTHTOK_REQD"
    assert r.errors == ["Debes cambiar tu contraseña ahora."]
    r = pam.pamdrv(ACTIVE, "auth", "acct", "chauthtok-expired", "acct",
                   answers=[PW, PW, NEW_PW, NEW_PW], keep_going=True)
    assert r.codes == ["PAM_SUCCESS", "PAM_NEW_AUTHTOK_REQD", "PAM_SUCCESS",
                       "PAM_SUCCESS"], r.stdout + r.stderr
    r = pam.pamdrv(ACTIVE, "auth", "acct", answers=[NEW_PW])
    assert r.codes == ["PAM_SUCCESS", "PAM_SUCCESS"], r.stdout + r.stderr


def test_expired_password(pam):
    """pwdMaxAge passed: acct_mgmt gives NEW_AUTHTOK_REQD, chauthtok
    succeeds, and the new password logs in."""
    pam.slapd.set_policy(pwdMaxAge=2, pwdGraceAuthNLimit=3)
    add_capturist(pam.slapd, EXPIRING, PW, contractors=[RFC1])
    time.sleep(3)
    r = pam.pamdrv(EXPIRING, "auth", "acct", "chauthtok-expired", "acct",
                   answers=[PW, PW, NEW_PW, NEW_PW], keep_going=True)
    assert r.codes == ["PAM_SUCCESS", "PAM_NEW_AUTHTOK_REQD", "PAM_SUCCESS",
                       "PAM_SUCCESS"], r.stdout + r.stderr
    assert r.errors[0] == "Tu contraseña venció: debes cambiarla ahora."
    r = pam.pamdrv(EXPIRING, "auth", "acct", answers=[NEW_PW])
    assert r.codes == ["PAM_SUCCESS", "PAM_SUCCESS"], r.stdout + r.stderr


def test_expired_without_grace_is_refused_with_a_reason(pam):
    """No grace login left: slapd refuses the bind (and would refuse a
    change by the user too), so auth fails with PAM_AUTHTOK_EXPIRED and
    tells the capturist how to get a new password."""
    pam.slapd.set_policy(pwdMaxAge=2, pwdGraceAuthNLimit=0)
    add_capturist(pam.slapd, EXPIRING, PW, contractors=[RFC1])
    time.sleep(3)
    r = pam.pamdrv(EXPIRING, "auth", answers=[PW])
    assert r.code("auth") == "PAM_AUTHTOK_EXPIRED"
    assert len(r.errors) == 1 and "venció" in r.errors[0]
    r = pam.pamdrv(EXPIRING, "auth", answers=["no es esta"])
    assert r.code("auth") == "PAM_AUTH_ERR" and r.errors == []
    r = change(pam, EXPIRING, PW, NEW_PW)
    assert r.code("chauthtok") == "PAM_AUTHTOK_EXPIRED"
    assert pam.slapd.get(pam.slapd.capturist_dn(EXPIRING), ["pwdChangedTime"])


def test_expiry_warning(pam):
    """ppolicy's timeBeforeExpiration reaches the user from the account step."""
    pam.slapd.set_policy(pwdMaxAge=3600, pwdExpireWarning=7200)
    add_capturist(pam.slapd, EXPIRING, PW, contractors=[RFC1])
    r = pam.pamdrv(EXPIRING, "auth", "acct", answers=[PW])
    assert r.codes == ["PAM_SUCCESS", "PAM_SUCCESS"], r.stdout + r.stderr
    assert r.infos == ["Tu contraseña vence en 1 día."]


# The account step on its own (ssh keys: no auth step; or after auth
# answered PAM_AUTHTOK_EXPIRED) reads the password state itself.

def test_account_step_alone_sees_an_expired_password(pam):
    pam.slapd.set_policy(pwdMaxAge=2, pwdGraceAuthNLimit=3)
    add_capturist(pam.slapd, EXPIRING, PW, contractors=[RFC1])
    assert pam.pamdrv(EXPIRING, "acct").code("acct") == "PAM_SUCCESS"
    time.sleep(3)
    r = pam.pamdrv(EXPIRING, "acct", "chauthtok-expired", "acct",
                   answers=[PW, NEW_PW, NEW_PW], keep_going=True)
    assert r.codes == ["PAM_NEW_AUTHTOK_REQD", "PAM_SUCCESS", "PAM_SUCCESS"], \
        r.stdout + r.stderr
    assert r.errors[0] == "Tu contraseña venció: debes cambiarla ahora."
    assert pam.pamdrv(EXPIRING, "acct").code("acct") == "PAM_SUCCESS"
    assert pam.slapd.can_bind(pam.slapd.capturist_dn(EXPIRING), NEW_PW)


def test_account_step_after_authtok_expired_does_not_pass(pam):
    """No grace login left: auth says PAM_AUTHTOK_EXPIRED; an application
    (or a stack) that goes on to the account step must not get
    PAM_SUCCESS there, and the account step alone must not either."""
    pam.slapd.set_policy(pwdMaxAge=2, pwdGraceAuthNLimit=0)
    add_capturist(pam.slapd, EXPIRING, PW, contractors=[RFC1])
    time.sleep(3)
    r = pam.pamdrv(EXPIRING, "auth", "acct", answers=[PW], keep_going=True)
    assert r.codes == ["PAM_AUTHTOK_EXPIRED", "PAM_ACCT_EXPIRED"], r.stdout + r.stderr
    r = pam.pamdrv(EXPIRING, "acct")
    assert r.code("acct") == "PAM_ACCT_EXPIRED"
    assert len(r.errors) == 1 and "Olvidaste" in r.errors[0]


def test_account_step_alone_sees_an_administrator_reset(pam):
    pam.slapd.set_policy(pwdMustChange=True)
    pam.slapd.modify(pam.slapd.capturist_dn(ACTIVE), {"pwdReset": "TRUE"})
    r = pam.pamdrv(ACTIVE, "acct")
    assert r.code("acct") == "PAM_NEW_AUTHTOK_REQD"
    assert r.errors == ["Debes cambiar tu contraseña ahora."]


def test_account_step_alone_warns_before_expiry(pam):
    pam.slapd.set_policy(pwdMaxAge=3600, pwdExpireWarning=7200)
    add_capturist(pam.slapd, EXPIRING, PW, contractors=[RFC1])
    r = pam.pamdrv(EXPIRING, "acct")
    assert r.code("acct") == "PAM_SUCCESS"
    assert r.infos == ["Tu contraseña vence en 1 día."]


def test_account_step_fails_closed_without_its_policy(pam):
    """A ppolicy_dn that names no entry is an error, not "no expiry"."""
    pam.icsoe_conf.write(ppolicy_dn=f"cn=nope,ou=policies,{pam.slapd.base}")
    r = pam.pamdrv(ACTIVE, "acct")
    assert r.code("acct") == "PAM_SYSTEM_ERR"


def test_silent_flag_shows_nothing(pam):
    r = pam.pamdrv(LOCKED, "auth", answers=[PW], silent=True)
    assert r.code("auth") == "PAM_PERM_DENIED"
    assert r.errors == [] and r.infos == []


# ----------------------------------------------------------- availability

def test_ldap_down_then_back(pam):
    pam.icsoe_conf.write(timeout=2)
    pam.slapd.stop()
    t0 = time.monotonic()
    r = pam.pamdrv(ACTIVE, "auth", answers=[PW])
    assert r.code("auth") == "PAM_AUTHINFO_UNAVAIL"
    assert time.monotonic() - t0 < 5
    assert "El servicio de cuentas no está disponible. Intenta más tarde." in r.errors
    assert pam.pamdrv(ACTIVE, "acct").code("acct") == "PAM_AUTHINFO_UNAVAIL"
    pam.slapd.start()
    r = pam.pamdrv(ACTIVE, "auth", "acct", answers=[PW])
    assert r.codes == ["PAM_SUCCESS", "PAM_SUCCESS"]


def test_ldap_hanging_times_out(pam):
    """slapd accepts connections but never answers (SIGSTOP): the module
    gives up after the configured timeout, then works once it answers."""
    pam.icsoe_conf.write(timeout=2)
    pid = pam.slapd.child.proc.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        r = pam.pamdrv(ACTIVE, "auth", answers=[PW], timeout=60)
        elapsed = time.monotonic() - t0
    finally:
        os.kill(pid, signal.SIGCONT)
    assert r.code("auth") == "PAM_AUTHINFO_UNAVAIL"
    assert elapsed < 2 * 2 + 3, elapsed
    r = pam.pamdrv(ACTIVE, "auth", answers=[PW])
    assert r.code("auth") == "PAM_SUCCESS"


# --------------------------------------------------------------- threads

def test_eight_threads_in_one_process(pam):
    r = pam.pamdrv(ACTIVE, "auth", "acct", "open", "close", answers=[PW],
                   threads=8, rounds=4)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.counts == {("auth", "PAM_SUCCESS"): 32, ("acct", "PAM_SUCCESS"): 32,
                        ("open", "PAM_SUCCESS"): 32, ("close", "PAM_SUCCESS"): 32}


def test_threads_with_mixed_results(pam):
    """Two processes of 8 threads each, one with the right password and one
    with a wrong one, at the same time: no answer leaks into the other."""
    pam.slapd.set_policy(pwdMaxFailure=0, pwdLockout=False)
    with ThreadPoolExecutor(2) as ex:
        fgood = ex.submit(pam.pamdrv, OTHER, "auth", answers=[PW], threads=8, rounds=3)
        fbad = ex.submit(pam.pamdrv, OTHER, "auth", answers=["equivocada del todo"],
                         threads=8, rounds=3)
        good, bad = fgood.result(), fbad.result()
    assert good.counts == {("auth", "PAM_SUCCESS"): 24}
    assert bad.counts == {("auth", "PAM_AUTH_ERR"): 24}


# ---------------------------------------------------------------- valgrind

VALGRIND_ARGS = ["--error-exitcode=97", "--leak-check=full",
                 "--show-leak-kinds=definite,indirect",
                 "--errors-for-leak-kinds=definite,indirect",
                 "--track-origins=yes", "--num-callers=30", "--keep-debuginfo=yes",
                 f"--suppressions={util.src('tests/integration/valgrind.supp')}"]


@pytest.mark.parametrize("user,ops,answers,threads", [
    (ACTIVE, ["auth", "acct", "setcred", "open", "env", "close"], [PW], None),
    (UNKNOWN, ["auth"], [PW], None),
    ("no-es-curp", ["auth"], [PW], None),
    (LOCKED, ["auth", "acct"], [PW], None),
    (ACTIVE, ["chauthtok"], [PW, "corta", "corta"], None),
    (ACTIVE, ["chauthtok"], [PW, NEW_PW, NEW_PW], None),
    (ACTIVE, ["auth", "acct"], [PW], 4),
])
@pytest.mark.skipif(util.SANITIZED, reason="valgrind cannot run the "
                    "ASan-built drivers of the sanitizer stage (scripts/test "
                    "runs this test in the normal build)")
def test_valgrind_clean(pam, user, ops, answers, threads):
    pam.service("vg", account=f"contratista={RFC1}")
    r = pam.pamdrv(user, *ops, service="vg", answers=answers, threads=threads,
                   rounds=2 if threads else None, keep_going=True,
                   valgrind=VALGRIND_ARGS, timeout=300)
    assert r.returncode in (0, 1), r.stderr[-6000:]
    assert "ERROR SUMMARY: 0 errors" in r.stderr, r.stderr[-6000:]
    assert re.search(r"definitely lost: 0 bytes", r.stderr) or \
        "All heap blocks were freed" in r.stderr, r.stderr[-6000:]
