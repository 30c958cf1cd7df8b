"""A real MTA for the mail tests: Debian's exim4 (exim4-daemon-light) run
privately, like slapd and apache2 here: its own config, spool, log and
Maildir in a temporary directory, two free ports on 127.0.0.1.

    mta = Exim(tmp_path)          # or Exim(tmp_path, tls_broken=True)
    mta.start()
    conf: smtp_url = mta.url (STARTTLS) or mta.smtps_url (TLS on connect),
          smtp_user = mta.user, smtp_pass_file = mta.pass_file,
          smtp_tls_cacertfile = mta.ca
    msgs = mta.wait_for(1)        # [email.message.EmailMessage] from the Maildir
    mta.log()                     # exim's own log (what it received, whom it refused)
    mta.stop()

What it does, as a relay a site would really have:
- STARTTLS on mta.port, TLS on connect (SMTPS) on mta.smtps_port, with a
  server certificate for localhost/127.0.0.1 signed by a private CA made
  here with openssl (mta.ca): not in the system store, so a client must be
  told to trust it.
- AUTH PLAIN and LOGIN, advertised only inside TLS; MAIL FROM needs AUTH.
- RCPT TO rechazado@... -> "550 5.1.1", ocupado@... -> "451 4.3.0"; every
  other recipient is delivered to one Maildir the tests read.
- tls_broken=True: a relay whose TLS is broken. It still advertises
  STARTTLS but answers it "454 TLS currently unavailable"; it advertises
  AUTH in clear and accepts mail without it, so a client that fell back to
  clear text would hand over its password and the link (the log shows it).

Privileges: exim with -C and a config that is not in its trusted list drops
root for an ordinary caller and then runs as that caller, so exim_user and
the delivery user are the invoking user.  Run as root, exim keeps root to
receive, but Debian's exim refuses to deliver as root (fixed never_users),
so the Maildir is written as "nobody": the work directory is then made under
/tmp (not in pytest's 0700 tree) and the Maildir handed to nobody.  Nothing
of the system's exim (config, spool, service, user) is used."""
import grp
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile

from . import util
from .maildir import MaildirReader

EXIM = "/usr/sbin/exim4"
OPENSSL = "/usr/bin/openssl"
REFUSED = "rechazado"   # local part answered 550 5.1.1
BUSY = "ocupado"        # local part answered 451 4.3.0


def _run(argv, cwd):
    p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{p.stderr}")


def make_ca(directory, name="ICSOE test CA"):
    """A private CA (ca.crt, ca.key) and a certificate for localhost and
    127.0.0.1 it signed (server.crt, server.key), all in directory."""
    d = os.fspath(directory)
    os.makedirs(d, exist_ok=True)
    _run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
          "-subj", f"/CN={name}", "-keyout", "ca.key", "-out", "ca.crt"], d)
    _run([OPENSSL, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
          "-keyout", "server.key", "-out", "server.csr"], d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _run([OPENSSL, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt",
          "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
          "-out", "server.crt"], d)
    return os.path.join(d, "ca.crt")


_CONF = """\
# written by tests/integration/harness/mta.py
exim_user = @USER@
exim_group = @GROUP@
primary_hostname = mta.icsoe.test
qualify_domain = icsoe.test
spool_directory = @DIR@/spool
log_file_path = @DIR@/log/%slog
pid_file_path = @DIR@/exim.pid
daemon_smtp_ports = @PORT@ : @SMTPS_PORT@
tls_on_connect_ports = @SMTPS_PORT@
local_interfaces = <; 127.0.0.1
tls_advertise_hosts = *
tls_certificate = @TLS_CERT@
tls_privatekey = @TLS_KEY@
host_lookup =
rfc1413_hosts =
keep_environment =
queue_run_in_order = false
log_selector = +smtp_connection +smtp_protocol_error +smtp_syntax_error \\
  +received_recipients +tls_cipher +incoming_port +incoming_interface
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt

begin acl
acl_mail:
@MAIL_ACL@
  accept
acl_rcpt:
  deny    local_parts = @REFUSED@
          message = 550 5.1.1 <$local_part@$domain>: no such mailbox here
  defer   local_parts = @BUSY@
          message = 451 4.3.0 mailbox busy, try again later
  accept

begin routers
to_maildir:
  driver = accept
  transport = maildir

begin transports
maildir:
  driver = appendfile
  directory = @MAILDIR@
  maildir_format
  create_directory
  mode = 0644
  user = @DELIVER_USER@
  group = @DELIVER_GROUP@

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and{{eq{$auth2}{@AUTH_USER@}}{eq{$auth3}{@AUTH_PASS@}}}}
  server_set_id = $auth2
@ADVERTISE@

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = <| Username: | Password:
  server_condition = ${if and{{eq{$auth1}{@AUTH_USER@}}{eq{$auth2}{@AUTH_PASS@}}}}
  server_set_id = $auth1
@ADVERTISE@
"""


class Exim(MaildirReader):
    def __init__(self, workdir, tls_broken=False, mechanisms=("PLAIN", "LOGIN")):
        self.workdir = os.fspath(workdir)   # CA, client-side files
        self.tls_broken = tls_broken
        self.mechanisms = mechanisms        # the AUTH mechanisms offered
        self.user = "icsoe-relay"
        # letters and digits only: it goes into exim's config unquoted
        self.password = secrets.token_hex(16)
        self.pass_file = None
        self.ca = None
        self.port = self.smtps_port = None
        self.url = self.smtps_url = None
        self.dir = None
        self.maildir = None
        self.child = None
        self.conf = None

    # ---- life cycle ----
    def _private_dir(self):
        if os.geteuid() != 0:
            return tempfile.mkdtemp(prefix="icsoe-exim-", dir=self.workdir)
        # root: deliveries run as nobody, who must reach the Maildir
        d = tempfile.mkdtemp(prefix="icsoe-exim-")
        os.chmod(d, 0o711)
        return d

    def _identity(self):
        me = pwd.getpwuid(os.getuid()).pw_name
        mygroup = grp.getgrgid(os.getgid()).gr_name
        if os.geteuid() != 0:
            return me, mygroup, me, mygroup
        nobody = pwd.getpwnam("nobody")
        return me, mygroup, "nobody", grp.getgrgid(nobody.pw_gid).gr_name

    def write_config(self):
        user, group, duser, dgroup = self._identity()
        cert = os.path.join(self.workdir, "ca", "server.crt")
        key = os.path.join(self.workdir, "ca", "server.key")
        if self.tls_broken:
            cert = key = os.path.join(self.dir, "no-such-certificate.pem")
            advertise = "  server_advertise_condition = true"
            mail_acl = ""
        else:
            advertise = "  server_advertise_condition = ${if def:tls_in_cipher}"
            mail_acl = ("  deny    !authenticated = *\n"
                        "          message = 530 5.7.0 authentication required")
        values = {
            "USER": user, "GROUP": group, "DELIVER_USER": duser,
            "DELIVER_GROUP": dgroup, "DIR": self.dir, "MAILDIR": self.maildir,
            "PORT": self.port, "SMTPS_PORT": self.smtps_port, "TLS_CERT": cert,
            "TLS_KEY": key, "REFUSED": REFUSED, "BUSY": BUSY,
            "AUTH_USER": self.user, "AUTH_PASS": self.password,
            "ADVERTISE": advertise, "MAIL_ACL": mail_acl,
        }
        text = _CONF
        for k, v in values.items():
            text = text.replace(f"@{k}@", str(v))
        # drop the authenticators not offered
        for name in ("PLAIN", "LOGIN"):
            if name not in self.mechanisms:
                head = f"{name.lower()}:\n  driver = plaintext\n"
                start = text.index(head)
                end = text.find("\n\n", start)
                text = text[:start] + (text[end + 2:] if end >= 0 else "")
        path = os.path.join(self.dir, "exim.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.ca = make_ca(os.path.join(self.workdir, "ca"))
        self.pass_file = os.path.join(self.workdir, "smtp_pass")
        fd = os.open(self.pass_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.password + "\n")
        self.dir = self._private_dir()
        for sub in ("spool", "log"):
            os.makedirs(os.path.join(self.dir, sub))
        self.maildir = os.path.join(self.dir, "Maildir")
        os.makedirs(self.maildir)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.maildir, nobody.pw_uid, nobody.pw_gid)
            # exim (root) reads the key; nobody never needs it
        self.port = util.free_port()
        self.smtps_port = util.free_port()
        while self.smtps_port == self.port:
            self.smtps_port = util.free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.smtps_url = f"smtps://127.0.0.1:{self.smtps_port}"
        conf = self.write_config()
        # like apache2 -t: a config error is reported as such
        check = subprocess.run([EXIM, "-C", conf, "-bV"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"exim -bV refused {conf}:\n{check.stdout}{check.stderr}")
        self.conf = conf
        self.resume()
        return self

    def resume(self):
        """(Re)start the daemon on the same ports, spool and Maildir."""
        self.child = util.Child([EXIM, "-C", self.conf, "-bdf"],
                                os.path.join(self.dir, "exim.out"))

        def up():
            if not self.child.alive():
                raise RuntimeError("exim exited:\n" + self.log())
            return util.port_open(self.port) and util.port_open(self.smtps_port)
        util.wait_until(up, timeout=15, what=f"exim on ports {self.port}/{self.smtps_port}")

    def pause(self):
        """Stop the daemon only (the relay is "down"); resume() brings it back."""
        if self.child is not None:
            self.child.stop()
            self.child = None
        util.wait_until(lambda: not util.port_open(self.port), timeout=10,
                        what=f"exim to leave port {self.port}")

    def _stragglers(self):
        """Our exim processes still running.  The daemon forks a process
        per connection and per delivery, in sessions of their own, so
        stopping the daemon's process group can leave one that writes to
        our log after the directory is gone (recreating it).  Exim rewrites
        its command line, but works in our spool: they are found by their
        working directory under our unique temporary directory."""
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                continue
            if self.dir is not None and (cwd == self.dir or cwd.startswith(self.dir + "/")):
                pids.append(int(pid))
        return pids

    def stop(self):
        if self.child is not None:
            self.child.stop()
            self.child = None
        if self.dir is not None:
            try:
                util.wait_until(lambda: not self._stragglers(), timeout=5,
                                what="exim's deliveries to end")
            except TimeoutError:
                for pid in self._stragglers():
                    try:
                        os.kill(pid, 15)
                    except OSError:
                        pass
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # ---- what exim saw ----
    def log(self):
        """exim's log: the mainlog file when exim could write it, plus what
        it printed (an ordinary caller's exim logs to its stderr)."""
        out = []
        for name in ("log/mainlog", "log/rejectlog", "log/paniclog", "exim.out"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
        return "".join(out)

    def _files(self):
        found = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir, sub)
            if os.path.isdir(d):
                found += [os.path.join(d, n) for n in os.listdir(d)]
        # exim's Maildir names start with the time: sort for arrival order
        return sorted(found, key=lambda p: (os.stat(p).st_mtime, p))

    def wait_for(self, count, timeout=30):
        """Wait until count messages are in the Maildir (exim delivers
        in a process of its own right after accepting)."""
        util.wait_until(lambda: self.count() >= count, timeout=timeout,
                        what=f"{count} message(s) in {self.maildir}\n" + self.log())
        return self.messages()

    def wait_log(self, text, timeout=30):
        util.wait_until(lambda: text in self.log(), timeout=timeout,
                        what=f"{text!r} in exim's log")
        return self.log()
