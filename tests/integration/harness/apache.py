"""A private apache2 with the built mod_icsoe, for one test.

The instance gets its own ServerRoot under the test's temporary directory,
listens on a free 127.0.0.1 port, runs in the foreground as a
harness.util.Child and is checked with "apache2 -t" before it starts (the
httpd test suite and OpenSSH's regress do the same), so a broken
configuration fails with Apache's own message instead of a timeout.

    a = Apache(tmp_path / "apache", conf_snippet=..., modules=("proxy",))
    a.start(); requests.get(a.url("/icsoe/ingresar")); a.stop()

conf_snippet is appended at server level; "@PORT@", "@WORKDIR@" and
"@DOCROOT@" in it are replaced (so a snippet can declare name-based
<VirtualHost 127.0.0.1:@PORT@> blocks).  The module's page locations come
from the project's conf/apache2/icsoe-pages.conf (pages=False leaves them
out, for a test that includes the snippet in a vhost of its own).  When run as root the server drops to www-data like a real
installation, so every directory on the way to ServerRoot is made
traversable (o+x) and the document root readable.
"""
import os
import pwd
import secrets
import shutil
import signal
import subprocess

from . import util

APACHE2 = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"
BASE_MODULES = ("mpm_event", "authz_core", "authn_core", "authz_user", "mime",
                "alias", "dir", "env", "setenvif", "headers")


def module_path(name):
    return os.path.join(MODDIR, f"mod_{name}.so")


def write_key_file(path, mode=0o600, key_hex=None):
    """A session key file: 64 hex digits and a newline."""
    key_hex = key_hex or secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(key_hex + "\n")
    os.chmod(path, mode)
    return path


def _make_traversable(path):
    """o+x on path and its ancestors, so www-data can reach ServerRoot."""
    path = os.path.abspath(path)
    while True:
        st = os.stat(path)
        if not st.st_mode & 0o001:
            os.chmod(path, (st.st_mode & 0o7777) | 0o001)
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent


class Apache:
    def __init__(self, workdir, conf_snippet="", modules=(), load_icsoe=True,
                 icsoe_conf_path=None, key_files=None, server_name="127.0.0.1",
                 extra_env=None, revalidate=None, pages=True):
        self.workdir = os.path.abspath(os.fspath(workdir))
        os.makedirs(self.workdir, exist_ok=True)
        self.conf_snippet = conf_snippet
        self.modules = tuple(modules)
        self.load_icsoe = load_icsoe
        self.server_name = server_name
        self.extra_env = dict(extra_env or {})
        self.revalidate = revalidate
        self.pages = pages
        self.port = util.free_port()
        self.docroot = os.path.join(self.workdir, "htdocs")
        self.rundir = os.path.join(self.workdir, "run")
        self.conf_path = os.path.join(self.workdir, "httpd.conf")
        self.errlog_path = os.path.join(self.workdir, "error.log")
        self.accesslog_path = os.path.join(self.workdir, "access.log")
        self.pidfile = os.path.join(self.rundir, "httpd.pid")
        self.child = None
        os.makedirs(self.docroot, exist_ok=True)
        os.makedirs(self.rundir, exist_ok=True)
        with open(os.path.join(self.docroot, "index.html"), "w") as f:
            f.write("<!DOCTYPE html><title>ok</title><p>ok</p>\n")
        self.icsoe_conf_path = (os.fspath(icsoe_conf_path) if icsoe_conf_path
                                else self._minimal_icsoe_conf())
        if key_files is None:
            key_files = [write_key_file(os.path.join(self.workdir, "session.key"))]
        self.key_files = [os.fspath(k) for k in key_files]
        self.as_root = os.geteuid() == 0

    # ---- configuration ----
    def _minimal_icsoe_conf(self):
        """An icsoe.conf pointing at a closed port: enough for tests that
        never reach LDAP."""
        path = os.path.join(self.workdir, "icsoe.conf")
        with open(path, "w") as f:
            f.write("uri ldap://127.0.0.1:9/\nbase dc=icsoe,dc=test\n"
                    "timeout 2\nsite_name ICSOE\n")
        return path

    def _icsoe_block(self):
        """Our config and key files, then the project's own Apache files as
        a Debian site uses them: mods-available/icsoe.conf (commented
        defaults) and the pages snippet, included at server level here
        (these private servers are plain HTTP with ICSOECookieSecure Off)."""
        out = [f"ICSOEConfigFile {self.icsoe_conf_path}"]
        out += [f"ICSOESessionKeyFile {k}" for k in self.key_files]
        out.append(f"Include {util.src('conf/apache2/icsoe.conf')}")
        if self.pages:
            out.append(f"Include {util.src('conf/apache2/icsoe-pages.conf')}")
        return "\n".join(out) + "\n"

    def _render_snippet(self):
        return (self.conf_snippet.replace("@PORT@", str(self.port))
                .replace("@WORKDIR@", self.workdir)
                .replace("@DOCROOT@", self.docroot))

    def config_text(self):
        mods = list(BASE_MODULES) + [m for m in self.modules if m not in BASE_MODULES]
        lines = [
            f"ServerRoot {self.workdir}",
            f"ServerName {self.server_name}",
            f"Listen 127.0.0.1:{self.port}",
            f"PidFile {self.pidfile}",
            f"ErrorLog {self.errlog_path}",
            "LogLevel notice icsoe:debug",
            f"DefaultRuntimeDir {self.rundir}",
            f"Mutex file:{self.rundir} default",
            "TypesConfig /etc/mime.types",
        ]
        lines += [f"LoadModule {m}_module {module_path(m)}" for m in mods]
        lines += [
            "StartServers 1",
            "ServerLimit 4",
            "ThreadsPerChild 16",
            "MinSpareThreads 4",
            "MaxSpareThreads 48",
            "MaxRequestWorkers 64",
            "ThreadLimit 64",
            'LogFormat "%h %u \\"%r\\" %>s %b" icsoe',
            f"CustomLog {self.accesslog_path} icsoe",
            f"DocumentRoot {self.docroot}",
            f'<Directory "{self.docroot}">',
            "    Require all granted",
            "</Directory>",
        ]
        if "cgid" in mods:
            lines.append(f"ScriptSock {self.rundir}/cgisock")
        if self.as_root:
            lines += ["User www-data", "Group www-data"]
        if self.load_icsoe:
            lines.append(f"LoadModule icsoe_module {util.built('mod_icsoe/mod_icsoe.so')}")
            lines.append("ICSOECookieSecure Off")
            if self.revalidate is not None:
                lines.append(f"ICSOERevalidateInterval {self.revalidate}")
            lines.append(self._icsoe_block())
        lines.append(self._render_snippet())
        return "\n".join(lines) + "\n"

    def write_config(self):
        with open(self.conf_path, "w") as f:
            f.write(self.config_text())
        if self.as_root:
            _make_traversable(self.workdir)
            for root, dirs, files in os.walk(self.docroot):
                for d in dirs:
                    os.chmod(os.path.join(root, d), 0o755)
                for name in files:
                    p = os.path.join(root, name)
                    os.chmod(p, os.stat(p).st_mode | 0o044)
            os.chmod(self.docroot, 0o755)
            try:
                ent = pwd.getpwnam("www-data")
                os.chown(self.rundir, ent.pw_uid, ent.pw_gid)
            except KeyError:
                pass

    def _env(self):
        env = dict(os.environ)
        env.setdefault("LANG", "C")
        env.update(self.extra_env)
        # ICSOE_PRELOAD (the ASan runtime in the sanitizer stage) first
        pre = util.preload(env.get("LD_PRELOAD"))
        if pre:
            env["LD_PRELOAD"] = pre
        return env

    def check_config(self):
        """Write httpd.conf and run "apache2 -t": (returncode, output)."""
        self.write_config()
        r = subprocess.run([APACHE2, "-f", self.conf_path, "-t"],
                           capture_output=True, text=True, env=self._env(),
                           timeout=30)
        return r.returncode, r.stdout + r.stderr

    # ---- lifecycle ----
    def start(self):
        rc, out = self.check_config()
        if rc != 0:
            raise RuntimeError(f"apache2 -t failed ({rc}):\n{out}")
        self.child = util.Child([APACHE2, "-f", self.conf_path, "-DFOREGROUND"],
                                os.path.join(self.workdir, "apache2.out"),
                                env=self._env())
        util.wait_until(self._ready, timeout=15, what=f"apache2 on port {self.port}")
        return self

    def _ready(self):
        if not self.child.alive():
            raise RuntimeError("apache2 exited:\n" + self.child.read_log()[-3000:]
                               + "\n" + self.error_log()[-3000:])
        return util.port_open(self.port)

    def stop(self):
        if self.child is not None:
            self.child.stop(signal.SIGTERM, timeout=15)
            self.child = None

    def graceful(self, conf_snippet=None):
        """Graceful restart (re-reads the configuration, e.g. after a
        new conf_snippet or key list); returns when the new generation
        answers."""
        if conf_snippet is not None:
            self.conf_snippet = conf_snippet
        rc, out = self.check_config()
        if rc != 0:
            raise RuntimeError(f"apache2 -t failed ({rc}):\n{out}")
        before = self.error_log().count("resuming normal operations")
        self.child.signal(signal.SIGUSR1)
        util.wait_until(
            lambda: self.error_log().count("resuming normal operations") > before,
            timeout=15, what="apache2 graceful restart")
        util.wait_until(self._ready, timeout=15, what="apache2 after restart")

    def set_key_files(self, key_files):
        self.key_files = [os.fspath(k) for k in key_files]

    # ---- helpers ----
    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def error_log(self):
        try:
            with open(self.errlog_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def access_log(self):
        try:
            with open(self.accesslog_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, text, timeout=5.0):
        """Wait until text shows up in the error log (it is written by a
        child process, possibly a moment after the response)."""
        util.wait_until(lambda: text in self.error_log(), timeout,
                        what=f"'{text}' in the error log")

    def install(self, src_path, rel, mode=0o755):
        """Copy a file (e.g. a CGI script) under the document root."""
        dst = os.path.join(self.docroot, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src_path, dst)
        os.chmod(dst, mode)
        return dst


# ---- helpers shared by the Apache tests (and bench/p1_protected) ----

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
           "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "none"}
API = {"Accept": "application/json"}

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self'; "
                                "form-action 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

_CURP_ALPHABET = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ"
_RFC_ALPHABET = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ"


def curp(first17):
    """A CURP with its check digit (first17: 17 characters)."""
    assert len(first17) == 17
    total = sum(_CURP_ALPHABET.index(ch) * (18 - i) for i, ch in enumerate(first17))
    return first17 + str((10 - total % 10) % 10)


def rfc(body):
    """An RFC with its SAT check digit (body: 11 characters for a company,
    12 for a person)."""
    assert len(body) in (11, 12)
    padded = body.rjust(12)
    total = sum(_RFC_ALPHABET.index(ch) * (13 - i) for i, ch in enumerate(padded))
    r = total % 11
    digit = "0" if r == 0 else ("A" if 11 - r == 10 else str(11 - r))
    return body + digit


def sealdrv(*args):
    """Run tests/integration/sealdrv; its stdout (stripped)."""
    r = subprocess.run([util.built("tests/integration/sealdrv"), *args],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"sealdrv {args[0]} failed: {r.stderr}")
    return r.stdout.strip()


def seal(key_files, site, curp="", name="", rfc="", contractor_name="",
         epoch=0, issued="now", last_seen="now", validated="now"):
    """A session cookie value sealed like mod_icsoe does."""
    args = ["seal"]
    for k in key_files:
        args += ["--key", os.fspath(k)]
    args += ["--site", site, "--epoch", str(epoch), "--issued", str(issued),
             "--last-seen", str(last_seen), "--validated", str(validated)]
    for opt, val in (("--curp", curp), ("--name", name), ("--rfc", rfc),
                     ("--contractor-name", contractor_name)):
        if val:
            args += [opt, val]
    return sealdrv(*args)


def open_cookie(key_files, site, cookie):
    """The fields of a sealed cookie as a dict, or None if it does not open."""
    args = ["open"]
    for k in key_files:
        args += ["--key", os.fspath(k)]
    args += ["--site", site, cookie]
    r = subprocess.run([util.built("tests/integration/sealdrv"), *args],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        return None
    return dict(line.split("=", 1) for line in r.stdout.splitlines())


def write_icsoe_conf(path, slapd, extra=""):
    """An icsoe.conf for a harness.slapd.Slapd (no mail)."""
    with open(path, "w") as f:
        f.write(f"uri {slapd.uri}\nbase {slapd.base}\nbinddn {slapd.binddn}\n"
                f"bindpw_file {slapd.bindpw_file}\ntimeout 2\nsite_name ICSOE\n"
                + extra)
    return os.fspath(path)


def add_contractor(slapd, rfc_, name):
    slapd.add(slapd.contractor_dn(rfc_), {
        "objectClass": ["icsoeContractor"], "icsoeRFC": rfc_, "o": name})


def add_capturist(slapd, curp_, name, contractors=(), status="active",
                  password=None, epoch=0):
    attrs = {
        "objectClass": ["inetOrgPerson", "icsoeCapturist"],
        "uid": curp_, "cn": name, "sn": name.split()[-1],
        "mail": f"{curp_.lower()}@example.test",
        "icsoeStatus": status, "icsoeEpoch": str(epoch),
    }
    if contractors:
        attrs["icsoeContractorRFC"] = list(contractors)
    if password is not None:
        attrs["userPassword"] = password
    slapd.add(slapd.capturist_dn(curp_), attrs)
