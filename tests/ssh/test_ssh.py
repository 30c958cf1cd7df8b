"""Capturists log in to an internal host with ssh (issue 18), end to end:
a real OpenSSH sshd (UsePAM, keyboard-interactive) with conf/pam.d/sshd
and the built pam_icsoe, NSS from a private slapd (ldaps) through nslcd
with conf/nss/nslcd.conf, Unix identities made by icsoectl, and a real
client (paramiko).  Run by scripts/test.d/55-ssh as root; the machine's own
files are checked unchanged at the end.

What each test would catch: a capturist unknown to sshd (no NSS entry), a
missing home, a password check that lets a wrong password, a locked or
pending account or another contractor's capturist in, an expired password
that cannot be changed in the login (or whose new value does not work),
root's key login broken by the new stack, a stage that edits /etc."""
import hashlib
import os
import shutil
import socket
import time

import paramiko
import pytest

from harness import slapd as h_slapd
from harness.apache import add_capturist, curp, rfc
from harness.conf import IcsoeConf
from harness.util import built

import sshhost

PASSWORD = "contraseña-de-ssh-2026"
NEW_PASSWORD = "otra-contraseña-larga-2026"
UID_MIN = 200000

RFC_A = rfc("EKU900317SA")
RFC_B = rfc("XYZ991231A1")
CURP_OK = curp("GOMC800101HDFRRR0")        # active, contractor A
CURP_OTHER = curp("PEPJ900215MJCRRN0")     # active, contractor B only
CURP_LOCKED = curp("LOAA820304HNLPRN0")    # locked by an administrator
CURP_PENDING = curp("MARR751120HVZRMS0")   # never created a password
CURP_LOCKOUT = curp("RUIZ700707HJCZRN0")   # ppolicy lockout (failed logins)
CURP_PROFILE = curp("TOVA880808MJCRRL0")   # active, for the pam-auth-update host
CURP_EXPIRED = curp("SAHE850505MDFNRL0")   # password past pwdMaxAge

# The machine's files the stage must leave as they were.
WATCHED = ["/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/shadow",
           "/etc/nslcd.conf", "/etc/ssh/sshd_config"] + \
    sorted(os.path.join("/etc/pam.d", f) for f in os.listdir("/etc/pam.d"))


def checksums():
    out = {}
    for p in WATCHED:
        try:
            with open(p, "rb") as f:
                out[p] = hashlib.sha256(f.read()).hexdigest()
        except FileNotFoundError:
            out[p] = None
    out["debconf libpam-runtime/profiles"] = debconf_profiles()
    out["/run/sshd exists"] = os.path.exists("/run/sshd")
    out["/run/nslcd/socket exists"] = os.path.exists("/run/nslcd/socket")
    return out


def debconf_profiles():
    """The PAM profiles the machine's debconf has chosen (pam-auth-update
    records them there; the profile host must not change them)."""
    try:
        with open(os.path.join(sshhost.DEBCONF_DIR, "config.dat"), encoding="utf-8",
                  errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    i = text.find("\nName: libpam-runtime/profiles\n")
    if i < 0:
        return None
    block = text[i + 1:text.find("\n\n", i + 1)]
    return [line for line in block.splitlines() if line.startswith("Value:")]


def icsoectl(conf, *args):
    import subprocess
    r = subprocess.run([built("tools/icsoectl"), "-c", conf, *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"icsoectl {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


@pytest.fixture(scope="module")
def host():
    before = checksums()
    w = sshhost.workdir()
    slapd = h_slapd.Slapd(os.path.join(w, "slapd"), tls=True)
    slapd.start()
    h = None
    try:
        home = os.path.join(w, "home")
        os.makedirs(home, mode=0o755)
        # the administrator's icsoe.conf (icsoectl: reader + writer) ...
        conf = IcsoeConf(os.path.join(w, "etc"), slapd, uri=slapd.ldaps_uri,
                         tls_cacertfile=slapd.cacert, unix_uid_min=UID_MIN,
                         unix_uid_max=UID_MIN + 999, unix_gid_min=UID_MIN,
                         unix_gid_max=UID_MIN + 99, unix_home=home).path
        setup_directory(slapd, conf)
        # ... and the ssh host's: the reader account only (least privilege:
        # logins, lockout, password changes need no writer)
        host_conf = IcsoeConf(os.path.join(w, "host-etc"), slapd, uri=slapd.ldaps_uri,
                              tls_cacertfile=slapd.cacert, writer_binddn=None,
                              writer_bindpw_file=None)
        os.remove(os.path.join(w, "host-etc", "writerpw"))   # not on this host
        assert "writer" not in open(host_conf.path).read()
        h = sshhost.SshHost(w, slapd, host_conf.path, UID_MIN)
        h.conf, h.home, h.slapd_ = conf, home, slapd
        h.start()
        yield h
    finally:
        log = h.log() if h is not None and h.child is not None else ""
        if h is not None:
            h.stop()
        slapd.stop()
        if os.environ.get("ICSOE_SSH_KEEP"):
            print(f"kept {w}")
        else:
            import shutil
            shutil.rmtree(w, ignore_errors=True)
        after = checksums()
        changed = [k for k in before if before[k] != after[k]]
        if log and os.environ.get("ICSOE_SSH_LOG"):
            print(log[-20000:])
        assert not changed, f"the stage changed the machine's files: {changed}"


def setup_directory(slapd, conf):
    """Contractors and capturists as an administrator makes them, then the
    Unix identities and groups with the commands of docs/ssh.md."""
    icsoectl(conf, "contractor", "add", "--rfc", RFC_A, "--name", "Servicios A SA de CV")
    icsoectl(conf, "contractor", "add", "--rfc", RFC_B, "--name", "Servicios B SA de CV")
    add_capturist(slapd, CURP_OK, "Carla Gómez Núñez", [RFC_A], password=PASSWORD)
    add_capturist(slapd, CURP_OTHER, "Juana Pérez", [RFC_B], password=PASSWORD)
    add_capturist(slapd, CURP_LOCKED, "Aarón López", [RFC_A], password=PASSWORD)
    add_capturist(slapd, CURP_PENDING, "Raúl Martínez", [RFC_A], status="pending")
    add_capturist(slapd, CURP_EXPIRED, "Elena Sánchez", [RFC_A], password=PASSWORD)
    add_capturist(slapd, CURP_LOCKOUT, "Luis Ruiz", [RFC_A], password=PASSWORD)
    add_capturist(slapd, CURP_PROFILE, "Valeria Torres", [RFC_A], password=PASSWORD)
    for c in (CURP_OK, CURP_OTHER, CURP_LOCKED, CURP_PENDING, CURP_EXPIRED, CURP_LOCKOUT,
              CURP_PROFILE):
        icsoectl(conf, "capturist", "posix", "enable", c)
    icsoectl(conf, "contractor", "posix", "enable", RFC_A, "--group", "ctr-eku")
    icsoectl(conf, "capturist", "lock", CURP_LOCKED)
    # CURP_EXPIRED: a policy whose passwords last one second, with grace
    # logins (README: without them an expired password can only be
    # replaced through the web recovery)
    pol = f"cn=expiring,ou=policies,{slapd.base}"
    slapd.add(pol, {"objectClass": ["organizationalRole", "pwdPolicy"], "cn": "expiring",
                    "pwdAttribute": "userPassword", "pwdMaxAge": "1",
                    "pwdGraceAuthNLimit": "10", "pwdAllowUserChange": "TRUE"})
    slapd.modify(slapd.capturist_dn(CURP_EXPIRED), {"pwdPolicySubentry": pol,
                                                     "userPassword": PASSWORD})
    time.sleep(2.5)     # past pwdMaxAge (not a timing assertion)


# ---- the client ----

class Login:
    """One ssh connection: keyboard-interactive with answers chosen by
    prompt, then (if authenticated) a command.  Records what the server
    said (instructions, prompts) for the assertions."""

    def __init__(self, host, user, answers, command="id"):
        self.said, self.prompts = [], []
        self.ok, self.out, self.status = False, "", None
        sock = socket.create_connection(("127.0.0.1", host.port), timeout=20)
        t = paramiko.Transport(sock)
        try:
            t.start_client(timeout=20)
            self._check_hostkey(host, t)

            def handler(title, instructions, prompts):
                self.said += [s for s in (title, instructions) if s]
                answers_now = []
                for text, _echo in prompts:
                    # sshd puts PAM's messages (PAM_ERROR_MSG, PAM_TEXT_INFO)
                    # in front of the next prompt, one per line
                    *messages, prompt = text.split("\n")
                    self.said += [m for m in messages if m]
                    self.prompts.append(prompt)
                    answers_now.append(answers(prompt))
                return answers_now
            try:
                t.auth_interactive(user, handler)
                self.ok = t.is_authenticated()
            except paramiko.AuthenticationException:
                self.ok = False
            if self.ok:
                self.out, self.status = run(t, command)
        finally:
            t.close()

    @staticmethod
    def _check_hostkey(host, t):
        key = t.get_remote_server_key()
        with open(host.hostkey + ".pub") as f:
            assert f.read().split()[1] == key.get_base64(), "not our sshd"

    def text(self):
        return "\n".join(self.said)


def run(t, command):
    ch = t.open_session(timeout=20)
    ch.exec_command(command)
    out = b""
    while True:
        data = ch.recv(65536)
        if not data:
            break
        out += data
    return out.decode("utf-8", "replace"), ch.recv_exit_status()


def password(pw):
    def answers(prompt):
        return pw
    return answers


# ---- the tests ----

def test_nss_sees_active_capturists_with_unix_identity(host):
    r = host.in_namespace("getent", "passwd", CURP_OK)
    assert r.returncode == 0, r
    name, _x, uid, gid, gecos, home, shell = r.stdout.strip().split(":")
    assert name == CURP_OK and int(uid) >= UID_MIN and gecos == "Carla Gómez Núñez"
    assert home == os.path.join(host.home, CURP_OK) and shell == "/bin/bash"
    r = host.in_namespace("getent", "group", "ctr-eku")
    assert CURP_OK in r.stdout and CURP_OTHER not in r.stdout, r
    # locked and pending accounts do not exist for NSS
    for c in (CURP_LOCKED, CURP_PENDING):
        assert host.in_namespace("getent", "passwd", c).returncode == 2
    # and the machine outside the namespace knows nothing of them
    assert os.system(f"getent passwd {CURP_OK} >/dev/null") != 0


def test_capturist_logs_in_and_gets_a_home(host):
    home = os.path.join(host.home, CURP_OK)
    assert not os.path.exists(home)
    lg = Login(host, CURP_OK, password(PASSWORD),
               "id; echo HOME=$HOME; stat -c '%u %a' \"$HOME\"; echo CURP=$ICSOE_CURP")
    assert lg.ok, lg.said + [host.log()[-3000:]]
    assert lg.prompts == ["Contraseña: "]
    assert lg.status == 0, lg.out
    uid = int(host.in_namespace("id", "-u", CURP_OK).stdout)
    assert f"uid={uid}({CURP_OK})" in lg.out
    assert "(capturistas)" in lg.out and "(ctr-eku)" in lg.out, lg.out
    assert f"HOME={home}" in lg.out
    assert f"{uid} 700" in lg.out                    # pam_mkhomedir, umask 0077
    assert os.stat(home).st_uid == uid
    assert f"CURP={CURP_OK}" in lg.out               # pam_icsoe session


def test_wrong_password_is_refused(host):
    lg = Login(host, CURP_OK, password("no-es-la-contraseña-2026"))
    assert not lg.ok and lg.out == ""


def test_locked_account_is_refused(host):
    """Locked by an administrator: unknown to NSS, so sshd refuses it
    whatever the password (and says nothing about the account)."""
    lg = Login(host, CURP_LOCKED, password(PASSWORD))
    assert not lg.ok and lg.said == []


def test_lockout_by_failed_logins_is_refused_with_its_message(host):
    """Locked by the ppolicy lockout (too many failures, web and ssh
    counted together): still active for NSS, refused by pam_icsoe's auth
    step with the Spanish lock message, even with the right password."""
    dn = host.slapd_.capturist_dn(CURP_LOCKOUT)
    host.slapd_.modify(dn, {"pwdAccountLockedTime": "000001010000Z"})
    lg = Login(host, CURP_LOCKOUT, password(PASSWORD))
    assert not lg.ok
    assert "Tu cuenta está bloqueada." in lg.text(), lg.said


def test_pending_account_is_refused(host):
    lg = Login(host, CURP_PENDING, password(PASSWORD))
    assert not lg.ok


def test_unknown_user_is_refused(host):
    lg = Login(host, curp("ZAZA700101HDFRRR0"), password(PASSWORD))
    assert not lg.ok


def test_other_contractor_refused_on_restricted_host(host):
    """contratista= on the account line: the password is right, the
    account step says no (and says why, in Spanish)."""
    host.restrict(RFC_A)
    try:
        lg = Login(host, CURP_OTHER, password(PASSWORD))
        assert not lg.ok
        assert "Tu cuenta no tiene acceso a este servicio." in lg.text(), lg.said
        ok = Login(host, CURP_OK, password(PASSWORD), "id -un")
        assert ok.ok and ok.out.strip() == CURP_OK
    finally:
        host.restrict(None)
    # the same capturist on an unrestricted host
    lg = Login(host, CURP_OTHER, password(PASSWORD), "id -un")
    assert lg.ok and lg.out.strip() == CURP_OTHER


def change_to(new):
    def answers(prompt):
        return {"Contraseña: ": PASSWORD, "Contraseña actual: ": PASSWORD,
                "Contraseña nueva: ": new, "Repite la contraseña nueva: ": new}[prompt]
    return answers


def test_expired_password_is_changed_in_the_login(host):
    # a new password that breaks the policy: the rule is shown in Spanish,
    # the login fails and nothing changes
    lg = Login(host, CURP_EXPIRED, change_to("corta"))
    assert not lg.ok
    assert "La contraseña nueva no cumple estas reglas:" in lg.text(), lg.said
    # a good one: changed in the same login, which then goes on
    lg = Login(host, CURP_EXPIRED, change_to(NEW_PASSWORD), "id -un")
    assert lg.ok, (lg.prompts, lg.said, host.log()[-3000:])
    assert lg.prompts == ["Contraseña: ", "Contraseña actual: ", "Contraseña nueva: ",
                          "Repite la contraseña nueva: "], lg.prompts
    assert "Tu contraseña venció: debes cambiarla ahora." in lg.text(), lg.said
    assert lg.out.strip() == CURP_EXPIRED
    # back to the default policy (the 1-second one would expire it again)
    host.slapd_.modify(host.slapd_.capturist_dn(CURP_EXPIRED), {"pwdPolicySubentry": None})
    assert not Login(host, CURP_EXPIRED, password(PASSWORD)).ok
    again = Login(host, CURP_EXPIRED, password(NEW_PASSWORD), "id -un")
    assert again.ok and again.prompts == ["Contraseña: "]
    assert again.out.strip() == CURP_EXPIRED


def test_root_key_login_still_works(host):
    root_key_login(host)


def test_capturist_key_is_refused_password_works(host):
    """A key in a capturist's authorized_keys (planted by whoever got into
    its session once) opens nothing: capturists are keyboard-interactive
    only (conf/ssh/sshd_config.d/icsoe.conf, Match Group capturistas)."""
    key = paramiko.Ed25519Key.from_private_key_file(host.rootkey)
    shutil.copyfile(host.rootkey + ".pub", os.path.join(host.akdir, CURP_OK))
    try:
        sock = socket.create_connection(("127.0.0.1", host.port), timeout=20)
        t = paramiko.Transport(sock)
        try:
            t.start_client(timeout=20)
            with pytest.raises(paramiko.AuthenticationException):
                t.auth_publickey(CURP_OK, key)
            assert not t.is_authenticated()
        finally:
            t.close()
        assert Login(host, CURP_OK, password(PASSWORD), "true").ok
    finally:
        os.remove(os.path.join(host.akdir, CURP_OK))


def root_key_login(host):
    sock = socket.create_connection(("127.0.0.1", host.port), timeout=20)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=20)
        Login._check_hostkey(host, t)
        t.auth_publickey("root", paramiko.Ed25519Key.from_private_key_file(host.rootkey))
        out, status = run(t, "id -u; id -un")
    finally:
        t.close()
    assert status == 0 and out.split() == ["0", "root"]


def test_local_user_logs_in_through_pam_unix(host):
    """A local account (private /etc/passwd + /etc/shadow) never meets
    pam_icsoe: pam_unix's own prompt, its own password, refused with a
    wrong one, and the directory is not asked (no bind for it in slapd's
    log)."""
    before = host.slapd_.child.read_log().count(f"uid={sshhost.LOCAL_USER}")
    lg = Login(host, sshhost.LOCAL_USER, password(sshhost.LOCAL_PASSWORD), "id -u")
    assert lg.ok, (lg.prompts, lg.said, host.log()[-2000:])
    assert lg.prompts == ["Password: "] and lg.out.split() == [str(sshhost.LOCAL_UID)]
    assert not Login(host, sshhost.LOCAL_USER, password(PASSWORD)).ok
    # ...and a capturist's password never opens a local account
    assert host.slapd_.child.read_log().count(f"uid={sshhost.LOCAL_USER}") == before


def test_directory_entry_can_never_be_root(host):
    """An entry with uidNumber 0 (or any number below unix_uid_min) planted
    in the directory is ignored by NSS (nss_min_uid)."""
    evil = curp("ROOT700101HDFRRR0")
    add_capturist(host.slapd_, evil, "Intruso", [RFC_A], password=PASSWORD)
    host.slapd_.modify(host.slapd_.capturist_dn(evil), [
        (0, "objectClass", [b"posixAccount"]), (0, "uidNumber", [b"0"]),
        (0, "gidNumber", [b"0"]), (0, "homeDirectory", [b"/root"])])
    assert host.in_namespace("getent", "passwd", evil).returncode == 2
    assert host.in_namespace("getent", "passwd", "0").stdout.startswith("root:")
    assert not Login(host, evil, password(PASSWORD)).ok


# ---- the pam-auth-update route: Debian's own /etc/pam.d/sshd ----

def sibling_host(host, **kw):
    """Another sshd + nslcd on the same directory and homes as host, set up
    as SshHost's keywords say; stopped and removed afterwards."""
    w = sshhost.workdir()
    h = sshhost.SshHost(w, host.slapd_, host.icsoe_conf, UID_MIN, **kw)
    h.slapd_, h.home = host.slapd_, host.home
    try:
        h.start()
        yield h
    finally:
        h.stop()
        shutil.rmtree(w, ignore_errors=True)


@pytest.fixture(scope="module")
def profile_host(host):
    """The same directory and nslcd.conf, but PAM from pam-auth-update with
    the conf/pam-configs/icsoe (and Debian's mkhomedir) profiles enabled,
    as README's "Next to local accounts" says: what a host gets from the
    libpam-icsoe package."""
    yield from sibling_host(host, profile=True)


def test_profile_capturist_logs_in(profile_host):
    """Debian's pam_unix asks first ("Password: "), fails for a user
    not in /etc/shadow, and pam_icsoe takes the same password
    (use_first_pass); mkhomedir's profile makes the home."""
    lg = Login(profile_host, CURP_PROFILE, password(PASSWORD), "id -un; echo $HOME")
    assert lg.ok, (lg.prompts, lg.said, profile_host.log()[-3000:])
    assert lg.prompts == ["Password: "]
    assert lg.out.split() == [CURP_PROFILE, os.path.join(profile_host.home, CURP_PROFILE)]
    assert os.path.isdir(os.path.join(profile_host.home, CURP_PROFILE))
    assert not Login(profile_host, CURP_PROFILE, password("no-es-la-contraseña-2026")).ok
    lg = Login(profile_host, CURP_LOCKOUT, password(PASSWORD))
    assert not lg.ok and "Tu cuenta está bloqueada." in lg.text(), lg.said


def test_profile_expired_password_is_changed_in_the_login(profile_host):
    slapd = profile_host.slapd_
    dn = slapd.capturist_dn(CURP_PROFILE)
    slapd.modify(dn, {"pwdPolicySubentry": f"cn=expiring,ou=policies,{slapd.base}",
                      "userPassword": PASSWORD})
    time.sleep(2.5)     # past pwdMaxAge (not a timing assertion)

    def answers(prompt):
        return {"Password: ": PASSWORD, "Contraseña actual: ": PASSWORD,
                "Contraseña nueva: ": NEW_PASSWORD,
                "Repite la contraseña nueva: ": NEW_PASSWORD}[prompt]
    lg = Login(profile_host, CURP_PROFILE, answers, "id -un")
    slapd.modify(dn, {"pwdPolicySubentry": None})
    assert lg.ok, (lg.prompts, lg.said)
    assert lg.prompts == ["Password: ", "Contraseña actual: ", "Contraseña nueva: ",
                          "Repite la contraseña nueva: "]
    assert "Tu contraseña venció: debes cambiarla ahora." in lg.text()
    again = Login(profile_host, CURP_PROFILE, password(NEW_PASSWORD), "id -un")
    assert again.ok and again.out.strip() == CURP_PROFILE


def test_profile_root_and_local_users_untouched(profile_host):
    lg = Login(profile_host, sshhost.LOCAL_USER, password(sshhost.LOCAL_PASSWORD), "id -u")
    assert lg.ok and lg.out.split() == [str(sshhost.LOCAL_UID)]
    assert not Login(profile_host, sshhost.LOCAL_USER, password(PASSWORD)).ok
    root_key_login(profile_host)


# ---- the sshd fence: AllowGroups with the contractor's Unix group ----

@pytest.fixture(scope="module")
def fenced_host(host):
    """The same directory, PAM and nslcd, and the drop-in with its
    AllowGroups line uncommented (the line docs/ssh.md shows)."""
    doc = open(sshhost.util.src("docs/ssh.md")).read()
    assert f"\n  {sshhost.ALLOW_GROUPS}\n" in doc, "docs/ssh.md shows another line"
    yield from sibling_host(host, allow_groups=True)


def test_allowgroups_admits_only_the_contractor_group(fenced_host):
    """ctr-eku (contractor A's group) gets in; a capturist of contractor B
    with the right password, and a local account outside the listed
    groups, are refused by sshd itself (its log names AllowGroups: not
    PAM's contratista=, which this host does not set); root's key login
    still works."""
    h = fenced_host
    lg = Login(h, CURP_OK, password(PASSWORD), "id -un")
    assert lg.ok and lg.out.strip() == CURP_OK, (lg.said, h.log()[-3000:])
    # (the local account's primary group has no name in the private
    # /etc/group: sshd says "not in any group", also its group check)
    for user, pw, why in ((CURP_OTHER, PASSWORD,
                           "none of user's groups are listed in AllowGroups"),
                          (sshhost.LOCAL_USER, sshhost.LOCAL_PASSWORD, "not in any group")):
        lg = Login(h, user, password(pw), "id -un")
        assert not lg.ok and lg.out == "", user
        assert f"User {user} from 127.0.0.1 not allowed because {why}" in h.log(), \
            h.log()[-3000:]
    root_key_login(h)
