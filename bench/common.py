"""Shared helpers of the bench/ scripts (P1..P5).

The servers are the integration-test harness's (tests/integration/harness:
Slapd, Apache, IcsoeConf, PamEnv helpers): a benchmark builds nothing of
its own but two small C clients (bench/bindbench.c, bench/pambench.c),
compiled here with gcc into the work directory, so `make` stays untouched.

Rules every script follows: servers on 127.0.0.1 only, every loop bounded
in count and time, figures printed as ratios measured in the same run.

    from common import Bench
    b = Bench("p2_login", argv)      # parses --quick/--builddir, imports harness
    slapd = b.slapd(scheme="ssha")   # harness Slapd, password-hash {SSHA}
"""
import argparse
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(HERE)
SLAPPASSWD = "/usr/sbin/slappasswd"
SLAPADD = "/usr/sbin/slapadd"

# The password every benchmark account gets (15+ characters: it passes the
# default policy, although slapadd'ed and rootdn-written entries skip it).
PASSWORD = "bench-contraseña-larga-2026"

SCHEMES = {"argon2": "{ARGON2}", "ssha": "{SSHA}"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Bench:
    """Argument parsing, harness import, work directory and cleanup."""

    def __init__(self, name, description, argv=None, extra_args=None):
        self.name = name
        ap = argparse.ArgumentParser(prog=f"bench/{name}", description=description)
        ap.add_argument("--quick", action="store_true",
                        help="a smoke run of a few seconds (not a figure)")
        ap.add_argument("--builddir", default=os.environ.get("ICSOE_BUILDDIR", SRCDIR),
                        help="the configured and built tree (default $ICSOE_BUILDDIR)")
        ap.add_argument("--keep", action="store_true", help="keep the work directory")
        if extra_args:
            extra_args(ap)
        self.args = ap.parse_args(argv)
        self.builddir = os.path.abspath(self.args.builddir)
        os.environ["ICSOE_SRCDIR"] = SRCDIR
        os.environ["ICSOE_BUILDDIR"] = self.builddir
        sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))
        # the harness reads ICSOE_*DIR at import time
        from harness import apache, conf, pam, slapd, util
        self.h_apache, self.h_conf, self.h_pam = apache, conf, pam
        self.h_slapd, self.util = slapd, util
        self.workdir = tempfile.mkdtemp(prefix=f"icsoe-{name}-")
        self._stops = []
        # a SIGTERM (bench/run stopped, a time limit) still stops the servers
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    # ---- lifecycle ----
    def on_exit(self, fn):
        self._stops.append(fn)
        return fn

    def close(self):
        for fn in reversed(self._stops):
            try:
                fn()
            except Exception as e:  # keep stopping the others
                log(f"{self.name}: cleanup: {e}")
        self._stops.clear()
        if self.args.keep:
            log(f"{self.name}: kept {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def path(self, *parts):
        return os.path.join(self.workdir, *parts)

    # ---- servers ----
    def slapd(self, scheme="argon2", maxsize=64 << 20, name="slapd"):
        """A harness Slapd with `password-hash` set to scheme, started and
        stopped at close."""
        s = BenchSlapd(self.h_slapd, self.path(name), scheme=scheme, maxsize=maxsize)
        s.start()
        self.on_exit(s.stop)
        return s

    def icsoe_conf(self, slapd, name="etc", **keys):
        return self.h_conf.IcsoeConf(self.path(name), slapd, **keys)

    def apache(self, conf_snippet="", name="apache", loglevel="notice", **kw):
        """A harness Apache (built mod_icsoe), started and stopped at close.
        The harness's 'icsoe:debug' is lowered to loglevel (audit lines are
        notices, so the default keeps them, as in production)."""
        a = self.h_apache.Apache(self.path(name), conf_snippet=conf_snippet, **kw)
        a.conf_snippet += f"\nLogLevel {loglevel}\n"
        a.start()
        self.on_exit(a.stop)
        return a

    # ---- C clients ----
    def build_c(self, name, libs):
        """gcc bench/NAME.c into the work directory; returns its path."""
        out = self.path(name)
        argv = ["gcc", "-std=gnu11", "-O2", "-g", "-Wall", "-Wextra", "-Werror",
                "-o", out, os.path.join(HERE, f"{name}.c"), *libs]
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{self.name}: building {name} failed:\n{r.stderr}")
        return out

    def bindbench(self):
        return self.build_c("bindbench", ["-lldap", "-llber", "-lpthread"])

    def pambench(self):
        return self.build_c("pambench", ["-lpam", "-lpthread"])


class BenchSlapd:
    """Factory wrapper: builds a subclass of the harness Slapd at run time
    (the harness module is imported only once the paths are set)."""

    def __new__(cls, h_slapd, workdir, scheme="argon2", maxsize=64 << 20):
        base = h_slapd.Slapd

        class _Slapd(base):
            def _write_files(self):
                super()._write_files()
                with open(self.conf_path) as f:
                    text = f.read()
                text = text.replace("password-hash {ARGON2}",
                                    f"password-hash {SCHEMES[scheme]}")
                text = re.sub(r"(?m)^maxsize \d+$", f"maxsize {maxsize}", text)
                with open(self.conf_path, "w") as f:
                    f.write(text)

            def start(self):
                # The harness runs "-d stats" (a log line per operation);
                # after the first start (bootstrap) a benchmark runs slapd
                # with "-d 0" so logging does not weigh on the figures.
                if not self._loaded:
                    return super().start()
                self.child = h_slapd.util.Child(
                    [h_slapd.SLAPD, "-d", "stats" if self.stats_log else "0", "-h", f"{self.uri}/", "-f", self.conf_path],
                    self.logpath)
                h_slapd.util.wait_until(self._can_bind, timeout=30,
                                        what=f"slapd on {self.uri}")

            def quiet_restart(self):
                self.stop()
                self.start()

            def slapadd(self, ldif_path):
                """Bulk load (slapd stopped meanwhile, then restarted)."""
                self.stop()
                r = subprocess.run([SLAPADD, "-q", "-f", self.conf_path, "-l", ldif_path],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    raise RuntimeError(f"slapadd failed: {r.stdout}{r.stderr}")
                self.start()

            def slapadd_stream(self, chunks):
                """Bulk load from an iterable of LDIF text written to
                slapadd -q's stdin (no LDIF file: a million entries would be
                ~0.7 GB); slapd stopped meanwhile, then restarted.  Returns
                the seconds slapadd itself took (generation included, as
                the two overlap)."""
                self.stop()
                err = open(os.path.join(self.workdir, "slapadd.err"), "w+")
                t0 = time.monotonic()
                p = subprocess.Popen([SLAPADD, "-q", "-f", self.conf_path],
                                     stdin=subprocess.PIPE, stdout=err, stderr=err,
                                     text=True)
                try:
                    for c in chunks:
                        p.stdin.write(c)
                    p.stdin.close()
                    rc = p.wait()
                except BaseException:
                    p.kill()
                    p.wait()
                    raise
                dt = time.monotonic() - t0
                if rc != 0:
                    err.seek(0)
                    raise RuntimeError(f"slapadd failed ({rc}): {err.read()[-3000:]}")
                err.close()
                self.start()
                return dt

            def db_bytes(self):
                """(apparent size, allocated bytes) of the mdb files."""
                size = used = 0
                for n in os.listdir(self.dbdir):
                    st = os.stat(os.path.join(self.dbdir, n))
                    size += st.st_size
                    used += st.st_blocks * 512
                return size, used

        s = _Slapd(workdir)
        s.scheme = scheme
        s.stats_log = False  # True: keep "-d stats" (count operations)
        return s


# ---- accounts and identifiers ----

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_STATES = ["AS", "BC", "BS", "CC", "CL", "CM", "CS", "CH", "DF", "DG", "GT", "GR",
           "HG", "JC", "MC", "MN", "MS", "NT", "NL", "OC", "PL", "QT", "QR", "SP",
           "SL", "SR", "TC", "TS", "TL", "VZ", "YN", "ZS", "NE"]
_CONSONANTS = "BCDFGHJKLMNPQRSTVWXYZ"


def _digits(n, i):
    return str(i).zfill(n)[-n:]


def curp_for(b, i):
    """A valid CURP (check digit computed), distinct for each i < 10^7:
    the birth date and homonym character spell i."""
    yy = 40 + (i // (28 * 12)) % 60
    mm = 1 + (i // 28) % 12
    dd = 1 + i % 28
    k = i // (28 * 12 * 60)
    first = _LETTERS[k % 26] + "A"
    second = _LETTERS[(k // 26) % 26]
    given = _LETTERS[(k // 676) % 26]
    body = (first + second + given + f"{yy:02d}{mm:02d}{dd:02d}" + "H" +
            _STATES[k % len(_STATES)] + _CONSONANTS[(k // 7) % 21] +
            _CONSONANTS[(k // 3) % 21] + _CONSONANTS[k % 21] + "0")
    return b.h_apache.curp(body)


def rfc_for(b, i):
    """A valid company RFC (12 characters, check digit computed), distinct
    for each i < 60 * 336 * 26^3."""
    yy = i % 60 + 40
    mm = 1 + (i // 60) % 12
    dd = 1 + (i // 720) % 28
    k = i // (60 * 12 * 28)
    name = _LETTERS[k % 26] + _LETTERS[(k // 26) % 26] + _LETTERS[(k // 676) % 26]
    homo = _CONSONANTS[i % 21] + _CONSONANTS[(i // 21) % 21]
    return b.h_apache.rfc(f"{name}{yy:02d}{mm:02d}{dd:02d}{homo}")


def password_hash(scheme, password=PASSWORD):
    """One slappasswd hash (the same for every bulk-loaded account: the
    cost of checking it is what matters, not its salt)."""
    argv = [SLAPPASSWD, "-h", SCHEMES[scheme], "-s", password]
    if scheme == "argon2":
        argv[1:1] = ["-o", "module-path=/usr/lib/ldap", "-o", "module-load=argon2"]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def ldif_capturist(slapd, curp, name, contractors, pw_hash):
    lines = [f"dn: {slapd.capturist_dn(curp)}", "objectClass: inetOrgPerson",
             "objectClass: icsoeCapturist", f"uid: {curp}", f"cn: {name}",
             f"sn: {name.split()[-1]}", f"mail: {curp.lower()}@example.test",
             "icsoeStatus: active", "icsoeEpoch: 0", f"userPassword: {pw_hash}"]
    lines += [f"icsoeContractorRFC: {r}" for r in contractors]
    return "\n".join(lines) + "\n\n"


def ldif_contractor(slapd, rfc, name):
    return (f"dn: {slapd.contractor_dn(rfc)}\nobjectClass: icsoeContractor\n"
            f"icsoeRFC: {rfc}\no: {name}\n\n")


# ---- wrk ----

def wrk(url, seconds, threads=2, connections=4, headers=(), script=None,
        script_args=(), timeout_s=None):
    """Run wrk --latency; returns dict(rps, p50, p75, p90, p99 in ms,
    requests, errors, non2xx, out)."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if timeout_s:
        argv.append(f"--timeout={timeout_s}s")
    for h in headers:
        argv += ["-H", h]
    if script:
        argv += ["-s", script]
    argv.append(url)
    if script_args:
        argv += ["--", *script_args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    out = r.stdout + r.stderr
    if r.returncode != 0:
        raise RuntimeError(f"wrk failed ({r.returncode}):\n{out}")
    res = {"out": out}
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if not m:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    res["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    for p in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+(\S+)", out, re.M)
        res[f"p{p}"] = to_ms(m.group(1)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["errors"] = sum(int(x) for x in m.groups()) if m else 0
    return res


def to_ms(s):
    m = re.match(r"([0-9.]+)(us|ms|s|m)$", s)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


# ---- the module's login form ----

def login_form(a, path="/icsoe/ingresar"):
    """GET the login page: (cookie header value, csrf token) of the
    pre-login session, to replay in POSTs."""
    req = urllib.request.Request(a.url(path), headers=a_browser(a))
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read().decode()
        cookies = r.headers.get_all("Set-Cookie") or []
    m = re.search(r'name="csrf"\s+value="([^"]+)"', body) or \
        re.search(r'value="([^"]+)"\s+name="csrf"', body)
    if not m or not cookies:
        raise RuntimeError("login page without csrf field or cookie")
    cookie = cookies[0].split(";", 1)[0]
    return cookie, m.group(1)


def a_browser(a):
    return {"Accept": "text/html"}


def post_login(a, cookie, csrf, curp, password, path="/icsoe/ingresar"):
    """One login POST; returns the status (303 = logged in)."""
    body = urllib.parse.urlencode({"csrf": csrf, "curp": curp,
                                   "password": password}).encode()
    req = urllib.request.Request(a.url(path), data=body, method="POST", headers={
        "Accept": "text/html", "Cookie": cookie,
        "Content-Type": "application/x-www-form-urlencoded"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kw):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


LOGIN_LUA = r"""
-- POST /icsoe/ingresar for the users in USERS, round robin from a
-- per-thread offset; counts 303 (logged in) against anything else.
local threads = {}
local n = 0
function setup(thread)
  thread:set("id", n)
  n = n + 1
  table.insert(threads, thread)
end
function init(args)
  good = 0
  bad = 0
  i = id * 7919
end
request = function()
  i = i + 1
  local u = USERS[(i % #USERS) + 1]
  return wrk.format("POST", PATH, HEADERS, BODY_PREFIX .. u)
end
response = function(status, headers, body)
  if status == 303 then good = good + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local g, b = 0, 0
  for _, t in ipairs(threads) do
    g = g + t:get("good")
    b = b + t:get("bad")
  end
  io.write(string.format("LOGINS good=%d bad=%d\n", g, b))
end
"""


def login_lua(path, cookie, csrf, password, users, out):
    """A wrk script posting logins (the password field comes before curp)."""
    body_prefix = urllib.parse.urlencode({"csrf": csrf, "password": password}) + "&curp="
    lua_users = ",".join(f'"{u}"' for u in users)
    with open(out, "w") as f:
        f.write(f'PATH = "{path}"\n')
        f.write(f'BODY_PREFIX = "{body_prefix}"\n')
        f.write('HEADERS = {["Content-Type"] = "application/x-www-form-urlencoded", '
                f'["Accept"] = "text/html", ["Cookie"] = "{cookie}"}}\n')
        f.write(f"USERS = {{{lua_users}}}\n")
        f.write(LOGIN_LUA)
    return out


def login_counts(res):
    m = re.search(r"LOGINS good=(\d+) bad=(\d+)", res["out"])
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


# ---- C client output ----

def parse_kv(line):
    """'key=value key=value' -> dict of strings."""
    return dict(tok.split("=", 1) for tok in line.split() if "=" in tok)


def run_client(argv, stdin=None, env=None, timeout=900):
    """Run bindbench/pambench; the dict of its last 'result' line."""
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env,
                       timeout=timeout)
    lines = [l for l in r.stdout.splitlines() if l.startswith("result ")]
    if r.returncode != 0 or not lines:
        raise RuntimeError(f"{os.path.basename(argv[0])} failed ({r.returncode}):\n"
                           f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    d = parse_kv(lines[-1])
    d["_stdout"] = r.stdout
    d["_stderr"] = r.stderr
    return d


# ---- processes ----

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def machine():
    """One paragraph describing the machine (for RESULTS.md)."""
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MiB"

    def ver(argv, pat=r"(\S+)"):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            m = re.search(pat, r.stdout + r.stderr)
            return m.group(1) if m else "?"
        except OSError:
            return "?"

    def deb(pkg):
        return ver(["dpkg-query", "-W", "-f", "${Version}", pkg], r"(\S+)")
    return (f"cpu: {model} x {os.cpu_count()} (nproc); memory {mem}; "
            f"kernel {platform.release()}; "
            f"apache2 {deb('apache2')}, slapd {deb('slapd')}, libldap {deb('libldap-2.5-0')}, "
            f"libpam {deb('libpam0g')}, nslcd {deb('nslcd')}, wrk {deb('wrk')}, "
            f"gcc {deb('gcc')}")


def fmt_ratio(x, target, op=">="):
    ok = x >= target if op == ">=" else x <= target
    return f"{x:.3f} (target {op} {target}: {'met' if ok else 'MISSED'})"


def deadline(seconds):
    """A monotonic deadline; `time.monotonic() < d` bounds a loop in time."""
    return time.monotonic() + seconds
