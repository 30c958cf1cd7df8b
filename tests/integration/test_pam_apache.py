"""pam_icsoe works for any PAM-aware service: Apache's mod_authnz_pam
(Debian libapache2-mod-authnz-pam) protects a URL with HTTP Basic through
the icsoe PAM service.

A private apache2 runs in the foreground with pam_wrapper preloaded, so the
service file comes from a private directory.  Started as root, its
children run as www-data like a real installation, so everything they read
lives in a world-traversable directory and the secret files of icsoe.conf
are copies owned by www-data (mode 0600, as the configuration loader
demands).  Started by an ordinary user, Apache cannot change user: the
children run as that user, who then owns the copies."""
import os
import pwd
import re
import shutil
import subprocess
import tempfile

import pytest
import requests

from harness import util
from harness.pam import PAM_WRAPPER, PamEnv, add_capturist, add_contractor, curp

CURP = curp("GOPJ800101HDFRRN0")
OTHER = curp("LOSM750404MDFPNR0")
PW = "caballo correcto bateria 7"
RFC1 = "ABC010203AB1"
RFC2 = "XYZ9801019Z3"
MODULES = "/usr/lib/apache2/modules"
APACHE = "/usr/sbin/apache2"


def server_user():
    """Who Apache's children run as: www-data when we are root (Apache
    switches user), else ourselves (it cannot)."""
    if os.geteuid() == 0:
        return "www-data"
    return pwd.getpwuid(os.geteuid()).pw_name


def own_conf(conf_path, workdir, user):
    """Copy icsoe.conf for `user`: every file it names that lives outside
    workdir is copied in, secret ones owned by user with mode 0600."""
    pw = pwd.getpwnam(user)
    lines = []
    with open(conf_path) as f:
        for line in f:
            m = re.match(r"^(\s*\S+\s+)(/\S+)\s*$", line)
            if m and os.path.isfile(m.group(2)):
                dst = os.path.join(workdir, os.path.basename(m.group(2)))
                shutil.copyfile(m.group(2), dst)
                os.chown(dst, pw.pw_uid, pw.pw_gid)
                os.chmod(dst, 0o600)
                line = f"{m.group(1)}{dst}\n"
            lines.append(line)
    path = os.path.join(workdir, "icsoe.conf")
    with open(path, "w") as f:
        f.writelines(lines)
    os.chmod(path, 0o644)
    return path


class PamApache:
    def __init__(self, workdir, pam_dir, user):
        self.workdir = workdir
        self.port = util.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.user = user
        self.pam_dir = pam_dir
        docroot = os.path.join(workdir, "htdocs")
        os.makedirs(os.path.join(docroot, "privado"))
        with open(os.path.join(docroot, "privado", "hola.txt"), "w") as f:
            f.write("hola capturista\n")
        run = os.path.join(workdir, "run")
        os.makedirs(run)
        shutil.chown(run, user)
        self.conf = os.path.join(workdir, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write(f"""\
ServerRoot {workdir}
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
PidFile {run}/httpd.pid
ErrorLog {workdir}/error.log
LogLevel warn authnz_pam:debug
DefaultRuntimeDir {run}
Mutex file:{run}
{self._user_lines()}
TypesConfig /etc/mime.types
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule alias_module {MODULES}/mod_alias.so
LoadModule auth_basic_module {MODULES}/mod_auth_basic.so
LoadModule authnz_pam_module {MODULES}/mod_authnz_pam.so
LoadModule mime_module {MODULES}/mod_mime.so
LogFormat "%>s %u" user
CustomLog {workdir}/access.log user
DocumentRoot {docroot}
<Directory {docroot}>
    Require all granted
</Directory>
<Location /privado>
    AuthType Basic
    AuthName "ICSOE"
    AuthBasicProvider PAM
    AuthPAMService icsoe
    Require valid-user
</Location>
<Location /contratista2>
    AuthType Basic
    AuthName "ICSOE"
    AuthBasicProvider PAM
    AuthPAMService icsoe-rfc2
    Require valid-user
</Location>
Alias /contratista2 {docroot}/privado
""")
        self.child = None

    def _user_lines(self):
        if os.geteuid() != 0:
            return "# not root: the children run as the user who started Apache"
        return f"User {self.user}\nGroup {self.user}"

    def env(self):
        e = dict(os.environ)
        # util.preload puts ICSOE_PRELOAD (ASan runtime) before pam_wrapper
        e.update({"LD_PRELOAD": util.preload(PAM_WRAPPER), "PAM_WRAPPER": "1",
                  "PAM_WRAPPER_SERVICE_DIR": self.pam_dir})
        return e

    def start(self):
        t = subprocess.run([APACHE, "-f", self.conf, "-t"], capture_output=True,
                           text=True)
        assert t.returncode == 0, t.stdout + t.stderr
        self.child = util.Child([APACHE, "-f", self.conf, "-DFOREGROUND"],
                                os.path.join(self.workdir, "stdout.log"),
                                env=self.env())
        util.wait_until(lambda: util.port_open(self.port), timeout=10,
                        what="apache2 listening")

    def stop(self):
        if self.child is not None:
            self.child.stop()

    def error_log(self):
        with open(os.path.join(self.workdir, "error.log"), errors="replace") as f:
            return f.read()


@pytest.fixture
def pam_apache(slapd, icsoe_conf):
    if not os.path.exists(f"{MODULES}/mod_authnz_pam.so"):
        pytest.fail("mod_authnz_pam missing: apt-get install libapache2-mod-authnz-pam")
    add_contractor(slapd, RFC1)
    add_contractor(slapd, RFC2, name="Otra Contratista SC")
    add_capturist(slapd, CURP, PW, contractors=[RFC1])
    add_capturist(slapd, OTHER, PW, contractors=[RFC2], cn="Sofía López Mena",
                  sn="López Mena")
    # pytest's tmp_path is not traversable by www-data: use a 0755 dir.
    workdir = tempfile.mkdtemp(prefix="icsoe-pam-apache-")
    os.chmod(workdir, 0o755)
    try:
        user = server_user()
        conf = own_conf(icsoe_conf.path, workdir, user)
        env = PamEnv(os.path.join(workdir, "pam"), conf)
        env.service("icsoe")
        env.service("icsoe-rfc2", account=f"contratista={RFC2}")
        for root, dirs, files in os.walk(os.path.join(workdir, "pam")):
            os.chmod(root, 0o755)
            for name in files:
                os.chmod(os.path.join(root, name), 0o644)
        a = PamApache(workdir, env.dir, user)
        a.start()
        try:
            yield a
        finally:
            a.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_basic_auth_through_pam_admits_a_capturist(pam_apache):
    url = pam_apache.url + "/privado/hola.txt"
    r = requests.get(url, timeout=30)
    assert r.status_code == 401
    assert "Basic" in r.headers.get("WWW-Authenticate", "")
    r = requests.get(url, auth=(CURP, PW), timeout=30)
    assert r.status_code == 200, pam_apache.error_log()[-3000:]
    assert r.text == "hola capturista\n"


def test_basic_auth_user_names_with_control_characters_are_refused(pam_apache):
    """mod_authnz_pam's REMOTE_USER once could be "CURP\\n" (issue 13,
    defect 2): such names are refused now.  A lower-case CURP is admitted;
    mod_authnz_pam keeps the name as typed in REMOTE_USER (it does not read
    PAM_USER back, documented in pam_icsoe(8))."""
    url = pam_apache.url + "/privado/hola.txt"
    for user in (CURP + "\n", "\t" + CURP, CURP + "\r", f" {CURP.lower()} "):
        assert requests.get(url, auth=(user, PW), timeout=30).status_code == 401
    r = requests.get(url, auth=(CURP.lower(), PW), timeout=30)
    assert r.status_code == 200
    pam_apache.stop()
    with open(os.path.join(pam_apache.workdir, "access.log")) as f:
        admitted = [line.split(" ", 1)[1].rstrip("\n") for line in f
                    if line.startswith("200 ")]
    assert admitted == [CURP.lower()], admitted


def test_basic_auth_through_pam_refuses_a_wrong_password(pam_apache):
    url = pam_apache.url + "/privado/hola.txt"
    r = requests.get(url, auth=(CURP, "no es la contraseña"), timeout=30)
    assert r.status_code == 401
    r = requests.get(url, auth=("NO-ES-CURP", PW), timeout=30)
    assert r.status_code == 401
    assert PW not in pam_apache.error_log()


def test_account_step_runs_too(pam_apache):
    """mod_authnz_pam also calls pam_acct_mgmt: contratista= applies."""
    url = pam_apache.url + "/contratista2/hola.txt"
    assert requests.get(url, auth=(OTHER, PW), timeout=30).status_code == 200
    assert requests.get(url, auth=(CURP, PW), timeout=30).status_code == 401
