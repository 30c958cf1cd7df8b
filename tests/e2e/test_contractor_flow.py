"""The contractor's page (issue 14) in a real headless Chromium that signs in
with an e.firma TLS client certificate, then the new capturist's activation
mail leads into the seed flow (activation, login, contractor choice).

How Chromium presents the certificate with nobody to click: the FIEL and
its key go into an NSS database in the browser's $HOME/.pki/nssdb
(certutil/pk12util, libnss3-tools) with the test CA trusted for the
server, and an AutoSelectCertificateForUrls rule picks it for this exact
https://127.0.0.1:PORT.  The rule is the per-profile content setting that
chromedriver writes into the fresh profile (the managed-policy file would
be a system-wide write under /etc; this works as root and as an ordinary
user).  The certificate is asked for at the handshake (SSLVerifyClient
require on a dedicated vhost): Chromium has no TLS 1.3 post-handshake
authentication.

Every page is checked with axe-core (WCAG 2 A/AA) and photographed."""
import json
import os
import subprocess
import types

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import demo_site
from harness import satpki, util
from harness.apache import curp as make_curp, rfc as make_rfc
from test_seed_flow import Walk, detached, xq

CHROMIUM = "/usr/bin/chromium"          # as in conftest.py
CHROMEDRIVER = "/usr/bin/chromedriver"
PAGE = "/icsoe/capturistas"
RFC_A = make_rfc("EDE010101AA")
NAME_A = "EMPRESA DEMO SA DE CV"
RFC_REP = make_rfc("HEGT761003AB")
CURP_REP = make_curp("HEGT761003MDFRNN0")
NEW = types.SimpleNamespace(curp=make_curp("GOPJ800101HDFMRN0"), nombre="Juana",
                            primer="Pérez", segundo="López",
                            email="juana.perez@example.test")
BULK = [(make_curp("LOMA850505MJCPRR0"), "Marta López Mora", "marta@example.test"),
        (make_curp("RARA900909HOCMMM0"), "Raúl Ramos Ruiz", "raul@example.test"),
        (make_curp("PEMA700707MDFXXX0"), "Marina Peña Arce", "marina@example.test")]
GOOD_PW = "Tlacuache-Nopal-Volcán-2024"



def nss_home(home, ca, ident):
    """$HOME/.pki/nssdb holding the test CA (trusted for servers) and the
    FIEL with its key, the way a contractor imports its e.firma."""
    db = os.path.join(home, ".pki", "nssdb")
    os.makedirs(db, mode=0o700)
    os.chmod(os.path.join(home, ".pki"), 0o700)
    p12 = os.path.join(home, "efirma.p12")

    def run(*argv):
        subprocess.run(argv, check=True, capture_output=True, timeout=60)
    run("certutil", "-N", "-d", f"sql:{db}", "--empty-password")
    run("certutil", "-A", "-d", f"sql:{db}", "-n", "AC de pruebas ICSOE SAT",
        "-t", "CT,,", "-i", ca.crt)
    run("openssl", "pkcs12", "-export", "-in", ident.crt, "-inkey", ident.key,
        "-certfile", ca.crt, "-name", f"e.firma {NAME_A}", "-passout", "pass:p12pass",
        "-out", p12)
    run("pk12util", "-i", p12, "-d", f"sql:{db}", "-W", "p12pass", "-K", "")
    return home


def chromium_with_certificate(tmp_path, home, origin, issuer_cn):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--lang=es-MX", "--hide-scrollbars",
                 "--window-size=1100,900",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1, "
                 "EXCLUDE localhost",
                 f"--user-data-dir={tmp_path / 'chromium-contractor'}"):
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {
        "profile.content_settings.exceptions.auto_select_certificate": {
            f"{origin},*": {"setting": {"filters": [{"ISSUER": {"CN": issuer_cn}}]}}}})
    service = Service(CHROMEDRIVER, env=dict(os.environ, HOME=home),
                      log_path=os.fspath(tmp_path / "chromedriver-contractor.log"))
    driver = webdriver.Chrome(options=opts, service=service)
    driver.set_page_load_timeout(45)
    return driver


@pytest.fixture
def csite(tmp_path, slapd, smtp, icsoe_conf, apache):
    pki = tmp_path / "pki"
    ca = satpki.CA(pki)
    ca.server("server")
    port = util.free_port()
    a = apache(icsoe_conf_path=icsoe_conf.path, modules=("socache_shmcb", "ssl"),
               conf_snippet="SSLSessionCache none\n" + satpki.contractor_vhost(port, pki, ca.crt))
    demo_site.point_links_at(icsoe_conf, a)
    a.graceful()
    slapd.add(slapd.contractor_dn(RFC_A), {"objectClass": ["icsoeContractor"],
                                           "icsoeRFC": RFC_A, "o": NAME_A})
    fiel = ca.fiel("fiel", NAME_A, RFC_A, RFC_REP, CURP_REP)
    home = nss_home(os.fspath(tmp_path / "home-fiel"), ca, fiel)
    origin = f"https://127.0.0.1:{port}"
    driver = chromium_with_certificate(tmp_path, home, origin, "AC de pruebas ICSOE SAT")
    try:
        yield types.SimpleNamespace(slapd=slapd, smtp=smtp, conf=icsoe_conf, apache=a,
                                    origin=origin, fiel=fiel, driver=driver, ca=ca,
                                    tmp=tmp_path)
    finally:
        driver.quit()


def row_button(w, curp, label):
    return w.wait(f"//tr[td[normalize-space()={xq(curp)}]]"
                  f"//button[normalize-space()={xq(label)}]")


def click_el(w, element, then):
    old = w.d.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(w.d, 20).until(lambda d: detached(old))
    return w.wait(then)


def test_contractor_page_in_chromium_with_efirma(csite, out_dir, axe_js, tmp_path):
    w = Walk(csite.driver, types.SimpleNamespace(apache=csite.apache), out_dir, axe_js)

    # sign in: the certificate is sent without any prompt
    w.d.get(csite.origin + PAGE)
    w.wait("//h1[normalize-space()='Capturistas']")
    body = w.text()
    assert NAME_A in body and RFC_A in body and "Aún no tienes capturistas" in body
    w.page("c1", "c01-capturistas-vacia")

    # Agregar capturista
    w.type("CURP", NEW.curp.lower())
    w.type("Nombre(s)", NEW.nombre)
    w.type("Primer apellido", NEW.primer)
    w.type("Segundo apellido", NEW.segundo)
    w.type("Correo electrónico", NEW.email)
    w.shot("c02-agregar-capturista")
    w.click("Agregar capturista", f"//*[contains(., 'Se registró al capturista {NEW.curp}')]")
    assert "pendiente de activar" in w.text()
    row = w.wait(f"//tr[td[normalize-space()={xq(NEW.curp)}]]")
    assert "enviado el " in row.text, row.text   # the "Último correo" column
    w.page("c3", "c03-capturista-agregado")
    csite.smtp.wait_for(1)

    # Carga masiva: 3 rows in the Excel way (Windows-1252, ';')
    csv = tmp_path / "capturistas.csv"
    csv.write_bytes(("curp;nombre;correo;rfc\r\n" + "".join(
        f"{c};{n};{e};{RFC_A}\r\n" for c, n, e in BULK)).encode("cp1252"))
    w.field("Archivo CSV").send_keys(os.fspath(csv))
    w.click("Cargar archivo", "//caption[normalize-space()='Resultado por línea']")
    body = w.text()
    assert "3 agregados" in body and "0 rechazados" in body
    for curp, name, _ in BULK:
        assert curp in body and name in body
    w.page("c4", "c04-carga-masiva")
    csite.smtp.wait_for(4)

    # Reenviar liga: the first link dies
    first_link = csite.smtp.links(csite.smtp.messages()[0])[0]
    click_el(w, row_button(w, NEW.curp, "Reenviar liga"),
             "//*[contains(., 'Se envió una nueva liga')]")
    w.page("c5", "c05-reenviar-liga")
    msgs = csite.smtp.wait_for(5)
    new_link = csite.smtp.links(msgs[-1])[0]
    assert NEW.email in msgs[-1]["To"] and new_link != first_link

    # Dar de baja one of the bulk ones
    gone = BULK[2][0]
    click_el(w, row_button(w, gone, "Dar de baja"), "//*[contains(., 'Se dio de baja')]")
    assert gone not in w.d.find_element(By.TAG_NAME, "tbody").text
    w.page("c6", "c06-dar-de-baja")
    assert "icsoeContractorRFC" not in csite.slapd.get(csite.slapd.capturist_dn(gone))

    # the capturist's mail leads into the seed flow (plain http site)
    w.d.get(first_link)
    w.wait("//h1")
    assert "Contraseña nueva" not in w.text()       # the old link is dead
    w.d.get(new_link)
    w.wait("//label[normalize-space()='Contraseña nueva']")
    assert NEW.curp in w.text() and "Juana Pérez López" in w.text()
    w.page("c7", "c07-activar-desde-contratista")
    w.type("Contraseña nueva", GOOD_PW)
    w.type("Confirmar contraseña", GOOD_PW)
    w.click("Guardar Contraseña", "//*[contains(., 'Tu contraseña se actualizó correctamente')]")
    w.click("Aceptar", "//label[normalize-space()='Usuario']")
    w.type("Usuario", NEW.curp)
    w.type("Contraseña", GOOD_PW)
    w.click("Ingresar", "//button[normalize-space()='Seleccionar Contratista']")
    w.click("Seleccionar Contratista", "//h1[normalize-space()='Contratista a trabajar']")
    assert RFC_A in w.text() and NAME_A in w.text()
    w.page("c8", "c08-capturista-elige-contratista")

    # back on the contractor's page the capturist is active
    w.d.get(csite.origin + PAGE)
    row = w.wait(f"//tr[td[normalize-space()={xq(NEW.curp)}]]")
    assert "activo" in row.text and "Reenviar liga" not in row.text

    # the refusal page: the same holder's CSD (sello digital), one HOME each
    csd = csite.ca.csd("csd", NAME_A, RFC_A, RFC_REP, CURP_REP)
    home = nss_home(os.fspath(csite.tmp / "home-csd"), csite.ca, csd)
    os.makedirs(csite.tmp / "csd")
    d2 = chromium_with_certificate(csite.tmp / "csd", home, csite.origin,
                                   "AC de pruebas ICSOE SAT")
    try:
        w2 = Walk(d2, types.SimpleNamespace(apache=csite.apache), out_dir, axe_js)
        w2.violations = w.violations
        d2.get(csite.origin + PAGE)
        w2.wait("//h1[normalize-space()='Usa tu e.firma, no tu sello digital']")
        assert "Certificado de Sello Digital" in w2.text()
        w2.page("c9", "c09-csd-rechazado")
    finally:
        d2.quit()

    with open(os.path.join(out_dir, "axe-contractor.json"), "w", encoding="utf-8") as f:
        json.dump(w.violations, f, ensure_ascii=False, indent=1)
    summary = [f"{step}: {v['id']} ({v['impact']}) {v['help']} -> "
               f"{[n['target'] for n in v['nodes']]}"
               for step, vs in w.violations.items() for v in vs]
    assert not summary, "axe-core WCAG 2 A/AA violations:\n" + "\n".join(summary)
