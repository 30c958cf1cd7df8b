"""An "internal host" for the ssh stage: a private slapd (TLS), nslcd and a
real OpenSSH sshd with the project's PAM stack, all run as root inside a
private mount namespace so the machine's own files are never touched.

Inside the namespace (unshare --mount --propagation private):
  /run                 a fresh tmpfs (so /run/sshd, /run/nslcd/socket, utmp
                       and any nscd socket are private)
  /etc/nsswitch.conf   the machine's file with "ldap" added to passwd and
                       group (the sed of docs/ssh.md)
  /etc/nslcd.conf      conf/nss/nslcd.conf rendered for the private slapd
  /etc/pam.d/sshd      conf/pam.d/sshd with the built pam_icsoe.so
  /var/log/{wt,bt}mp, lastlog   empty private copies (sshd records logins)
  /etc/passwd, /etc/shadow      the machine's, plus one local user
                       (LOCAL_USER) with a password, to show local
                       accounts keep logging in through pam_unix
nslcd runs there (as user nslcd), then sshd -D -e with its own config that
includes conf/ssh/sshd_config.d/icsoe.conf, its own host key and a private
AuthorizedKeysFile for root.
"""
import os
import re
import shutil
import subprocess
import tempfile

from harness import util

SSHD = "/usr/sbin/sshd"
NSLCD = "/usr/sbin/nslcd"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
PAM_DIR = "/etc/pam.d"
# Login records sshd writes: replaced by private empty files when present.
LOGIN_RECORDS = ("/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog")
# NSS edit of docs/ssh.md (the command an administrator runs, on a copy).
NSSWITCH_SED = r"/^\(passwd\|group\):/ s/$/ ldap/"
# A local account (in the private /etc/passwd and /etc/shadow only).
LOCAL_USER = "operador"
LOCAL_UID = 4242
LOCAL_PASSWORD = "clave-local-del-operador"


def render_pam(text, module, config, contratista=None):
    """conf/pam.d/sshd with pam_icsoe.so named by path and config=, and
    contratista= on the account line when the host is restricted."""
    out = []
    for line in text.splitlines():
        if not line.startswith("#") and "pam_icsoe.so" in line:
            line = line.replace("pam_icsoe.so", f"{module} config={config}")
            if contratista and line.startswith("account"):
                line += f" contratista={contratista}"
        out.append(line)
    return "\n".join(out) + "\n"


def render_nslcd(text, slapd, uid_min):
    # the READER service account: NSS never writes
    values = {"URI": f"{slapd.ldaps_uri}/", "BASE": slapd.base, "BINDDN": slapd.reader_dn,
              "BINDPW": slapd.reader_pw, "SSL": "on", "CACERT": slapd.cacert,
              "UID_MIN": str(uid_min)}
    for k, v in values.items():
        text = text.replace(f"@{k}@", v)
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise ValueError(f"conf/nss/nslcd.conf: unrendered {left}")
    return text


class SshHost:
    def __init__(self, workdir, slapd, icsoe_conf, uid_min):
        self.w = workdir
        self.slapd = slapd
        self.icsoe_conf = icsoe_conf
        self.port = util.free_port()
        self.module = util.built("pam_icsoe/pam_icsoe.so")
        self.pam_text = open(util.src("conf/pam.d/sshd")).read()
        self.pam_file = os.path.join(self.w, "pam.d-sshd")
        self.child = None
        self._write_nss(uid_min)
        self._write_local_user()
        self.restrict(None)
        self._write_sshd()

    # ---- files ----
    def _write_nss(self, uid_min):
        text = render_nslcd(open(util.src("conf/nss/nslcd.conf")).read(), self.slapd,
                            uid_min)
        self.nslcd_conf = os.path.join(self.w, "nslcd.conf")
        fd = os.open(self.nslcd_conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.nsswitch = os.path.join(self.w, "nsswitch.conf")
        shutil.copyfile("/etc/nsswitch.conf", self.nsswitch)
        subprocess.run(["sed", "-i", NSSWITCH_SED, self.nsswitch], check=True)
        # nslcd (user nslcd) reads the CA through the work directory
        os.chmod(self.slapd.cacert, 0o644)

    def _write_local_user(self):
        """Private copies of /etc/passwd and /etc/shadow with LOCAL_USER
        (home inside the work directory: pam_mkhomedir creates it)."""
        self.local_home = os.path.join(self.w, "local-home")
        h = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=LOCAL_PASSWORD,
                           capture_output=True, text=True, check=True).stdout.strip()
        self.passwd = os.path.join(self.w, "passwd")
        self.shadow = os.path.join(self.w, "shadow")
        with open("/etc/passwd") as f:
            text = f.read()
        with open(self.passwd, "w") as f:
            f.write(text + f"{LOCAL_USER}:x:{LOCAL_UID}:{LOCAL_UID}:Operador local:"
                    f"{self.local_home}:/bin/sh\n")
        os.chmod(self.passwd, 0o644)
        with open("/etc/shadow") as f:
            text = f.read()
        fd = os.open(self.shadow, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        with os.fdopen(fd, "w") as f:
            f.write(text + f"{LOCAL_USER}:{h}:19000:0:99999:7:::\n")

    def restrict(self, contratista):
        """Rewrite the PAM file in place (same inode: the bind mount sees
        it; sshd reads it at each connection)."""
        with open(self.pam_file, "w") as f:
            f.write(render_pam(self.pam_text, self.module, self.icsoe_conf, contratista))

    def _write_sshd(self):
        w = self.w
        self.hostkey = os.path.join(w, "ssh_host_ed25519_key")
        subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", self.hostkey],
                       check=True)
        self.rootkey = os.path.join(w, "root_id_ed25519")
        subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", self.rootkey],
                       check=True)
        akdir = os.path.join(w, "authorized_keys")
        os.makedirs(akdir, exist_ok=True)
        shutil.copyfile(self.rootkey + ".pub", os.path.join(akdir, "root"))
        self.sshd_config = os.path.join(w, "sshd_config")
        with open(self.sshd_config, "w") as f:
            f.write(f"""# private sshd of the ssh stage (tests/ssh/sshhost.py)
Include {util.src("conf/ssh/sshd_config.d/icsoe.conf")}
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.hostkey}
PidFile {w}/sshd.pid
PermitRootLogin prohibit-password
# the test's keys live in a temporary directory below /tmp (world-writable)
AuthorizedKeysFile {akdir}/%u
StrictModes no
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel VERBOSE
""")

    # ---- lifecycle ----
    def _namespace_script(self):
        w = self.w
        binds = [(self.nsswitch, "/etc/nsswitch.conf"), (self.nslcd_conf, "/etc/nslcd.conf"),
                 (self.pam_file, f"{PAM_DIR}/sshd"), (self.passwd, "/etc/passwd"),
                 (self.shadow, "/etc/shadow")]
        for rec in LOGIN_RECORDS:
            if os.path.exists(rec):
                priv = os.path.join(w, os.path.basename(rec))
                open(priv, "wb").close()
                binds.append((priv, rec))
        lines = ["set -e", "mount -t tmpfs -o mode=0755 icsoe-run /run",
                 "mkdir -p /run/sshd /run/nslcd", "chown nslcd:nslcd /run/nslcd"]
        lines += [f"mount --bind '{s}' '{d}'" for s, d in binds]
        # sshd -t first (OpenSSH's regress does the same): a config error is
        # reported as such, not as a port that never opens
        lines += [f"{SSHD} -t -f {self.sshd_config}", f"{NSLCD} -n &",
                  "i=0; while [ ! -S /run/nslcd/socket ]; do",
                  "  i=$((i+1)); [ $i -lt 300 ] || { echo 'nslcd did not start' >&2; exit 1; }",
                  "  sleep 0.05; done",
                  f"exec {SSHD} -D -e -f {self.sshd_config}"]
        return "\n".join(lines)

    def start(self):
        for target in ("/etc/nslcd.conf", f"{PAM_DIR}/sshd"):
            if not os.path.exists(target):
                raise RuntimeError(f"{target} missing: is the package installed? "
                                   "(scripts/deps ssh)")
        self.logpath = os.path.join(self.w, "sshd.log")
        self.child = util.Child(["unshare", "--mount", "--propagation", "private",
                                 "sh", "-c", self._namespace_script()], self.logpath)
        util.wait_until(self._up, timeout=20, what=f"sshd on 127.0.0.1:{self.port}")

    def _up(self):
        if not self.child.alive():
            raise RuntimeError("sshd/nslcd exited:\n" + self.child.read_log()[-3000:])
        return util.port_open(self.port)

    def stop(self):
        if self.child is not None:
            self.child.stop()
            self.child = None

    def in_namespace(self, *argv):
        """Run argv inside the host's mount namespace (getent, id)."""
        pid = self.sshd_pid()
        return subprocess.run(["nsenter", "--mount", f"--target={pid}", *argv],
                              capture_output=True, text=True, timeout=30)

    def sshd_pid(self):
        with open(os.path.join(self.w, "sshd.pid")) as f:
            return int(f.read().strip())

    def log(self):
        return self.child.read_log() if self.child else open(self.logpath).read()


def workdir():
    """A root-owned 0755 temporary directory (capturists' homes live below
    it, so their uid must be able to traverse it)."""
    w = tempfile.mkdtemp(prefix="icsoe-ssh-")
    os.chmod(w, 0o755)
    return w
