#!/usr/bin/python3
"""The ICSOE demo: the whole capturist flow on 127.0.0.1 (run by scripts/demo,
which installs the packages and builds first).

    scripts/demo [--state DIR] [--port N]   start, print where to go, run
                                            until Ctrl-C (or --stop)
    scripts/demo --check [--state DIR]      start, check that every service
                                            answers, stop (for scripts/test)
    scripts/demo --stop [--state DIR]       stop a demo started with DIR

Servers come from the integration test harness (tests/integration/harness):
a private slapd with schema/ and a ppolicy, an SMTP sink storing mail in a
Maildir (copied as .eml/.html by scripts/demo_mail.py), the sample app of
examples/backend, apache2 with the built mod_icsoe and conf/apache2/icsoe.conf,
and a PAM service directory for pamtester under pam_wrapper.  Each runs in
the foreground as a child of this process, in its own process group, and is
stopped when this process ends (Ctrl-C, SIGTERM from --stop, or an error).
The state directory (default ./_demo in the source tree) is wiped at start.
"""
import argparse
import json
import os
import shutil
import signal
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("ICSOE_SRCDIR", TOP)
os.environ.setdefault("ICSOE_BUILDDIR", os.path.join(TOP, "_build"))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, os.path.join(TOP, "scripts"))

import demo_site  # noqa: E402
from harness import util  # noqa: E402
from demo_mail import MailExporter  # noqa: E402

PIDFILE = "demo.pid"       # this process
CHILDREN = "children.json"  # every server started: pid and program
MARKER = ".icsoe-demo"      # this folder is the demo's to wipe


class Stop(Exception):
    """SIGTERM/SIGINT: leave the main loop and stop everything."""


def _on_signal(signum, frame):
    raise Stop(signal.Signals(signum).name)


# ---- processes we started ------------------------------------------------

def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return None


def _running(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _is(pid, program):
    """pid still runs `program` (guards against a reused pid)."""
    argv = _cmdline(pid)
    return bool(argv) and _running(pid) and any(
        a.decode("utf-8", "replace").endswith(program) for a in argv[:2])


def _wait_gone(pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_running(p) for p in pids):
            return True
        time.sleep(0.05)
    return not any(_running(p) for p in pids)


def stop_demo(state, quiet=False):
    """Stop the demo running with this state directory: SIGTERM to its
    main process (which stops its servers); then any server it left behind
    (if it was killed with SIGKILL) by process group.  Returns True when
    something was running."""
    found = False
    pidfile = os.path.join(state, PIDFILE)
    try:
        pid = int(open(pidfile).read().split()[0])
    except (OSError, ValueError, IndexError):
        pid = None
    if pid and pid != os.getpid() and _is(pid, "demo.py"):
        found = True
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone([pid], 40):
            os.kill(pid, signal.SIGKILL)
            _wait_gone([pid], 5)
    try:
        children = json.load(open(os.path.join(state, CHILDREN)))
    except (OSError, ValueError):
        children = []
    left = [c["pid"] for c in children if _is(c["pid"], c["program"])]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in left:
            found = True
            try:
                os.killpg(p, sig)
            except ProcessLookupError:
                pass
        if _wait_gone(left, 15):
            break
    for name in (PIDFILE, CHILDREN):
        try:
            os.unlink(os.path.join(state, name))
        except FileNotFoundError:
            pass
    if not quiet:
        print("demo stopped" if found else f"no demo running with state {state}")
    return found


# ---- the demo ------------------------------------------------------------

class Demo:
    def __init__(self, state, port=None):
        self.state = state
        self.port = port
        self.servers = []       # (name, object with .stop()), start order
        self.children = []      # [{"pid", "program"}]
        self.exporter = None
        self.link = None

    def _record(self, name, child):
        self.children.append({"name": name, "pid": child.proc.pid,
                              "program": os.path.basename(child.argv[0])})
        tmp = os.path.join(self.state, CHILDREN + ".tmp")
        with open(tmp, "w") as f:
            json.dump(self.children, f)
        os.replace(tmp, os.path.join(self.state, CHILDREN))

    def _started(self, name, server, child):
        self.servers.append((name, server))
        self._record(name, child)

    def start(self):
        from harness.conf import IcsoeConf
        from harness.slapd import Slapd
        from harness.smtp import SmtpSink

        s = self.state
        self.slapd = Slapd(os.path.join(s, "slapd"))
        self.slapd.start()
        self._started("slapd", self.slapd, self.slapd.child)

        self.smtp = SmtpSink(os.path.join(s, "smtp"))
        self.smtp.start()
        self._started("smtp", self.smtp, self.smtp.child)
        self.mail_dir = os.path.join(s, "correo")
        self.exporter = MailExporter(self.smtp, self.mail_dir).start()

        self.backend = demo_site.Backend(os.path.join(s, "app"))
        self.backend.start()
        self._started("app", self.backend, self.backend.child)

        self.conf = IcsoeConf(os.path.join(s, "etc"), self.slapd, self.smtp)
        self.apache = demo_site.make_apache(os.path.join(s, "apache"), self.conf.path,
                                            self.backend.port, port=self.port)
        demo_site.point_links_at(self.conf, self.apache)
        # the contractor's page on its own HTTPS vhost (e.firma at the handshake)
        pki = os.path.join(s, "pki")
        self.ca, self.fiel, self.p12 = demo_site.make_efirma(pki)
        self.ssl_port = self.port + 1 if self.port else util.free_port()
        self.apache.modules += ("socache_shmcb", "ssl")
        self.apache.conf_snippet += demo_site.efirma_vhost(self.ssl_port, pki, self.ca.crt)

        # the capturist is created the way a contractor's admin does it, and
        # the activation email really goes through the SMTP sink
        demo_site.add_sample_data(self.conf.path)
        msgs = self.smtp.wait_for(1, timeout=15)
        links = self.smtp.links(msgs[0])
        if not links:
            raise RuntimeError("no activation link in:\n" + self.smtp.text(msgs[0]))
        self.link = links[0]
        self.exporter.export_new()

        self.apache.start()
        self._started("apache2", self.apache, self.apache.child)

        self.pam = demo_site.make_pam(os.path.join(s, "pam"), self.conf.path)

    def stop(self):
        if self.exporter is not None:
            self.exporter.stop()
            try:
                self.exporter.export_new()
            except OSError:
                pass
        for name, server in reversed(self.servers):
            try:
                server.stop()
            except Exception as e:  # keep stopping the others
                print(f"demo: stopping {name}: {e}", file=sys.stderr)
        self.servers = []
        left = [c for c in self.children if _running(c["pid"])]
        for c in left:
            try:
                os.killpg(c["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
        return [c["name"] for c in left]

    # ---- what a person reads ----
    def banner(self):
        cap = demo_site.CAPTURIST
        a = self.apache
        pam_cmd = demo_site.pamtester_command(self.pam, cap.curp)
        rows = "\n".join(f"      {c.rfc:<13}  {c.name}"
                         + ("   <- asignado" if c.rfc in cap.contractors else "")
                         for c in demo_site.CONTRACTORS)
        ctl = os.path.join(os.environ["ICSOE_BUILDDIR"], "tools", "icsoectl")
        return f"""
ICSOE demo running on 127.0.0.1 (state: {self.state})

  Contractors in the directory:
{rows}
  Capturist (pending until the password is created):
      {cap.curp}  {cap.name} <{cap.email}>

  1. Open the activation link from the email that was just sent:
       {self.link}
     then create a password (15+ characters), press Guardar Contraseña,
     then Aceptar, and log in with the CURP as Usuario at
       {a.url(demo_site.LOGIN_PATH)}
  2. The sample app (reached after choosing a contractor):
       {a.url(demo_site.APP_PATH)}
  3. Every email, as .eml and .html:
       {self.mail_dir}/
  4. Log in through PAM (type the password when asked):
       {pam_cmd}

  5. The contractor's page, signed in with an e.firma (TLS client certificate):
       https://127.0.0.1:{self.ssl_port}{demo_site.CONTRACTOR_PAGE}
     The test e.firma of {demo_site.EFIRMA_CONTRACTOR.rfc} ({demo_site.EFIRMA_CONTRACTOR.name}) and the
     demo CA must be in your browser first (password of the .p12: {demo_site.EFIRMA_P12_PASSWORD}):
       e.firma:  {self.p12}
       demo CA:  {self.ca.crt}
     Chromium / Chrome on Linux (NSS database in ~/.pki/nssdb, libnss3-tools;
     the first time: mkdir -p ~/.pki/nssdb && certutil -N -d sql:$HOME/.pki/nssdb --empty-password):
       pk12util -i {self.p12} -d sql:$HOME/.pki/nssdb -W {demo_site.EFIRMA_P12_PASSWORD}
       certutil -A -d sql:$HOME/.pki/nssdb -n "{demo_site.EFIRMA_CA_CN}" -t CT,, -i {self.ca.crt}
     Firefox: Settings > Privacy & Security > Certificates > View Certificates:
       "Your Certificates" > Import the .p12; "Authorities" > Import the CA and
       tick "Trust this CA to identify websites".
     Then open the page and pick the certificate when the browser asks.
     Check a certificate file:  {ctl} efirma show {self.fiel.cer}

  Admin CLI:  {ctl} -c {self.conf.path} capturist list
  Logs:       {self.state}/apache/error.log, {self.state}/slapd/slapd.log

  Everything listens on 127.0.0.1 only.  From another machine, forward the
  ports and open the same links there:
       ssh -L {a.port}:127.0.0.1:{a.port} -L {self.ssl_port}:127.0.0.1:{self.ssl_port} USER@THIS-HOST
  (scripts/demo --port N keeps them fixed between runs: N and N+1)

  Stop: Ctrl-C here, or  scripts/demo --stop{'' if self.state == default_state() else ' --state ' + self.state}
"""

    def check(self):
        """Each service answers as it should; returns a list of failures."""
        import requests
        from harness.apache import BROWSER
        fails = []

        def expect(what, cond, detail=""):
            print(f"  {'ok  ' if cond else 'FAIL'} {what}")
            if not cond:
                fails.append(f"{what}: {detail}")

        cap = demo_site.CAPTURIST
        found = self.slapd.search("(objectClass=icsoeContractor)", ["icsoeRFC"])
        expect("slapd: 3 contractors", len(found) == 3, found)
        entry = self.slapd.get(self.slapd.capturist_dn(cap.curp), ["icsoeStatus"])
        expect("slapd: capturist pending", entry and entry.get("icsoeStatus") == ["pending"],
               entry)
        files = sorted(os.listdir(self.mail_dir))
        expect("smtp: activation email exported as .eml and .html",
               any(f.endswith(".eml") for f in files)
               and any(f.endswith(".html") for f in files), files)
        html_copy = open(os.path.join(self.mail_dir, files[-1] if files[-1].endswith(".html")
                                      else files[0]), encoding="utf-8").read() if files else ""
        expect("smtp: the .html copy names the capturist", cap.name in html_copy)

        a = self.apache
        r = requests.get(a.url(demo_site.LOGIN_PATH), headers=BROWSER, timeout=20)
        expect("apache: login page", r.status_code == 200 and "Ingresar" in r.text,
               r.status_code)
        r = requests.get(self.link, headers=BROWSER, timeout=20)
        expect("apache: activation link shows the password form",
               r.status_code == 200 and "Contraseña nueva" in r.text, r.status_code)
        r = requests.get(a.url(demo_site.APP_PATH), headers=BROWSER, timeout=20,
                         allow_redirects=False)
        expect("apache: the app sends a browser without session to the login page",
               r.status_code == 303
               and r.headers.get("Location", "").startswith(demo_site.LOGIN_PATH),
               (r.status_code, r.headers.get("Location")))
        page = f"https://127.0.0.1:{self.ssl_port}{demo_site.CONTRACTOR_PAGE}"
        r = requests.get(page, cert=self.fiel.pair, verify=self.ca.crt, timeout=20)
        expect("apache: the contractor's page with the test e.firma",
               r.status_code == 200 and demo_site.EFIRMA_CONTRACTOR.name in r.text,
               r.status_code)
        try:
            requests.get(page, verify=self.ca.crt, timeout=20)
            refused = False
        except requests.exceptions.SSLError:
            refused = True
        expect("apache: the contractor's page without a certificate is refused", refused)
        r = requests.get(f"http://127.0.0.1:{self.backend.port}/", timeout=20)
        expect("app: sample backend answers", r.status_code == 200
               and "Registro de informativa" in r.text, r.status_code)

        # pending account: PAM refuses, through pam_icsoe (not a stack error)
        r = demo_site.pamtester(self.pam, cap.curp, "no-es-la-contrasena")
        out = r.stdout + r.stderr
        expect("pam: pamtester reaches pam_icsoe (pending account refused)",
               r.returncode != 0 and "Authentication failure" in out
               and "unknown" not in out.lower(), out.strip()[-300:])
        return fails


def default_state():
    return os.path.join(TOP, "_demo")


def fresh_state(state):
    """Stop a previous demo with this state, then a clean slate with our
    marker and pid.  Only a folder the demo made (it has the marker) or an
    empty one is wiped: "--state ~" must not delete a home directory.
    False (after saying why) when the folder is not ours; OSError when it
    cannot be wiped or written."""
    if os.path.isdir(state) and os.listdir(state):
        if not os.path.exists(os.path.join(state, MARKER)):
            print(f"demo: {state} is not empty and was not made by the demo; "
                  "choose another --state", file=sys.stderr)
            return False
        if stop_demo(state, quiet=True):
            print(f"demo: stopped the previous demo in {state}")
        shutil.rmtree(state)
    os.makedirs(state, exist_ok=True)
    with open(os.path.join(state, MARKER), "w") as f:
        f.write("state directory of scripts/demo: wiped at every start\n")
    with open(os.path.join(state, PIDFILE), "w") as f:
        f.write(f"{os.getpid()}\n")
    return True


def main():
    ap = argparse.ArgumentParser(description="ICSOE demo on 127.0.0.1")
    ap.add_argument("--state", default=default_state(),
                    help="state directory, wiped at start (default: %(default)s)")
    ap.add_argument("--port", type=int, default=None,
                    help="Apache port on 127.0.0.1 (default: a free one)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="start, check every service, stop")
    mode.add_argument("--stop", action="store_true",
                      help="stop the demo running with --state")
    args = ap.parse_args()
    state = os.path.abspath(args.state)

    if args.stop:
        try:
            stop_demo(state)
        except OSError as e:
            print(f"demo: cannot stop the demo in {state}: {e.strerror} "
                  "(was it started by another user, or with sudo?)", file=sys.stderr)
            return 1
        return 0

    try:
        if not fresh_state(state):
            return 1
    except OSError as e:
        # typically a state left by `sudo scripts/demo`: files of root
        print(f"demo: cannot prepare {state}: {e.strerror}: {e.filename} "
              f"(made with sudo? remove it: sudo rm -rf {state})", file=sys.stderr)
        return 1

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    demo = Demo(state, args.port)
    status = 0
    try:
        print("demo: starting slapd, SMTP sink, sample app, apache2 ...", flush=True)
        demo.start()
        if args.check:
            fails = demo.check()
            status = 1 if fails else 0
        else:
            print(demo.banner(), flush=True)
            while True:
                for name, server in demo.servers:
                    child = getattr(server, "child", None)
                    if child is not None and not child.alive():
                        raise RuntimeError(f"{name} exited; see its log under {state}")
                time.sleep(0.5)
    except Stop:
        print("\ndemo: stopping ...", flush=True)
    except Exception as e:
        print(f"demo: error: {e}", file=sys.stderr)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        killed = demo.stop()
        left = [c for c in demo.children if _running(c["pid"])]
        for name in (PIDFILE, CHILDREN):
            try:
                os.unlink(os.path.join(state, name))
            except FileNotFoundError:
                pass
        if killed or left:
            print(f"demo: had to kill {killed}; still running: {left}", file=sys.stderr)
            status = 1
        msg = "no process left" if not left else "PROCESSES LEFT"
        if args.check:
            print(f"demo check: {'ok' if status == 0 else 'FAILED'} ({msg})")
        else:
            print(f"demo: stopped ({msg})")
    return status


if __name__ == "__main__":
    sys.exit(main())
