"""Fixtures for the browser end-to-end tests.

The servers are the integration suite's own fixtures (slapd, smtp,
icsoe_conf, apache from tests/integration/conftest.py, re-exported here),
assembled into the demo's site by scripts/demo_site.py, so the test walks
exactly what `scripts/demo` shows a person.  The browser is Debian's
chromium driven by Debian's python3-selenium; axe-core (npm registry, see
scripts/test.d/20-e2e) checks each page for WCAG 2 A/AA violations."""
import importlib.util
import os
import sys
import types

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, os.path.join(TOP, "scripts"))

# tests/integration/conftest.py under another module name: pytest already
# holds this file as "conftest"
_spec = importlib.util.spec_from_file_location(
    "icsoe_integration_conftest", os.path.join(TOP, "tests", "integration", "conftest.py"))
_integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_integration)
slapd = _integration.slapd
smtp = _integration.smtp
icsoe_conf = _integration.icsoe_conf
apache = _integration.apache

import demo_site  # noqa: E402
from demo_mail import MailExporter  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
AXE_CANDIDATES = (
    os.environ.get("ICSOE_AXE_JS", ""),
    os.path.expanduser("~/.cache/icsoe-e2e/node_modules/axe-core/axe.min.js"),
)


@pytest.fixture
def out_dir(tmp_path):
    """Where screenshots go: $ICSOE_E2E_OUT or the test's tmp_path."""
    d = os.environ.get("ICSOE_E2E_OUT") or os.path.join(tmp_path, "screenshots")
    os.makedirs(d, exist_ok=True)
    return d


@pytest.fixture
def site(tmp_path, slapd, smtp, icsoe_conf, apache):
    """The demo's site: sample app, Apache (links point at it), sample data
    with the capturist added by icsoectl (one activation email sent), the
    mail exporter and the PAM service directory."""
    backend = demo_site.Backend(tmp_path / "app").start()
    try:
        a = apache(**demo_site.apache_kwargs(icsoe_conf.path, backend.port))
        demo_site.point_links_at(icsoe_conf, a)
        a.graceful()     # re-read icsoe.conf with the real activation_url
        demo_site.add_sample_data(icsoe_conf.path)
        s = types.SimpleNamespace(
            slapd=slapd, smtp=smtp, conf=icsoe_conf, apache=a, backend=backend,
            mail=MailExporter(smtp, tmp_path / "correo"),
            pam=demo_site.make_pam(tmp_path / "pam", icsoe_conf.path))
        yield s
    finally:
        backend.stop()


@pytest.fixture(scope="session")
def axe_js():
    for path in AXE_CANDIDATES:
        if path and os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
    pytest.fail("axe-core not found: run scripts/test.d/20-e2e (npm install axe-core "
                "into ~/.cache/icsoe-e2e) or set ICSOE_AXE_JS to axe.min.js")


@pytest.fixture
def browser(tmp_path):
    """Headless chromium that can reach 127.0.0.1 and nothing else."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--lang=es-MX",
                 "--hide-scrollbars", "--window-size=800,760",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1, "
                 "EXCLUDE localhost",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        opts.add_argument(flag)
    service = Service(CHROMEDRIVER, log_path=os.fspath(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=opts, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
