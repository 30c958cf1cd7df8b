"""schema/README.md's cn=config commands on a slapd configured exactly as
Debian's `dpkg-reconfigure slapd` leaves it (issue 12, item 2).

The stock configuration is rendered the way slapd's postinst does it:
/usr/share/slapd/slapd.init.ldif with @SUFFIX@ and @PASSWORD@ replaced,
loaded with `slapadd -F DIR -b cn=config`, then the base entry with
`slapadd -b BASE`.  Only what cannot work without root is moved: the pid,
args and database paths go to the temp dir, and when the test is not run
as root the peer-credential identity of "the local root" is the test's own
uid/gid.  Then the README's fenced block runs literally (paths of the
installed schema and /etc/icsoe mapped to the source tree and a temp dir),
twice."""
import os
import re
import subprocess

import pytest

from harness import util

INIT_LDIF = "/usr/share/slapd/slapd.init.ldif"
BASE = "dc=example,dc=org"          # what the README's block uses
CURP = "GOMC800101HDFRRL09"
ROOT_PEER = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"


def local_admin():
    return f"gidNumber={os.getgid()}+uidNumber={os.getuid()},cn=peercred,cn=external,cn=auth"


def readme_block():
    """The fenced sh block of the "Install into a cn=config server" section."""
    text = open(util.src("schema/README.md")).read()
    sect = text.split("## Install into a `cn=config` server (Debian)", 1)[1]
    m = re.search(r"```sh\n(.*?)```", sect, re.S)
    assert m, "no ```sh block in schema/README.md's cn=config section"
    return m.group(1)


class StockSlapd:
    """A private slapd with Debian's stock cn=config and base entry."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.confdir = tmp / "slapd.d"
        self.dbdir = tmp / "db"
        self.sock = tmp / "ldapi"
        self.ldapi = "ldapi://" + str(self.sock).replace("/", "%2F")
        self.port = util.free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.child = None

    def create(self):
        self.confdir.mkdir()
        self.dbdir.mkdir()
        hashed = subprocess.run(["/usr/sbin/slappasswd", "-s", "admin-secret"],
                                capture_output=True, text=True, check=True).stdout.strip()
        text = open(INIT_LDIF).read()
        # the postinst's two substitutions
        text = text.replace("@SUFFIX@", BASE).replace("@PASSWORD@", hashed)
        # what only root could use
        text = text.replace("/var/run/slapd/", f"{self.tmp}/")
        text = text.replace("olcDbDirectory: /var/lib/ldap", f"olcDbDirectory: {self.dbdir}")
        text = text.replace(ROOT_PEER, local_admin())
        init = self.tmp / "init.ldif"
        init.write_text(text)
        self._slapadd("cn=config", init)
        base = self.tmp / "base.ldif"
        base.write_text(f"dn: {BASE}\nobjectClass: top\nobjectClass: dcObject\n"
                        f"objectClass: organization\no: Example\ndc: example\n")
        self._slapadd(BASE, base)

    def _slapadd(self, suffix, ldif):
        r = subprocess.run(["/usr/sbin/slapadd", "-F", str(self.confdir), "-b", suffix,
                            "-l", str(ldif)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr

    def start(self):
        self.child = util.Child(["/usr/sbin/slapd", "-d", "stats", "-h",
                                 f"{self.ldapi} {self.uri}/", "-F", str(self.confdir)],
                                str(self.tmp / "slapd.log"))
        util.wait_until(lambda: self.ext(["ldapwhoami"], check=False).returncode == 0,
                        10, "slapd on ldapi")

    def stop(self):
        if self.child is not None:
            self.child.stop()
            self.child = None

    def ext(self, argv, input=None, check=True):
        """An ldap* tool as the local admin (SASL EXTERNAL over ldapi)."""
        r = subprocess.run(["/usr/bin/" + argv[0], "-Q", "-Y", "EXTERNAL", "-H", self.ldapi,
                            *argv[1:]], input=input, capture_output=True, text=True)
        if check:
            assert r.returncode == 0, r.stdout + r.stderr
        return r

    def search(self, base, *args, anonymous=False, who=None):
        opts = ["-LLL", "-o", "ldif-wrap=no", "-b", base, *args]
        if anonymous or who:
            bind = ["-x"] + (["-D", who[0], "-w", who[1]] if who else [])
            r = subprocess.run(["/usr/bin/ldapsearch", "-H", self.uri, *bind, *opts],
                               capture_output=True, text=True)
        else:
            r = self.ext(["ldapsearch", *opts], check=False)
        return r


@pytest.fixture
def stock(tmp_path):
    s = StockSlapd(tmp_path)
    s.create()
    s.start()
    yield s
    s.stop()


def run_readme(stock, etc):
    block = readme_block()
    block = block.replace("/usr/share/icsoe/schema", util.src("schema"))
    block = block.replace("/etc/icsoe", str(etc))
    env = dict(os.environ, LDAPURI=stock.ldapi)
    return subprocess.run(["sh", "-e", "-c", block], capture_output=True, text=True, env=env)


def config_state(stock):
    """The cn=config attributes ICSOE touches, without timestamps."""
    r = stock.search("cn=config", "(objectClass=*)")
    assert r.returncode == 0, r.stderr
    keep = [l for l in r.stdout.splitlines()
            if l.startswith(("dn:", "olc")) and not l.startswith("olcRootPW")]
    return keep


def add_capturist(stock):
    stock.ext(["ldapadd"], input=f"""dn: uid={CURP},ou=capturistas,{BASE}
objectClass: inetOrgPerson
objectClass: icsoeCapturist
uid: {CURP}
cn: Carlos Gomez
sn: Gomez
mail: carlos@example.org
icsoeStatus: pending
icsoeEpoch: 0
""")


def test_readme_commands_twice_on_debian_stock_slapd(stock, tmp_path):
    etc = tmp_path / "etc"
    # Debian's stock rules: anonymous reads everything (what the fix closes)
    assert f"dn: {BASE}" in stock.search(BASE, "-s", "base", anonymous=True).stdout

    first = run_readme(stock, etc)
    assert first.returncode == 0, first.stdout + first.stderr + stock.child.read_log()[-2000:]
    assert "index uid: already there" in first.stdout      # Debian's cn,uid eq kept
    assert "ppolicy overlay: added" in first.stdout
    state1 = config_state(stock)

    second = run_readme(stock, etc)
    assert second.returncode == 0, second.stdout + second.stderr
    assert not re.search(r": (added|loaded)$", second.stdout, re.M), second.stdout
    assert "new random password" not in second.stdout
    assert config_state(stock) == state1

    cfg = "\n".join(state1)
    assert "olcPasswordHash: {ARGON2}" in cfg
    assert "olcDbIndex: icsoeTokenHash eq" in cfg
    assert "olcDbIndex: cn,uid eq" in cfg
    assert "olcPPolicyHashCleartext: TRUE" in cfg
    assert "to * by * read" not in cfg

    # anonymous: no capturist, nothing of the tree
    add_capturist(stock)
    anon = stock.search(BASE, f"(uid={CURP})", anonymous=True)
    assert anon.returncode in (0, 32) and "dn:" not in anon.stdout, anon.stdout
    anon = stock.search(BASE, "(objectClass=*)", anonymous=True)
    assert "dn:" not in anon.stdout, anon.stdout

    # the decoy's password is stored hashed, never in clear
    r = stock.search(f"cn=icsoe-decoy,{BASE}", "-s", "base", "userPassword")
    assert r.returncode == 0, r.stderr
    pw = re.search(r"^userPassword:: (\S+)", r.stdout, re.M) or \
        re.search(r"^userPassword: (\S+)", r.stdout, re.M)
    import base64
    value = pw.group(1)
    if r.stdout.count("userPassword:: "):
        value = base64.b64decode(value).decode()
    assert value.startswith("{ARGON2}"), value

    # the service accounts bind with the password files the script wrote:
    # the reader sees the capturist, the writer can change it
    for name in ("bindpw", "writerpw"):
        assert oct((etc / name).stat().st_mode & 0o777) == "0o600"
    reader = (f"cn=icsoe-reader,{BASE}", (etc / "bindpw").read_text().strip())
    writer = (f"cn=icsoe-writer,{BASE}", (etc / "writerpw").read_text().strip())
    svc = stock.search(BASE, f"(uid={CURP})", "cn", who=reader)
    assert svc.returncode == 0 and "cn: Carlos Gomez" in svc.stdout, svc.stdout + svc.stderr
    r = subprocess.run(["/usr/bin/ldapmodify", "-x", "-H", stock.uri, "-D", writer[0],
                        "-w", writer[1]],
                       input=f"dn: uid={CURP},ou=capturistas,{BASE}\nchangetype: modify\n"
                       "replace: mail\nmail: otro@example.org\n", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["/usr/bin/ldapmodify", "-x", "-H", stock.uri, "-D", reader[0],
                        "-w", reader[1]],
                       input=f"dn: uid={CURP},ou=capturistas,{BASE}\nchangetype: modify\n"
                       "replace: mail\nmail: reader@example.org\n", capture_output=True, text=True)
    assert r.returncode == 50, r.stdout + r.stderr     # insufficientAccess

    # the local root still manages the tree over ldapi (read passwords,
    # change and delete entries) without the rootdn password
    stock.ext(["ldapmodify"], input=f"dn: uid={CURP},ou=capturistas,{BASE}\n"
              "changetype: modify\nreplace: cn\ncn: Carlos G\n")
    stock.ext(["ldapdelete", f"uid={CURP},ou=capturistas,{BASE}"])
    stock.ext(["ldapmodify"], input=f"dn: cn=default,ou=policies,{BASE}\n"
              "changetype: modify\nreplace: pwdMaxFailure\npwdMaxFailure: 4\n")


def test_setup_refuses_unknown_suffix_before_writing(stock, tmp_path):
    env = dict(os.environ, LDAPURI=stock.ldapi)
    before = config_state(stock)
    r = subprocess.run(["sh", util.src("schema/icsoe-slapd-setup"), "-r",
                        str(tmp_path / "pw"), "dc=nowhere,dc=org"],
                       capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "no database with suffix dc=nowhere,dc=org" in r.stderr
    assert config_state(stock) == before
    assert not (tmp_path / "pw").exists()
    r = subprocess.run(["sh", util.src("schema/icsoe-slapd-setup"), "dc=x)(cn=*"],
                       capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "only letters" in r.stderr
    assert config_state(stock) == before


def _acl_rules_conf():
    rules = []
    for line in open(util.src("schema/acl-example.conf")):
        if line.startswith("access to"):
            rules.append(line[len("access "):].strip())
        elif line.startswith("\t") and line.strip().startswith("by") and rules:
            rules[-1] += " " + line.strip()
    return rules


def test_cn_config_rules_match_slapd_conf_form(stock, tmp_path):
    """db-config.ldif (cn=config) and acl-example.conf (slapd.conf) carry the
    same rules; the local-admin rule names whoever ran the setup."""
    r = run_readme(stock, tmp_path / "etc")
    assert r.returncode == 0, r.stdout + r.stderr
    out = stock.search("olcDatabase={1}mdb,cn=config", "-s", "base", "olcAccess").stdout
    db = [l for l in out.splitlines() if l.startswith("olcAccess: {")]
    acl = [l.split("}", 1)[1] for l in db]
    expected = [x.replace("@BASE@", BASE).replace(ROOT_PEER, local_admin())
                for x in _acl_rules_conf()]
    assert [" ".join(a.split()) for a in acl] == [" ".join(e.split()) for e in expected]


def older_schema():
    """icsoe.ldif as an earlier release shipped it: without icsoeLockNotice."""
    text = open(util.src("schema/icsoe.ldif")).read()
    out, skip = [], False
    for line in text.splitlines():
        if line.startswith("olcAttributeTypes:") or line.startswith("olcObjectClasses:"):
            skip = "'icsoeLockNotice'" in line
        elif not line.startswith(" "):
            skip = False
        if not skip:
            out.append(line)
    text = "\n".join(out) + "\n"
    text = text.replace(" $\n  icsoeLockNotice ) )", " ) )")
    assert "icsoeLockNotice" not in text
    return text


def test_rerun_upgrades_an_older_schema_and_keeps_the_entries(stock, tmp_path):
    stock.ext(["ldapadd"], input=older_schema())
    first = run_readme(stock, tmp_path / "etc")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "schema icsoe: updated (added: icsoeLockNotice)" in first.stdout, first.stdout
    add_capturist(stock)
    stock.ext(["ldapmodify"], input=f"dn: uid={CURP},ou=capturistas,{BASE}\n"
              "changetype: modify\nadd: icsoeLockNotice\nicsoeLockNotice: 20261125120000Z\n")
    again = run_readme(stock, tmp_path / "etc")
    assert again.returncode == 0 and "schema icsoe: already loaded" in again.stdout
    r = stock.search(f"uid={CURP},ou=capturistas,{BASE}", "-s", "base", "icsoeLockNotice")
    assert "icsoeLockNotice: 20261125120000Z" in r.stdout
