"""The demo site, assembled from the integration harness (shared by
scripts/demo.py and tests/e2e): sample data, the sample downstream app
(examples/backend) behind "AuthType ICSOE", Apache with mod_icsoe and the
project's Debian-style conf/apache2/icsoe.conf, and a PAM service directory
for pamtester under pam_wrapper.

Nothing here starts a server in its own way: slapd, the SMTP sink, apache2
and PAM come from tests/integration/harness (import this module after
tests/integration is on sys.path and ICSOE_SRCDIR/ICSOE_BUILDDIR are set)."""
import os
import subprocess
from dataclasses import dataclass, field

from harness import util
from harness.apache import Apache
from harness.pam import PAM_WRAPPER, PAMTESTER, PamEnv

# ---- sample data -------------------------------------------------------
# RFCs and the CURP carry valid check digits ("icsoectl validate" says ok).


@dataclass(frozen=True)
class Contractor:
    rfc: str
    name: str
    repse: str = ""
    email: str = ""


@dataclass(frozen=True)
class Capturist:
    curp: str
    name: str
    email: str
    contractors: tuple = field(default_factory=tuple)


CONTRACTORS = (
    Contractor("STB150312K77", "Servicios Técnicos del Bajío, S.A. de C.V.",
               "AR20417/2021", "contacto@serviciosbajio.example"),
    Contractor("LMI090821QN3", "Limpieza & Mantenimiento Integral, S.C.",
               "AR31552/2022", "administracion@limpiezaintegral.example"),
    # a persona física: 13-character RFC
    Contractor("HERG780415JT5", "María Guadalupe Hernández Ruiz", "AR40981/2023"),
)

# pending until the password is created; works for the first two contractors
CAPTURIST = Capturist("NURA900214MDFXMN03", "Ana Sofía Núñez Ramírez",
                      "ana.nunez@serviciosbajio.example",
                      (CONTRACTORS[0].rfc, CONTRACTORS[1].rfc))

APP_PATH = "/informativa/"
HOME_PATH = "/icsoe/inicio"
SELECT_PATH = "/icsoe/contratista"
LOGIN_PATH = "/icsoe/ingresar"
ACTIVATE_PATH = "/icsoe/activar"
PAM_SERVICE = "icsoe"

# Added to the harness configuration (which already loads mod_icsoe with
# conf/apache2/icsoe.conf): "Continuar" lands in the downstream app
# (ICSOEHomeURL, seed step 10); a login still lands on the start page
# (ICSOEStartURL, default /icsoe/inicio, seed step 6).
APP_SNIPPET = """
# --- demo: the sample downstream app (examples/backend) ---
ICSOEHomeURL @APP@
RedirectMatch 303 ^/$ @APP@
<Location @APP@>
    AuthType ICSOE
    Require icsoe-contratista
    ProxyPass http://127.0.0.1:@BACKEND@/
</Location>
"""


# The contractor's page (issue 14): the first sample contractor signs in
# with a test e.firma issued by a demo CA that mimics SAT's subject layout.
CONTRACTOR_PAGE = "/icsoe/capturistas"
EFIRMA_CONTRACTOR = CONTRACTORS[0]
EFIRMA_REP_RFC = "GODE561231GR8"          # legal representative (a person)
EFIRMA_REP_CURP = "GODE561231HDFRRN00"
EFIRMA_P12_PASSWORD = "demo"
EFIRMA_CA_CN = "AC de pruebas ICSOE SAT"


def make_efirma(pki_dir):
    """The demo CA, the server certificate of the e.firma vhost and the
    contractor's FIEL, also as a PKCS#12 file a browser imports.  Returns
    (ca, fiel, p12 path)."""
    from harness import satpki
    ca = satpki.CA(pki_dir, cn=EFIRMA_CA_CN)
    ca.server("server")
    c = EFIRMA_CONTRACTOR
    fiel = ca.fiel(f"efirma-{c.rfc}", c.name, c.rfc, EFIRMA_REP_RFC, EFIRMA_REP_CURP)
    p12 = os.path.join(os.fspath(pki_dir), f"efirma-{c.rfc}.p12")
    subprocess.run(["openssl", "pkcs12", "-export", "-in", fiel.crt, "-inkey", fiel.key,
                    "-certfile", ca.crt, "-name", f"e.firma {c.name}", "-passout",
                    f"pass:{EFIRMA_P12_PASSWORD}", "-out", p12], check=True,
                   capture_output=True, timeout=60)
    return ca, fiel, p12


def efirma_vhost(ssl_port, pki_dir, ca_crt):
    """The contractor's page, e.firma asked for at the TLS handshake."""
    from harness import satpki
    return ("\n# --- demo: the contractor's page (e.firma) ---\nSSLSessionCache none\n"
            + satpki.contractor_vhost(ssl_port, os.fspath(pki_dir), ca_crt))


def icsoectl(conf_path, *args):
    """Run the built icsoectl; CompletedProcess, raising with its output on
    a non-zero exit status."""
    r = subprocess.run([util.built("tools/icsoectl"), "-c", os.fspath(conf_path), *args],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"icsoectl {' '.join(args)} failed ({r.returncode}):\n"
                           f"{r.stdout}{r.stderr}")
    return r


def check_sample_ids():
    """The sample RFCs and CURP pass icsoectl's own validation (format,
    date, check digit): the demo never shows data the product would refuse."""
    out = subprocess.run([util.built("tools/icsoectl"), "validate", "rfc",
                          *[c.rfc for c in CONTRACTORS]],
                         capture_output=True, text=True, timeout=30).stdout
    out += subprocess.run([util.built("tools/icsoectl"), "validate", "curp",
                           CAPTURIST.curp], capture_output=True, text=True,
                          timeout=30).stdout
    for line in out.splitlines():
        words = line.split()
        if not words or any(w != "ok" for w in words[1:]):
            raise RuntimeError(f"sample identifier refused by icsoectl: {line}")


def add_sample_data(conf_path):
    """Contractors, then the capturist through "icsoectl capturist add":
    a pending account and a real activation email."""
    check_sample_ids()
    for c in CONTRACTORS:
        args = ["contractor", "add", "--rfc", c.rfc, "--name", c.name]
        if c.repse:
            args += ["--repse", c.repse]
        if c.email:
            args += ["--email", c.email]
        icsoectl(conf_path, *args)
    args = ["capturist", "add", "--curp", CAPTURIST.curp, "--name", CAPTURIST.name,
            "--email", CAPTURIST.email]
    for rfc in CAPTURIST.contractors:
        args += ["--contractor", rfc]
    icsoectl(conf_path, *args)


def contractor(rfc):
    return next(c for c in CONTRACTORS if c.rfc == rfc)


# ---- servers -------------------------------------------------------------

class Backend:
    """examples/backend/informativa_backend.py on a free 127.0.0.1 port."""

    def __init__(self, workdir):
        self.workdir = os.fspath(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.port = util.free_port()
        self.child = None

    def start(self):
        self.child = util.Child(
            ["/usr/bin/python3", util.src("examples/backend/informativa_backend.py"),
             "--port", str(self.port)], os.path.join(self.workdir, "backend.log"))

        def up():
            if not self.child.alive():
                raise RuntimeError("sample app exited:\n" + self.child.read_log())
            return util.port_open(self.port)
        util.wait_until(up, timeout=15, what=f"sample app on port {self.port}")
        return self

    def stop(self):
        if self.child is not None:
            self.child.stop()
            self.child = None


def apache_kwargs(icsoe_conf_path, backend_port):
    """Arguments of harness.apache.Apache (or the "apache" fixture) for the
    module's pages plus the sample app."""
    snippet = (APP_SNIPPET.replace("@APP@", APP_PATH)
               .replace("@BACKEND@", str(backend_port)))
    return {"conf_snippet": snippet, "icsoe_conf_path": os.fspath(icsoe_conf_path),
            "modules": ("proxy", "proxy_http")}


def make_apache(workdir, icsoe_conf_path, backend_port, port=None):
    """A harness Apache (not started); port=None picks a free one."""
    a = Apache(workdir, **apache_kwargs(icsoe_conf_path, backend_port))
    if port:
        a.port = port
    return a


def point_links_at(conf, apache):
    """Emailed links must reach this Apache (activation_url, never the
    request's Host header)."""
    conf.write(activation_url=apache.url(ACTIVATE_PATH), site_name="ICSOE")


def make_pam(workdir, icsoe_conf_path):
    """The demo PAM service directory (service "icsoe": pam_icsoe for auth,
    account, password and session)."""
    return PamEnv(workdir, icsoe_conf_path)


def pamtester_env(pam):
    return {"LD_PRELOAD": PAM_WRAPPER, "PAM_WRAPPER": "1",
            "PAM_WRAPPER_SERVICE_DIR": pam.dir}


def pamtester_command(pam, curp, ops=("authenticate", "acct_mgmt")):
    """The shell command a person types to log in through PAM."""
    env = " ".join(f"{k}={v}" for k, v in pamtester_env(pam).items())
    return f"{env} {PAMTESTER} -v {PAM_SERVICE} {curp} {' '.join(ops)}"


def pamtester(pam, curp, password, ops=("authenticate", "acct_mgmt")):
    """Run pamtester with the password on stdin; CompletedProcess."""
    return pam.pamtester(curp, *ops, stdin=password + "\n", service=PAM_SERVICE)
