"""The seed guide "Flujo de ingreso del capturista", steps 1-10, in a real
headless Chromium against the demo's site (slapd, SMTP sink, apache2 with
mod_icsoe, the sample app), clicking the visible Spanish buttons; then a
contractor switch, logout, and the same password through PAM (pamtester).

Every step leaves a PNG in the output folder ($ICSOE_E2E_OUT or the test's
tmp_path) and every page of the module and of the app is checked with
axe-core for WCAG 2.0 A/AA violations (all collected in axe.json; the test
fails at the end if there are any, after the whole flow ran)."""
import json
import os
import urllib.parse

from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import demo_site

WEAK_PW = "ana12345"
GOOD_PW = "Tlacuache-Nopal-Volcán-2024"
AXE_TAGS = ["wcag2a", "wcag2aa"]


def xq(text):
    """An XPath string literal for text (may hold quotes)."""
    if "'" not in text:
        return f"'{text}'"
    return "concat('" + "', \"'\", '".join(text.split("'")) + "')"


def detached(element):
    """True once element left the document (the page navigated).  Besides
    StaleElementReference, chromedriver may answer "Node with given id does
    not belong to the document" while the old page is being torn down."""
    try:
        element.is_enabled()
        return False
    except WebDriverException:
        return True


class Walk:
    """The browser plus what the walk collects (screenshots, axe findings)."""

    def __init__(self, driver, site, out_dir, axe_js):
        self.d = driver
        self.site = site
        self.out = out_dir
        self.axe_js = axe_js
        self.violations = {}     # step -> [violation]
        self.shots = []
        driver.set_script_timeout(60)

    def url(self, path):
        return self.site.apache.url(path)

    def path(self):
        return urllib.parse.urlsplit(self.d.current_url).path

    def wait(self, xpath, timeout=15):
        try:
            return WebDriverWait(self.d, timeout).until(
                EC.presence_of_element_located((By.XPATH, xpath)))
        except TimeoutException:
            raise AssertionError(f"not found: {xpath}\nat {self.d.current_url}:\n"
                                 + self.d.page_source[:3000]) from None

    def text(self):
        return self.d.find_element(By.TAG_NAME, "body").text

    def button(self, label):
        return self.wait(f"//button[normalize-space()={xq(label)}]"
                         f" | //input[@type='submit' and @value={xq(label)}]")

    def click(self, label, then):
        """Click the button showing `label`; wait for the next page and for
        the element `then` (XPath) on it."""
        old = self.d.find_element(By.TAG_NAME, "html")
        self.button(label).click()
        WebDriverWait(self.d, 15).until(lambda d: detached(old))
        if "No fue posible completar la solicitud" in self.text():
            audit = [ln for ln in self.site.apache.error_log().splitlines()
                     if "icsoe audit" in ln]
            raise AssertionError(f"'{label}' was refused at {self.d.current_url}:\n"
                                 + self.text() + "\napache audit:\n"
                                 + "\n".join(audit[-5:]))
        return self.wait(then)

    def field(self, label):
        """The input bound to the <label> showing `label`."""
        lab = self.wait(f"//label[normalize-space()={xq(label)}]")
        return self.d.find_element(By.ID, lab.get_attribute("for"))

    def type(self, label, value):
        f = self.field(label)
        f.clear()
        f.send_keys(value)

    def shot(self, name):
        path = os.path.join(self.out, name + ".png")
        self.d.save_screenshot(path)
        self.shots.append(path)

    def axe(self, step):
        """Run axe-core on the current page (WCAG 2.0 A and AA rules)."""
        self.d.execute_script(self.axe_js)
        raw = self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
            ".then(r => done(JSON.stringify(r.violations.map(v => ({"
            "  id: v.id, impact: v.impact, help: v.help, tags: v.tags,"
            "  nodes: v.nodes.map(n => ({target: n.target, html: n.html,"
            "                            summary: n.failureSummary}))})))))"
            ".catch(e => done(JSON.stringify({error: String(e)})));", AXE_TAGS)
        found = json.loads(raw)
        assert not (isinstance(found, dict) and "error" in found), found
        if found:
            self.violations[f"{step} {self.path()}"] = found

    def page(self, step, shot):
        self.shot(shot)
        self.axe(step)


def mail_page(walk, html_path, shot):
    """Open the exported .html copy of an email (what a mail client shows)."""
    walk.d.get("file://" + html_path)
    walk.shot(shot)


def choose(walk, rfc):
    """On "Contratista a trabajar": the row with this RFC, option Seleccionar."""
    row = f"//tr[td[normalize-space()={xq(rfc)}]]"
    walk.wait(row).find_element(
        By.XPATH, ".//label[normalize-space()='Seleccionar']").click()
    radio = walk.d.find_element(By.XPATH, f"{row}//input[@type='radio']")
    assert radio.is_selected()


def test_seed_flow(site, browser, out_dir, axe_js):
    cap = demo_site.CAPTURIST
    first = demo_site.contractor(cap.contractors[1])    # the one with '&'
    second = demo_site.contractor(cap.contractors[0])
    unassigned = [c for c in demo_site.CONTRACTORS if c.rfc not in cap.contractors]
    w = Walk(browser, site, out_dir, axe_js)

    # 1. the activation email (sent by "icsoectl capturist add") and its link
    site.smtp.wait_for(1)
    (eml, html_copy, subject), = site.mail.export_new()
    msg = site.smtp.messages()[0]
    assert cap.email in msg["To"] and "contraseña" in subject.lower()
    link = site.smtp.links(msg)[0]
    assert link.startswith(w.url(demo_site.ACTIVATE_PATH) + "?t=")
    mail_page(w, html_copy, "01-correo-con-liga")
    assert cap.name in w.text()
    old = w.d.find_element(By.TAG_NAME, "html")
    w.wait("//a[normalize-space()='Generar contraseña']").click()
    WebDriverWait(w.d, 15).until(lambda d: detached(old))
    assert w.d.current_url == link
    w.wait("//label[normalize-space()='Contraseña nueva']")
    assert cap.curp in w.text() and cap.name in w.text()
    w.axe("1")

    # 2. a weak password first: the rules appear; then a good one
    w.type("Contraseña nueva", WEAK_PW)
    w.type("Confirmar contraseña", WEAK_PW)
    alert = w.click("Guardar Contraseña", "//*[@role='alert']")
    assert "15" in alert.text and len(alert.find_elements(By.TAG_NAME, "li")) >= 1
    assert WEAK_PW not in w.d.page_source
    w.page("2", "02-generar-contrasena-reglas")
    entry = site.slapd.get(site.slapd.capturist_dn(cap.curp), ["icsoeStatus"])
    assert entry["icsoeStatus"] == ["pending"]
    w.type("Contraseña nueva", GOOD_PW)
    w.type("Confirmar contraseña", GOOD_PW)

    # 3. "contraseña actualizada" and Aceptar
    w.click("Guardar Contraseña", "//*[contains(., 'Tu contraseña se actualizó correctamente')]")
    w.page("3", "03-contrasena-actualizada")
    assert site.slapd.can_bind(site.slapd.capturist_dn(cap.curp), GOOD_PW)
    w.click("Aceptar", "//label[normalize-space()='Usuario']")
    assert w.path() == demo_site.LOGIN_PATH

    # 4. the "contraseña registrada" email
    site.smtp.wait_for(2)
    (eml, html_copy, subject), = site.mail.export_new()
    msg = site.smtp.messages()[1]
    assert cap.email in msg["To"] and "registrada" in subject
    assert not site.smtp.links(msg)
    mail_page(w, html_copy, "04-correo-contrasena-registrada")
    assert cap.name in w.text()

    # 5. login with the CURP typed in lowercase
    w.d.get(w.url(demo_site.LOGIN_PATH))
    w.type("Usuario", cap.curp.lower())
    w.type("Contraseña", GOOD_PW)
    w.page("5", "05-inicio-de-sesion")

    # 6. home: Seleccionar Contratista
    w.click("Ingresar", "//button[normalize-space()='Seleccionar Contratista']")
    assert w.path() == demo_site.HOME_PATH
    assert cap.name in w.text() and cap.curp in w.text()
    w.page("6", "06-inicio-capturista")

    # 7. "Contratista a trabajar": only the assigned contractors
    w.click("Seleccionar Contratista", "//h1[normalize-space()='Contratista a trabajar']")
    body = w.text()
    for c in (first, second):
        assert c.rfc in body and c.name in body and c.repse in body
    for c in unassigned:
        assert c.rfc not in body
    w.page("7", "07-contratista-a-trabajar")
    choose(w, first.rfc)

    # 8. Siguiente
    w.shot("08-seleccionar-y-siguiente")
    w.click("Siguiente", "//button[normalize-space()='Continuar']")

    # 9. the confirmation names the contractor; Continuar
    body = w.text()
    assert f"Elegiste al contratista {first.rfc} — {first.name}" in body
    w.page("9", "09-confirmar-contratista")
    w.click("Continuar", "//h1")

    # 10. the downstream app: contractor's RFC and name, the capturist's CURP
    assert w.path() == demo_site.APP_PATH, w.d.current_url
    body = w.text()
    for value in (first.rfc, first.name, cap.curp, cap.name):
        assert value in body, (value, body)
    w.page("10", "10-registro-de-informativa")

    # switch contractor without logging in again
    w.d.get(w.url(demo_site.HOME_PATH))
    assert first.rfc in w.wait("//main").text
    w.click("Seleccionar Contratista", "//h1[normalize-space()='Contratista a trabajar']")
    choose(w, second.rfc)
    w.click("Siguiente", "//button[normalize-space()='Continuar']")
    assert f"Elegiste al contratista {second.rfc} — {second.name}" in w.text()
    w.click("Continuar", "//h1")
    assert w.path() == demo_site.APP_PATH
    body = w.text()
    assert second.rfc in body and second.name in body and first.rfc not in body
    w.page("11", "11-cambio-de-contratista")

    # log out: the app wants a login again
    w.d.get(w.url(demo_site.HOME_PATH))
    w.click("Cerrar sesión", "//label[normalize-space()='Usuario']")
    assert "Sesión cerrada" in w.text()
    w.page("12", "12-sesion-cerrada")
    w.d.get(w.url(demo_site.APP_PATH))
    w.wait("//label[normalize-space()='Usuario']")
    assert w.path() == demo_site.LOGIN_PATH

    # the same password through PAM (pamtester, demo PAM service)
    r = demo_site.pamtester(site.pam, cap.curp, GOOD_PW)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "successfully authenticated" in r.stdout + r.stderr
    r = demo_site.pamtester(site.pam, cap.curp, WEAK_PW, ops=("authenticate",))
    assert r.returncode != 0 and "Authentication failure" in r.stdout + r.stderr

    # accessibility: every page, WCAG 2.0 A and AA
    with open(os.path.join(out_dir, "axe.json"), "w", encoding="utf-8") as f:
        json.dump(w.violations, f, ensure_ascii=False, indent=1)
    summary = [f"{step}: {v['id']} ({v['impact']}) {v['help']} -> "
               f"{[n['target'] for n in v['nodes']]}"
               for step, vs in w.violations.items() for v in vs]
    assert not summary, "axe-core WCAG 2 A/AA violations:\n" + "\n".join(summary)


def test_axe_check_finds_violations(browser, out_dir, axe_js):
    """The accessibility check is live: on a page with an unlabeled input,
    an image without alt text and no lang it reports exactly those rules."""
    bad = ("<!DOCTYPE html><html><head><title>x</title></head><body><main>"
           "<img src='data:,'><form><input type='text' name='q'></form>"
           "</main></body></html>")
    browser.get("data:text/html;charset=utf-8," + urllib.parse.quote(bad))
    w = Walk(browser, None, out_dir, axe_js)
    w.axe("bad")
    found = {v["id"] for vs in w.violations.values() for v in vs}
    assert {"html-has-lang", "image-alt", "label"} <= found, found
