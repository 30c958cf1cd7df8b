"""A private slapd for one test, built from the project's own schema/ files.

The instance uses slapd.conf (faster than slapadd of cn=config): the stock
core/cosine/nis/inetorgperson schemas (what Debian's slapd loads), schema/icsoe.schema, the ppolicy and
argon2 modules, an mdb database in the work directory, schema/acl-example.conf
and schema/slapd-db-example.conf rendered for the base, then the entries of
schema/ppolicy-default.ldif and schema/bootstrap.ldif added over LDAP (so
ppolicy_hash_cleartext hashes the service and decoy passwords exactly as in
a real installation).  It runs in the foreground as a harness.util.Child and
is ready once a bind succeeds.

mirror_pair() gives two instances in mirror mode (schema/mirror-example.conf
and schema/replicator.ldif): the first is bootstrapped, the second starts
empty and copies it by syncrepl, as a real second node does.
"""
import os
import re
import secrets
import signal
import subprocess
import time

import ldap
import ldap.modlist
from ldap.ldapobject import SimpleLDAPObject

from . import util

BASE = "dc=icsoe,dc=test"
STOCK_SCHEMA = "/etc/ldap/schema"
SLAPD = "/usr/sbin/slapd"
SLAPTEST = "/usr/sbin/slaptest"


def render(text, base, **values):
    """Replace @BASE@ and @KEY@ placeholders of a schema/ template."""
    text = text.replace("@BASE@", base)
    for key, val in values.items():
        text = text.replace(f"@{key.upper()}@", val)
    leftover = [line for line in text.splitlines()
                if not line.startswith("#") and re.search(r"@[A-Z_]+@", line)]
    if leftover:
        raise ValueError(f"unrendered placeholder in: {leftover}")
    return text


def parse_ldif(text):
    """Minimal LDIF reader for our templates: list of (dn, {attr: [bytes]})."""
    entries = []
    unfolded = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if line.startswith(" ") and unfolded:
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    dn, attrs = None, {}
    for line in unfolded + [""]:
        if not line.strip():
            if dn is not None:
                entries.append((dn, attrs))
            dn, attrs = None, {}
            continue
        key, _, val = line.partition(":")
        val = val.lstrip(" ")
        if key == "dn":
            dn = val
        else:
            attrs.setdefault(key, []).append(val.encode())
    return entries


def _decode(entry):
    dn, attrs = entry
    out = {"dn": dn}
    for k, vals in attrs.items():
        out[k] = [v.decode("utf-8", "replace") for v in vals]
    return out


def make_tls_files(d):
    """A throw-away CA and a server certificate for 127.0.0.1 (EC keys, so
    it takes a few milliseconds).  Returns (ca, cert, key) paths."""
    ca, cakey = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    cert, key = os.path.join(d, "server.pem"), os.path.join(d, "server.key")
    csr, ext = os.path.join(d, "server.csr"), os.path.join(d, "server.ext")

    def ossl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", cakey, "-out", ca, "-days", "2", "-subj", "/CN=ICSOE test CA")
    ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key



def ssha(password):
    """{SSHA} value of a password, as slappasswd -h {SSHA} writes it."""
    import base64
    import hashlib
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")

class Slapd:
    def __init__(self, workdir, base=BASE, tls=False, like=None):
        self.workdir = os.fspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.base = base
        self.port = util.free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.rootdn = f"cn=admin,{base}"
        self.rootpw = secrets.token_urlsafe(18)
        # binddn/bindpw: the WRITER (can do everything the code needs, so a
        # hand-written icsoe.conf with just binddn is a working
        # single-account site); reader_dn/reader_pw: the read-only reader
        # (harness.conf.IcsoeConf configures both, as a real site does).
        self.binddn = f"cn=icsoe-writer,{base}"
        self.bindpw = secrets.token_urlsafe(24)
        self.reader_dn = f"cn=icsoe-reader,{base}"
        self.reader_pw = secrets.token_urlsafe(24)
        self.decoy_dn = f"cn=icsoe-decoy,{base}"
        self.decoy_pw = secrets.token_urlsafe(24)
        self.bindpw_file = os.path.join(self.workdir, "bindpw")
        self.conf_path = os.path.join(self.workdir, "slapd.conf")
        self.policy_path = os.path.join(self.workdir, "pwpolicy.conf")
        self.dbdir = os.path.join(self.workdir, "db")
        self.logpath = os.path.join(self.workdir, "slapd.log")
        self.child = None
        self._root = None
        self._loaded = False
        # tls=True: also ldaps:// on ldaps_port, StartTLS on the ldap:// port,
        # certificate for 127.0.0.1 signed by the CA in cacert.
        self.tls = tls
        self.ldaps_port = util.free_port() if tls else None
        self.ldaps_uri = f"ldaps://127.0.0.1:{self.ldaps_port}" if tls else None
        self.cacert = None
        # mirror mode: {"server_id", "rid", "peer_uri", "replicator_pw"}
        # (set by mirror_pair); like= shares the replicated secrets.
        self.mirror = None
        self.bootstrap = True
        if like is not None:
            self.bindpw, self.decoy_pw = like.bindpw, like.decoy_pw
            self.reader_pw = like.reader_pw

    # ---- configuration ----
    def _write_files(self):
        os.makedirs(self.dbdir, exist_ok=True)
        acl = render(open(util.src("schema/acl-example.conf")).read(), self.base)
        dbconf = render(open(util.src("schema/slapd-db-example.conf")).read(), self.base)
        with open(os.path.join(self.workdir, "acl.conf"), "w") as f:
            f.write(acl)
        with open(os.path.join(self.workdir, "db.conf"), "w") as f:
            f.write(dbconf)
        tlsconf = ""
        if self.tls:
            self.cacert, cert, key = make_tls_files(self.workdir)
            tlsconf = (f"TLSCACertificateFile {self.cacert}\n"
                       f"TLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n")
        mirror_global, mirror_db = "", ""
        if self.mirror is not None:
            mirror_global = f"serverID {self.mirror['server_id']}\nmoduleload syncprov\n"
            mirror_db = f"include {self._write_mirror()}\n"
        conf = f"""\
{tlsconf}include {STOCK_SCHEMA}/core.schema
include {STOCK_SCHEMA}/cosine.schema
include {STOCK_SCHEMA}/nis.schema
include {STOCK_SCHEMA}/inetorgperson.schema
include {util.src("schema/icsoe.schema")}
pidfile {self.workdir}/slapd.pid
argsfile {self.workdir}/slapd.args
modulepath /usr/lib/ldap:{os.path.dirname(util.built("slapd_icsoe/icsoe_pwcheck.so"))}
moduleload back_mdb
moduleload ppolicy
moduleload argon2
{mirror_global}password-hash {{ARGON2}}

database mdb
maxsize 67108864
suffix "{self.base}"
rootdn "{self.rootdn}"
rootpw "{self.rootpw}"
directory {self.dbdir}
{mirror_db}include {self.workdir}/acl.conf
include {self.workdir}/db.conf
"""
        with open(self.conf_path, "w") as f:
            f.write(conf)
        # the password_* keys slapd's quality module reads (pwdCheckModuleArg)
        self.write_policy()
        fd = os.open(self.bindpw_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.bindpw + "\n")
        os.chmod(self.bindpw_file, 0o600)

    def _write_mirror(self, peer_uri=None):
        """Renders schema/mirror-example.conf (peer_uri overrides the peer,
        e.g. a closed port to keep this node from catching up)."""
        m = self.mirror
        text = render(open(util.src("schema/mirror-example.conf")).read(), self.base,
                      server_id=str(m["server_id"]), rid=m["rid"],
                      peer_uri=peer_uri or m["peer_uri"],
                      replicator_password=m["replicator_pw"])
        path = os.path.join(self.workdir, "mirror.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def write_policy(self, text="password_min_length 15\npassword_max_length 128\n"):
        """The policy file of the quality module (icsoe.conf syntax, only
        password_* keys matter); read at every check, so a change is live."""
        with open(self.policy_path, "w") as f:
            f.write(text)
        os.chmod(self.policy_path, 0o644)

    def _slaptest(self):
        r = subprocess.run([SLAPTEST, "-u", "-f", self.conf_path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"slaptest failed: {r.stdout}{r.stderr}")

    # ---- lifecycle ----
    def start(self, peer_uri=None):
        first = not self._loaded
        if self.mirror is not None and not first:
            self._write_mirror(peer_uri)
        if first:
            self._write_files()
            self._slaptest()
        urls = f"{self.uri}/" + (f" {self.ldaps_uri}/" if self.tls else "")
        self.child = util.Child([SLAPD, "-d", "stats", "-h", urls,
                                 "-f", self.conf_path], self.logpath, env=self._env())
        util.wait_until(self._can_bind, timeout=10, what=f"slapd on {self.uri}")
        if first:
            if self.bootstrap:
                self._bootstrap()
            self._loaded = True

    @staticmethod
    def _env():
        """slapd loads our quality module (slapd_icsoe): in the sanitizer
        stage that module holds ASan code, whose runtime must come first
        (util.preload)."""
        pre = util.preload()
        if not pre:
            return None
        env = dict(os.environ)
        env["LD_PRELOAD"] = pre
        return env

    def _can_bind(self):
        if not self.child.alive():
            raise RuntimeError("slapd exited:\n" + self.child.read_log()[-3000:])
        try:
            c = self._connect()
            c.simple_bind_s(self.rootdn, self.rootpw)
        except ldap.LDAPError:
            return False
        self._root = c
        return True

    def _connect(self):
        c = SimpleLDAPObject(self.uri)
        c.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
        c.set_option(ldap.OPT_NETWORK_TIMEOUT, 2.0)
        c.set_option(ldap.OPT_TIMEOUT, 5.0)
        return c

    def stop(self):
        if self._root is not None:
            try:
                self._root.unbind_s()
            except ldap.LDAPError:
                pass
            self._root = None
        if self.child is not None:
            self.child.stop(done=b"slapd stopped.")
            self.child = None

    def restart(self):
        self.stop()
        self.start()

    def kill(self, sig=signal.SIGKILL):
        """Kill slapd abruptly (default SIGKILL) and wait for it."""
        if self.child is not None:
            self.child.stop(sig)
            self.child = None
        self._root = None

    # ---- data ----
    def _bootstrap(self):
        # the service passwords are long random secrets: stored as {SSHA}
        # (see schema/bootstrap.ldif) so each service bind costs microseconds
        dc = self.base.split(",")[0].split("=", 1)[1]
        self.add(self.base, {"objectClass": ["dcObject", "organization"],
                             "dc": [dc], "o": ["ICSOE test"]})
        values = {"writer_password_hash": ssha(self.bindpw),
                  "reader_password_hash": ssha(self.reader_pw),
                  "pwcheck_conf": self.policy_path,
                  "decoy_password": self.decoy_pw}
        for name in ("bootstrap.ldif", "ppolicy-default.ldif"):
            text = render(open(util.src(f"schema/{name}")).read(), self.base, **values)
            for dn, attrs in parse_ldif(text):
                self.root().add_s(dn, list(attrs.items()))
        if self.mirror is not None:
            text = render(open(util.src("schema/replicator.ldif")).read(), self.base,
                          replicator_password_hash=ssha(self.mirror["replicator_pw"]))
            for dn, attrs in parse_ldif(text):
                self.root().add_s(dn, list(attrs.items()))

    def root(self):
        """A connection bound as the rootdn (reconnects if needed)."""
        if self._root is None:
            c = self._connect()
            c.simple_bind_s(self.rootdn, self.rootpw)
            self._root = c
        return self._root

    @staticmethod
    def _enc(attrs):
        out = {}
        for k, v in attrs.items():
            if isinstance(v, (str, bytes, int)):
                v = [v]
            out[k] = [x if isinstance(x, bytes) else str(x).encode() for x in v]
        return out

    def add(self, dn, attrs):
        self.root().add_s(dn, list(self._enc(attrs).items()))

    def delete(self, dn):
        self.root().delete_s(dn)

    def modify(self, dn, changes):
        """changes: {attr: value(s)} replaced, value None deletes the attribute;
        or a python-ldap modlist (list of tuples)."""
        if isinstance(changes, dict):
            mods = []
            for k, v in changes.items():
                if v is None:
                    mods.append((ldap.MOD_DELETE, k, None))
                else:
                    mods.append((ldap.MOD_REPLACE, k, self._enc({k: v})[k]))
        else:
            mods = changes
        self.root().modify_s(dn, mods)

    def search(self, filterstr="(objectClass=*)", attrs=None, base=None,
               scope=ldap.SCOPE_SUBTREE):
        """Entries as dicts {'dn': dn, attr: [str, ...]} (operational
        attributes only when named in attrs)."""
        try:
            res = self.root().search_s(base or self.base, scope, filterstr, attrs)
        except ldap.NO_SUCH_OBJECT:
            return []
        return [_decode(e) for e in res if e[0] is not None]

    def get(self, dn, attrs=None):
        """One entry as a dict, or None."""
        res = self.search("(objectClass=*)", attrs, base=dn, scope=ldap.SCOPE_BASE)
        return res[0] if res else None

    def capturist_dn(self, curp):
        return f"uid={curp},ou=capturistas,{self.base}"

    def contractor_dn(self, rfc):
        return f"icsoeRFC={rfc},ou=contratistas,{self.base}"

    def set_policy(self, dn=None, **attrs):
        """Change the default ppolicy entry, e.g. set_policy(pwdMaxFailure=3)."""
        dn = dn or f"cn=default,ou=policies,{self.base}"
        self.modify(dn, {k: (("TRUE" if v else "FALSE") if isinstance(v, bool) else v)
                         for k, v in attrs.items()})

    def can_bind(self, dn, password):
        """True if a simple bind as dn with password succeeds."""
        c = self._connect()
        try:
            c.simple_bind_s(dn, password)
            return True
        except ldap.INVALID_CREDENTIALS:
            return False
        finally:
            try:
                c.unbind_s()
            except ldap.LDAPError:
                pass

    def context_csn(self):
        """The suffix's contextCSN values (sorted), [] when unreadable."""
        try:
            e = self.get(self.base, ["contextCSN"])
        except ldap.LDAPError:
            return []
        return sorted((e or {}).get("contextCSN", []))

    def wait_stopped(self, timeout=5):
        util.wait_until(lambda: not util.port_open(self.port), timeout,
                        what="slapd port closed")
        time.sleep(0)


def mirror_pair(workdir, base=BASE):
    """Two Slapd in mirror mode (not started): ldap1 is bootstrapped,
    ldap2 starts empty.  Start ldap1 first, then ldap2, then wait_in_sync."""
    workdir = os.fspath(workdir)
    a = Slapd(os.path.join(workdir, "ldap1"), base)
    b = Slapd(os.path.join(workdir, "ldap2"), base, like=a)
    pw = secrets.token_urlsafe(24)
    a.mirror = {"server_id": 1, "rid": "001", "peer_uri": b.uri + "/", "replicator_pw": pw}
    b.mirror = {"server_id": 2, "rid": "002", "peer_uri": a.uri + "/", "replicator_pw": pw}
    b.bootstrap = False
    return a, b


def wait_in_sync(*nodes, timeout=20):
    """Until every node has the same non-empty contextCSN."""
    def same():
        csns = [n.context_csn() for n in nodes]
        return csns[0] and all(c == csns[0] for c in csns)
    util.wait_until(same, timeout, what="mirror nodes in sync")
