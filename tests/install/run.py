"""The install test, on the machine's own servers (run as root by
scripts/test.d/50-install, which builds the packages first).

It installs the .debs with apt-get, sets up the system slapd the Debian way
(debconf preseed + dpkg-reconfigure), then follows the documentation: every
command and Apache snippet comes from a marked fenced block of the docs
(tests/install/docblocks.py), so the docs cannot drift from what is tested.
It walks activation -> login -> selection -> protected backend over HTTPS
against the system apache2, checks that port 80 never takes a password,
enables the PAM profile and logs in through the common-* stacks, removes
libpam-icsoe with the profile still enabled, purges everything and checks
that the machine is as it was: /etc/pam.d/common-* byte for byte, slapd's
and apache2's configuration, data and running state, no process left.

Usage: run.py TOPDIR SRCDIR WORKDIR  (the packages are in SRCDIR/..)"""
import email
import email.policy
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import traceback
import warnings

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import docblocks  # noqa: E402

PACKAGES = ("libapache2-mod-icsoe", "libpam-icsoe", "icsoe-utils")
# a2enmod/a2dismod keep their state in /var/lib/apache2
SAVED_DIRS = ("etc/apache2", "var/lib/apache2", "etc/ldap/slapd.d", "var/lib/ldap")
SLAPD_PID = "/run/slapd/slapd.pid"
APACHE_PID = "/run/apache2/apache2.pid"
PAM_SERVICE = "icsoe-install-test"
LOCAL_USER = "icsoe-inst"
CURP = "GOMC800101HDFRRR00"          # the capturist of docs/icsoectl.md
RFC = "EKU900317SA1"                 # its contractor
PASSWORD = "caballo bateria grapa correcto 7"
BROWSER = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
           "User-Agent": "icsoe-install-test"}
CSRF = re.compile(r'name="csrf" value="([^"]*)"')
LINK = re.compile(r"https://[^\s<>\"]+/icsoe/activar\?t=[A-Za-z0-9_-]+")


class Fail(Exception):
    pass


def say(msg):
    print(f"50-install: {msg}", flush=True)


def check(cond, what):
    if not cond:
        raise Fail(what)


def run(argv, ok=(0,), **kw):
    """Run a command; its output is shown only when it fails."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    r = subprocess.run(argv, **kw)
    if ok is not None and r.returncode not in ok:
        raise Fail(f"{' '.join(map(str, argv))} exited {r.returncode}:\n"
                   f"{r.stdout}{r.stderr}")
    return r


def present_packages():
    """Our packages dpkg knows in any state but purged (ii, rc, iU...)."""
    r = run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\n", *PACKAGES],
            ok=None)
    return [l.split()[0] for l in r.stdout.splitlines()
            if len(l.split()) > 1 and l.split()[1][1] != "n"]


# debconf answers the test changes: pam-auth-update's record of enabled
# profiles, and the slapd questions it preseeds
DEBCONF = ("libpam-runtime/profiles", "slapd/domain", "shared/organization",
           "slapd/move_old_database", "slapd/purge_database",
           "slapd/no_configuration")


def debconf(commands):
    """Talk to debconf, waiting while another apt/dpkg holds its database."""
    for _ in range(120):
        r = run(["debconf-communicate"], input=commands, ok=None)
        if "locked by another process" not in r.stderr:
            return r.stdout
        time.sleep(1)
    raise Fail("debconf's database stayed locked")


def debconf_get(question):
    out = debconf(f"get {question}\n").strip()
    code, _, value = out.partition(" ")
    return value if code == "0" else None


def pid_alive(pidfile):
    try:
        pid = int(open(pidfile).read().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    try:
        return "zombie" not in open(f"/proc/{pid}/status").read().lower()
    except OSError:
        return False


def port_open(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait(cond, what, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.2)
    raise Fail(f"timed out waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------ the machine

class Machine:
    """What the test changes, saved first and put back at the end."""

    def __init__(self, work):
        self.work = work
        self.tar = os.path.join(work, "saved.tar")
        self.children = []
        self.created = []            # files/dirs to delete at the end
        self.user_added = False

    def save(self):
        check(not present_packages(),
              f"{present_packages()} already on this machine (installed or "
              f"config-files): the install test would purge them; purge them first")
        self.running = {"slapd": pid_alive(SLAPD_PID),
                        "apache2": pid_alive(APACHE_PID)}
        for port, owner in ((80, "apache2"), (443, "apache2"), (389, "slapd")):
            check(self.running[owner] or not port_open(port),
                  f"port {port} is taken by something that is not the "
                  f"system {owner}")
        self.pamd = {f: open(f, "rb").read()
                     for f in sorted(glob.glob("/etc/pam.d/common-*"))}
        self.had = {d: os.path.exists("/" + d) for d in SAVED_DIRS}
        with tarfile.open(self.tar, "w") as t:
            for d in SAVED_DIRS:
                if self.had[d]:
                    t.add("/" + d, arcname=d)
        self.backups = set(os.listdir("/var/backups"))
        self.debconf = {q: debconf_get(q) for q in DEBCONF}
        self.etc_icsoe = os.path.exists("/etc/icsoe")
        check(not self.etc_icsoe, "/etc/icsoe already exists on this machine")
        say(f"saved the machine's state (slapd running: "
            f"{self.running['slapd']}, apache2 running: {self.running['apache2']})")

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, **kw)
        self.children.append(p)
        return p

    def stop_services(self):
        if pid_alive(APACHE_PID):
            run(["apache2ctl", "stop"], ok=None)
            wait(lambda: not pid_alive(APACHE_PID), "apache2 to stop")
        if pid_alive(SLAPD_PID):
            run(["service", "slapd", "stop"], ok=None)
            wait(lambda: not pid_alive(SLAPD_PID), "slapd to stop")

    def restore(self):
        problems = []
        for p in self.children:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        left = present_packages()
        if left:
            run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "purge", "-y", "-q",
                 *left], ok=None, env=apt_env())
            problems.append(f"packages left on the machine, purged now: {left}")
            if present_packages():
                problems.append(f"could not purge {present_packages()}")
        try:
            self.stop_services()
        except Fail as e:
            problems.append(str(e))
        for d in SAVED_DIRS:
            shutil.rmtree("/" + d, ignore_errors=True)
        with tarfile.open(self.tar) as t:
            t.extractall("/", numeric_owner=True)
        for name in set(os.listdir("/var/backups")) - self.backups:
            shutil.rmtree(os.path.join("/var/backups", name), ignore_errors=True)
        if self.user_added:
            run(["userdel", LOCAL_USER], ok=None)
        for path in self.created:
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.exists(path):
                os.unlink(path)
        if not self.etc_icsoe:
            shutil.rmtree("/etc/icsoe", ignore_errors=True)
        if self.running["slapd"]:
            run(["service", "slapd", "start"], ok=None)
        if self.running["apache2"]:
            run(["apache2ctl", "start"], ok=None)
        for q, value in self.debconf.items():
            if value is not None and debconf_get(q) != value:
                debconf(f"set {q} {value}\n")
        if debconf_get("libpam-runtime/profiles") != self.debconf["libpam-runtime/profiles"]:
            problems.append("debconf libpam-runtime/profiles differs from before")
        for f, data in self.pamd.items():
            if open(f, "rb").read() != data:
                problems.append(f"{f} differs from before the test")
        if pid_alive(SLAPD_PID) != self.running["slapd"]:
            problems.append("slapd's running state was not restored")
        if pid_alive(APACHE_PID) != self.running["apache2"]:
            problems.append("apache2's running state was not restored")
        alive = [p.args[0] for p in self.children if p.poll() is None]
        if alive:
            problems.append(f"still running: {alive}")
        return problems


# ------------------------------------------------------------ the steps

def admin_env(work):
    """A root shell that answers apt's question with yes; "sudo" in a doc
    command is a no-op here (we are root already, sudo may be absent)."""
    bindir = os.path.join(work, "bin")
    if not os.path.isdir(bindir):
        os.makedirs(bindir)
        with open(os.path.join(bindir, "sudo"), "w") as f:
            f.write('#!/bin/sh\nexec "$@"\n')
        os.chmod(os.path.join(bindir, "sudo"), 0o755)
    return {**apt_env(), "APT_CONFIG": apt_yes(work),
            "PATH": bindir + ":" + os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}


def sh_block(blocks, name, env=None, cwd=None):
    lang, text = blocks[name]
    check(lang == "sh", f"doc block '{name}' is not a sh block")
    cmds = docblocks.commands(text)
    say(f"docs [{name}]: " + " ; ".join(l.strip() for l in cmds.splitlines()
                                         if l.strip() and not l.startswith(" ")))
    r = run(["sh", "-eu"], input=cmds, env={**os.environ, **(env or {})}, cwd=cwd)
    return r.stdout


def apt_env():
    return {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


def install_packages(blocks, srcdir, work):
    """README's command, run in the source tree where the packages were
    built (they are in its parent)."""
    sh_block(blocks, "install-packages", cwd=srcdir, env=admin_env(work))
    check(os.path.exists("/etc/apache2/mods-available/icsoe.load"),
          "mods-available/icsoe.load not installed")
    check(not os.path.exists("/etc/apache2/mods-enabled/icsoe.load"),
          "the package enabled the module by itself")
    check(not any("pam_icsoe" in open(f).read() for f in glob.glob("/etc/pam.d/common-*")),
          "installing libpam-icsoe changed /etc/pam.d/common-* (Default: no)")


def configure_slapd(work):
    """Debian's own way: debconf answers, dpkg-reconfigure, then start."""
    admin_pw = os.urandom(12).hex()
    sel = "\n".join([
        "slapd slapd/no_configuration boolean false",
        "slapd slapd/domain string example.org",
        "slapd shared/organization string ICSOE",
        f"slapd slapd/password1 password {admin_pw}",
        f"slapd slapd/password2 password {admin_pw}",
        "slapd slapd/move_old_database boolean true",
        "slapd slapd/purge_database boolean false",
        ""])
    run(["debconf-set-selections"], input=sel)
    say("dpkg-reconfigure slapd (domain example.org)")
    run(["dpkg-reconfigure", "-f", "noninteractive", "slapd"], env=apt_env())
    if not pid_alive(SLAPD_PID):     # policy-rc.d may forbid starting it
        run(["service", "slapd", "start"])
    wait(lambda: pid_alive(SLAPD_PID) and port_open(389), "slapd on :389")


def configure_icsoe(smtp_port):
    """The site's own values, as an admin edits /etc/icsoe/icsoe.conf: a
    web server and icsoectl also need the writer account (schema/README.md,
    "which host needs which file")."""
    with open("/etc/icsoe/icsoe.conf", "a") as f:
        f.write("\n# install test\n"
                "writer_binddn cn=icsoe-writer,dc=example,dc=org\n"
                "writer_bindpw_file /etc/icsoe/writerpw\n"
                f"smtp_url smtp://127.0.0.1:{smtp_port}/install-test\n"
                "mail_from ICSOE <icsoe@example.org>\n"
                "activation_url https://127.0.0.1/icsoe/activar\n")


SNAKEOIL = ("/etc/ssl/certs/ssl-cert-snakeoil.pem",
            "/etc/ssl/private/ssl-cert-snakeoil.key")


def ensure_snakeoil(m):
    """Debian's default-ssl site uses ssl-cert's snakeoil pair; ssl-cert's
    postinst makes it, but some images ship without it."""
    if all(os.path.exists(p) for p in SNAKEOIL):
        return
    run(["make-ssl-cert", "generate-default-snakeoil"])
    m.created.extend(SNAKEOIL)
    say("made the snakeoil certificate (removed again at the end)")


def configure_apache(blocks, backend_port):
    site = "/etc/apache2/sites-available/default-ssl.conf"
    text = open(site).read()
    app = blocks["app"][1].replace("127.0.0.1:9000", f"127.0.0.1:{backend_port}")
    inside = blocks["vhost"][1] + app
    check("</VirtualHost>" in text, f"{site}: no </VirtualHost>")
    head, tail = text.rsplit("</VirtualHost>", 1)
    with open(site, "w") as f:
        f.write(head + inside + "</VirtualHost>" + tail)
    return site, text


def mail_link(maildir):
    def find():
        for path in glob.glob(os.path.join(maildir, "new", "*")):
            msg = email.message_from_binary_file(open(path, "rb"),
                                                 policy=email.policy.default)
            body = msg.get_body(preferencelist=("plain",)).get_content()
            m = LINK.search(body)
            if m:
                return m.group(0)
        return None
    wait(lambda: find() is not None, "the activation mail in the sink")
    return find()


def csrf(r):
    m = CSRF.search(r.text)
    check(m is not None, f"no CSRF field in {r.url} ({r.status_code})")
    return m.group(1)


def walk_https(link):
    warnings.filterwarnings("ignore")          # the snakeoil cert is self-signed
    base = "https://127.0.0.1"
    s = requests.Session()
    s.headers.update(BROWSER)
    # per request: a session's verify=False loses to REQUESTS_CA_BUNDLE
    kw = {"allow_redirects": False, "timeout": 30, "verify": False}
    r = s.get(link, **kw)
    check(r.status_code == 200 and "Guardar" in r.text,
          f"activation page: {r.status_code}")
    token = link.split("t=", 1)[1]
    r = s.post(base + "/icsoe/activar", data={"csrf": csrf(r), "t": token,
               "password": PASSWORD, "password_confirm": PASSWORD}, **kw)
    check(r.status_code == 200 and "se actualizó correctamente" in r.text,
          f"activation POST: {r.status_code} {r.text[:300]}")
    r = s.get(base + "/icsoe/ingresar", **kw)
    check(r.status_code == 200, f"login page: {r.status_code}")
    r = s.post(base + "/icsoe/ingresar", data={"csrf": csrf(r), "curp": CURP,
               "password": PASSWORD}, **kw)
    check(r.status_code == 303, f"login POST: {r.status_code} {r.text[:300]}")
    check(any(c.name.startswith("__Host-") and c.secure for c in s.cookies),
          "no Secure __Host- session cookie after login")
    r = s.get(base + "/informativa/", **kw)
    check(r.status_code == 303 and "/icsoe/contratista" in r.headers.get("Location", ""),
          f"backend before choosing a contractor: {r.status_code}")
    r = s.get(base + "/icsoe/contratista", **kw)
    check(r.status_code == 200 and RFC in r.text, f"selection page: {r.status_code}")
    r = s.post(base + "/icsoe/contratista", data={"csrf": csrf(r), "step": "continuar",
               "rfc": RFC}, **kw)
    check(r.status_code == 303 and r.headers.get("Location", "").endswith("/informativa/"),
          f"selection POST: {r.status_code} {r.headers.get('Location')}")
    r = s.get(base + "/informativa/?format=json", **kw)
    check(r.status_code == 200, f"protected backend: {r.status_code}")
    ident = r.json()["identity"]
    check(ident.get("CURP") == CURP and ident.get("Contratista-RFC") == RFC,
          f"backend identity: {ident}")
    say(f"HTTPS walk: activation, login, selection, backend saw {ident['CURP']} / "
        f"{ident['Contratista-RFC']}")
    anon = requests.get(base + "/informativa/", verify=False, timeout=30,
                        allow_redirects=False, headers=BROWSER)
    check(anon.status_code == 303, f"backend without a session: {anon.status_code}")


def port_80_takes_no_password():
    base = "http://127.0.0.1"
    r = requests.get(base + "/icsoe/ingresar", timeout=30, allow_redirects=False,
                     headers=BROWSER)
    check(r.status_code in (301, 404) and 'name="password"' not in r.text,
          f"port 80 shows the login form ({r.status_code})")
    r = requests.post(base + "/icsoe/ingresar", timeout=30, allow_redirects=False,
                      headers=BROWSER, data={"curp": CURP, "password": PASSWORD})
    check(r.status_code not in (200, 303) and "Set-Cookie" not in r.headers,
          f"port 80 accepted a login POST ({r.status_code})")
    r = requests.get(base + "/informativa/", timeout=30, allow_redirects=False,
                     headers=BROWSER)
    check(r.status_code in (301, 404), f"port 80 serves the application ({r.status_code})")
    say(f"port 80: login page {r.status_code}, login POST refused, no cookie")


def logs_have_no_password():
    for path in glob.glob("/var/log/apache2/*.log"):
        data = open(path, "rb").read()
        check(PASSWORD.encode() not in data, f"{path} contains the password")


def pamtester(service, user, *ops, password=None):
    return run(["pamtester", service, user, *ops], ok=None,
               input=(password + "\n") if password is not None else "")


def pam_checks(m, blocks):
    svc = f"/etc/pam.d/{PAM_SERVICE}"
    with open(svc, "w") as f:
        f.write("@include common-auth\n@include common-account\n"
                "@include common-password\n@include common-session\n")
    m.created.append(svc)
    local_pw = os.urandom(9).hex()
    run(["useradd", "-M", "-N", "-s", "/bin/sh", LOCAL_USER])
    m.user_added = True
    run(["chpasswd"], input=f"{LOCAL_USER}:{local_pw}\n")

    sh_block(blocks, "pam-enable")
    check(all("pam_icsoe" in open(f).read() for f in
              ("/etc/pam.d/common-auth", "/etc/pam.d/common-account")),
          "pam-auth-update --enable icsoe did not add pam_icsoe to common-*")
    check(pamtester(PAM_SERVICE, LOCAL_USER, "authenticate", "acct_mgmt",
                    password=local_pw).returncode == 0,
          "a local user cannot log in through common-* with the profile on")
    check(pamtester(PAM_SERVICE, LOCAL_USER, "authenticate",
                    password="wrong" + local_pw).returncode != 0,
          "a wrong local password was accepted")
    check(run(["su", "-s", "/bin/sh", "-c", "true", LOCAL_USER], ok=None).returncode == 0
          and run(["su", "-c", "true", "root"], ok=None).returncode == 0,
          "root's su fails with the profile on")
    r = pamtester(PAM_SERVICE, CURP, "authenticate", password=PASSWORD)
    check(r.returncode == 0, f"the capturist cannot authenticate through common-auth:\n"
          f"{r.stdout}{r.stderr}")
    check(pamtester(PAM_SERVICE, CURP, "authenticate",
                    password=PASSWORD + "x").returncode != 0,
          "a wrong capturist password was accepted")
    # README: without NSS, common-account refuses the capturist ...
    check(pamtester(PAM_SERVICE, CURP, "acct_mgmt").returncode != 0,
          "common-account accepted a capturist NSS does not know (README says it refuses)")
    # ... and the dedicated service is the alternative
    shutil.copy("/usr/share/icsoe/conf/pam.d/icsoe", "/etc/pam.d/icsoe")
    m.created.append("/etc/pam.d/icsoe")
    r = pamtester("icsoe", CURP, "authenticate", "acct_mgmt", password=PASSWORD)
    check(r.returncode == 0, f"the dedicated service refuses the capturist:\n{r.stdout}{r.stderr}")
    say("PAM: local user, root's su and the capturist log in through common-*; "
        "account via the dedicated service")
    return local_pw


def remove_pam_with_profile_enabled(local_pw):
    say("apt-get remove libpam-icsoe (profile still enabled)")
    run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "remove", "-y", "-q",
         "libpam-icsoe"], env=apt_env())
    check(not os.path.exists("/lib/x86_64-linux-gnu/security/pam_icsoe.so"),
          "pam_icsoe.so still there after removal")
    for f in glob.glob("/etc/pam.d/common-*"):
        check("pam_icsoe" not in open(f).read(), f"{f} still names pam_icsoe")
    check(run(["su", "-c", "true", "root"], ok=None).returncode == 0,
          "root's su fails after removing libpam-icsoe")
    check(pamtester(PAM_SERVICE, LOCAL_USER, "authenticate", "acct_mgmt",
                    password=local_pw).returncode == 0,
          "a local user cannot log in after removing libpam-icsoe")
    say("after removal: common-* clean, root's su and local logins work")


def reinstall_pam(debdir):
    """Back to all three installed (a removed local .deb is unknown to apt,
    so the docs' purge would not find it): dpkg purges what the removal
    left, the package goes in again and must leave common-* alone."""
    run(["dpkg", "--purge", "libpam-icsoe"])
    deb = glob.glob(os.path.join(debdir, "libpam-icsoe_*.deb"))
    run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q", *deb],
        env=apt_env())
    for f in glob.glob("/etc/pam.d/common-*"):
        check("pam_icsoe" not in open(f).read(),
              f"reinstalling libpam-icsoe enabled the profile in {f}")


def main():
    top, srcdir, work = sys.argv[1:4]
    # root's own scratch space, removed at the end (the caller may not be root)
    work = os.path.join(work, "root")
    os.makedirs(work, mode=0o700)
    try:
        return steps(top, srcdir, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def steps(top, srcdir, work):
    blocks = docblocks.load(top)
    for name in ("install-packages", "slapd", "apache", "check", "vhost", "apache-reload", "app", "app-modules",
                 "contractor", "capturist", "pam-enable", "purge"):
        check(name in blocks, f"no doc block marked '{name}'")
    m = Machine(work)
    m.save()
    failure = None
    try:
        install_packages(blocks, srcdir, work)
        configure_slapd(work)
        sh_block(blocks, "slapd")
        maildir = os.path.join(work, "mail")
        smtp_port = free_port()
        m.spawn(["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l",
                 f"127.0.0.1:{smtp_port}", "-c", "aiosmtpd.handlers.Mailbox", maildir])
        wait(lambda: port_open(smtp_port), "the SMTP sink")
        configure_icsoe(smtp_port)
        backend_port = free_port()
        m.spawn(["/usr/bin/python3", os.path.join(top, "examples/backend/informativa_backend.py"),
                 "--port", str(backend_port)])
        wait(lambda: port_open(backend_port), "the sample backend")
        ensure_snakeoil(m)
        sh_block(blocks, "apache")
        sh_block(blocks, "app-modules")
        site, site_text = configure_apache(blocks, backend_port)
        sh_block(blocks, "apache-reload")
        wait(lambda: port_open(443) and pid_alive(APACHE_PID), "apache2 on :443")
        # README's last set-up step: every check passes
        say("icsoectl check:\n" + sh_block(blocks, "check").rstrip())
        sh_block(blocks, "contractor")
        sh_block(blocks, "capturist")
        out = sh_block(blocks, "check")
        check(re.search(r"^ok +quality module", out, re.M),
              f"icsoectl check after the first capturist:\n{out}")
        say("icsoectl check again: the quality module refuses a short password")
        walk_https(mail_link(maildir))
        port_80_takes_no_password()
        logs_have_no_password()
        local_pw = pam_checks(m, blocks)
        remove_pam_with_profile_enabled(local_pw)
        reinstall_pam(os.path.dirname(srcdir))
        # README "Removing": the vhost lines go first, then the packages
        with open(site, "w") as f:
            f.write(site_text)
        sh_block(blocks, "purge", env=admin_env(work))
        check(not os.path.exists("/etc/apache2/mods-enabled/icsoe.load"),
              "the module is still enabled after purge")
        check(not os.path.exists("/etc/apache2/mods-available/icsoe.load"),
              "mods-available/icsoe.load left after purge")
    except Fail as e:
        failure = str(e)
    except BaseException:           # anything else: still put the machine back
        failure = "unexpected error:\n" + traceback.format_exc()
    problems = m.restore()
    if failure:
        say(f"FAILED: {failure}")
    for p in problems:
        say(f"FAILED to restore: {p}")
    if failure or problems:
        return 1
    say("/etc/pam.d/common-* byte-for-byte as before; slapd and apache2 "
        "configuration, data, debconf answers and running state restored; "
        "no process left")
    return 0


def apt_yes(work):
    """The docs' "apt-get purge" as an admin would answer it: yes."""
    path = os.path.join(work, "apt-yes.conf")
    with open(path, "w") as f:
        f.write('APT::Get::Assume-Yes "true";\nDPkg::Lock::Timeout "600";\n')
    return path


def _terminated(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGHUP, _terminated)
    sys.exit(main())
