"""Linux-PAM with the built pam_icsoe.so, without touching /etc/pam.d.

pam_wrapper (cwrap, LD_PRELOAD) makes pam_start() read service files from
a private directory; pam_icsoe is named there by absolute path.  pam_wrapper
also turns pam_syslog() into lines on stderr ("PWRAP_...: SYSLOG(N): ...")
so tests can read what the module logged.

Drivers: pamtester (the Debian one) and tests/integration/pamdrv, our own
application that prints every prompt, message and exact return code (see
its header).  Test accounts are created as the rootdn (the directory's
ppolicy_hash_cleartext hashes the password exactly as for a web activation).
"""
import os
import re
import subprocess
from dataclasses import dataclass, field

from . import util

PAM_WRAPPER = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so"
PAMTESTER = "/usr/bin/pamtester"
# pam_wrapper's test module: sets PAM_AUTHTOK / PAM_OLDAUTHTOK from the
# process environment (applications may not set those items themselves).
NSS_WRAPPER = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"
PAM_SET_ITEMS = "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_set_items.so"
VALGRIND = "/usr/bin/valgrind"

# CURP check digit alphabet ('&' stands for Ñ).
_CURP_ALPHABET = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ"


def curp(first17):
    """A CURP with its check digit computed (first17: 17 characters)."""
    assert len(first17) == 17
    total = sum(_CURP_ALPHABET.index(ch) * (18 - i) for i, ch in enumerate(first17))
    return first17 + str((10 - total % 10) % 10)


def wrong_check_digit(c):
    return c[:17] + str((int(c[17]) + 1) % 10)


@dataclass
class PamRun:
    """What a pamdrv run printed, parsed."""
    returncode: int
    stdout: str
    stderr: str
    results: list = field(default_factory=list)   # [(op, code_name, ms)]
    prompts: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    infos: list = field(default_factory=list)
    env: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)    # thread mode: {(op, code): n}

    def code(self, op):
        """Return code name of the last run of op (KeyError if it did not run)."""
        found = [c for o, c, _ in self.results if o == op]
        if not found:
            raise KeyError(f"{op} did not run:\n{self.stdout}\n{self.stderr}")
        return found[-1]

    def ms(self, op):
        return [m for o, _, m in self.results if o == op][-1]

    @property
    def codes(self):
        return [c for _, c, _ in self.results]


def parse_pamdrv(proc):
    run = PamRun(proc.returncode, proc.stdout, proc.stderr)
    for line in proc.stdout.splitlines():
        m = re.match(r"^([a-z-]+): (-?\d+) (PAM_[A-Z_]+) ([\d.]+)$", line)
        if m:
            run.results.append((m.group(1), m.group(3), float(m.group(4))))
            continue
        m = re.match(r"^([a-z-]+) (PAM_[A-Z_]+): (\d+)$", line)
        if m:
            run.counts[(m.group(1), m.group(2))] = int(m.group(3))
            continue
        kind, _, text = line.partition(": ")
        if kind == "prompt":
            run.prompts.append(text)
        elif kind == "error":
            run.errors.append(text)
        elif kind == "info":
            run.infos.append(text)
        elif kind == "env":
            k, _, v = text.partition("=")
            run.env[k] = v
    return run


class PamEnv:
    """A private PAM service directory for pam_icsoe."""

    def __init__(self, workdir, conf_path):
        self.workdir = os.fspath(workdir)
        self.dir = os.path.join(self.workdir, "pam.d")
        os.makedirs(self.dir, exist_ok=True)
        self.conf_path = os.fspath(conf_path)
        self.module = util.built("pam_icsoe/pam_icsoe.so")
        self.pamdrv_path = util.built("tests/integration/pamdrv")
        self.preload = []       # more LD_PRELOAD libraries (nss_wrapper)
        self.extra_env = {}
        # Without "other" pam_wrapper complains; it must deny everything.
        with open(os.path.join(self.dir, "other"), "w") as f:
            for kind in ("auth", "account", "password", "session"):
                f.write(f"{kind} required pam_deny.so\n")
        self.service()

    def service(self, name="icsoe", args="", auth=None, account=None,
                password=None, session=None, lines=None):
        """Write service `name`: pam_icsoe on every line with config= and
        `args`, plus per-type extra arguments; or literal `lines`
        ("{module}", "{config}" and "{set_items}" are substituted).  The
        generated stacks start with pam_set_items.so, which does nothing
        unless pamdrv(authtok=..., oldauthtok=...) passes items."""
        mod = self.module
        base = f"config={self.conf_path} {args}".strip()
        if lines is None:
            lines = [
                f"auth required {PAM_SET_ITEMS}",
                f"password required {PAM_SET_ITEMS}",
                f"auth required {mod} {base} {auth or ''}",
                f"account required {mod} {base} {account or ''}",
                f"password required {mod} {base} {password or ''}",
                f"session required {mod} {base} {session or ''}",
            ]
        with open(os.path.join(self.dir, name), "w") as f:
            for line in lines:
                f.write(line.format(module=mod, config=self.conf_path,
                                    set_items=PAM_SET_ITEMS).rstrip() + "\n")
        return name

    def env(self, extra=None, debuglevel=None):
        """Environment for a PAM application under pam_wrapper."""
        e = dict(os.environ)
        # util.preload puts ICSOE_PRELOAD (ASan runtime) before pam_wrapper
        e.update({"LD_PRELOAD": util.preload(PAM_WRAPPER, *self.preload),
                  "PAM_WRAPPER": "1", "PAM_WRAPPER_SERVICE_DIR": self.dir})
        e.update(self.extra_env)
        if debuglevel is not None:
            e["PAM_WRAPPER_DEBUGLEVEL"] = str(debuglevel)
        if extra:
            e.update(extra)
        return e

    def pamdrv(self, user, *ops, answers=(), service="icsoe", authtok=None,
               oldauthtok=None, threads=None, rounds=None, keep_going=False,
               silent=False, valgrind=None, timeout=120, debuglevel=None):
        argv = [self.pamdrv_path, "-s", service]
        if user is not None:
            argv += ["-u", user]
        for a in answers:
            argv += ["-r", a]
        if threads:
            argv += ["-T", str(threads)]
        if rounds:
            argv += ["-n", str(rounds)]
        if keep_going:
            argv.append("-k")
        if silent:
            argv.append("-S")
        argv += list(ops)
        if valgrind is not None:
            argv = [VALGRIND] + list(valgrind) + argv
        items = {}
        if authtok is not None:
            items["PAM_AUTHTOK"] = authtok
        if oldauthtok is not None:
            items["PAM_OLDAUTHTOK"] = oldauthtok
        proc = subprocess.run(argv, capture_output=True, text=True,
                              env=self.env(items, debuglevel=debuglevel),
                              timeout=timeout)
        return parse_pamdrv(proc)

    def local_accounts(self, entries):
        """Make the PAM application see a passwd database of its own
        (nss_wrapper): entries is [(name, uid)]."""
        passwd = os.path.join(self.workdir, "passwd")
        group = os.path.join(self.workdir, "group")
        with open(passwd, "w") as f:
            for name, uid in entries:
                f.write(f"{name}:x:{uid}:{uid}:local:/nonexistent:/bin/sh\n")
        with open(group, "w") as f:
            for name, uid in entries:
                f.write(f"{name}:x:{uid}:\n")
        self.preload = [NSS_WRAPPER]
        self.extra_env = {"NSS_WRAPPER_PASSWD": passwd, "NSS_WRAPPER_GROUP": group}

    def pamtester(self, user, *ops, stdin="", service="icsoe", timeout=60):
        return subprocess.run([PAMTESTER, "-v", service, user] + list(ops),
                              input=stdin, capture_output=True, text=True,
                              env=self.env(), timeout=timeout)


# ---- test accounts (created as the rootdn) ----

def add_contractor(slapd, rfc, name="Servicios Especializados SA de CV"):
    slapd.add(slapd.contractor_dn(rfc), {
        "objectClass": ["icsoeContractor"], "icsoeRFC": rfc, "o": name})


def add_capturist(slapd, curp_, password=None, status="active",
                  contractors=(), cn="Juan Gómez Pérez", sn="Gómez Pérez"):
    attrs = {
        "objectClass": ["inetOrgPerson", "icsoeCapturist"],
        "uid": curp_, "cn": cn, "sn": sn,
        "mail": f"{curp_.lower()}@example.test",
        "icsoeStatus": status, "icsoeEpoch": "0",
    }
    if contractors:
        attrs["icsoeContractorRFC"] = list(contractors)
    if password is not None:
        attrs["userPassword"] = password
    slapd.add(slapd.capturist_dn(curp_), attrs)
    return slapd.capturist_dn(curp_)
