"""mod_icsoe's pages (issue 5 and the selection of issue 6) in a real
apache2 with the built module, a real slapd and a real SMTP sink.

The happy path starts with "icsoectl contractor add" and "icsoectl
capturist add" (which mails the activation link); other tests create
accounts as the rootdn (harness.pam helpers) and issue links through
libicsoe (maildrv issue ... mail), the code icsoectl uses."""
import datetime
import hashlib
import os
import re
import secrets
import subprocess
import time
import urllib.parse

import html5lib
import pytest
import requests

from harness import util
from harness.apache import Apache
from harness.pam import add_capturist, curp as make_curp

COOKIE = "icsoe_session"          # ICSOECookieSecure Off: no __Host- prefix
LOGIN = "/icsoe/ingresar"
ACTIVATE = "/icsoe/activar"
RECOVER = "/icsoe/recuperar"
HOME = "/icsoe/inicio"
SELECT = "/icsoe/contratista"
LOGOUT = "/icsoe/salir"

CURP_A = make_curp("GOPJ800101HDFMRN0")
CURP_B = make_curp("LOMA850505MJCPRR0")
CURP_UNKNOWN = make_curp("RARA900909HOCMMM0")
NAME_A = "Juan Gómez Pérez"
GOOD_PW = "Tlacuache-Nopal-Volcan-2024"
OTHER_PW = "Ajolote Mezcal Huarache 77"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')
_RFC_ALPHABET = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ"


def make_rfc(first):
    """A company RFC (11 characters + SAT mod-11 check digit)."""
    assert len(first) == 11
    padded = " " + first
    total = sum(_RFC_ALPHABET.index(ch) * (13 - i) for i, ch in enumerate(padded))
    r = total % 11
    digit = "0" if r == 0 else ("A" if 11 - r == 10 else str(11 - r))
    return first + digit


def add_contractor(slapd, rfc, name, repse=None):
    attrs = {"objectClass": ["icsoeContractor"], "icsoeRFC": rfc, "o": name}
    if repse:
        attrs["icsoeREPSE"] = repse
    slapd.add(slapd.contractor_dn(rfc), attrs)


def csrf_of(html):
    m = _CSRF.search(html)
    assert m, "no csrf field in:\n" + html[:2000]
    return m.group(1)


def strip_csrf(html):
    return _CSRF.sub('name="csrf" value="X"', html)


def local(url):
    """Path and query of an emailed link (the conf's activation_url has no
    port: the test server's is added by Site)."""
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def token_of(link):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["t"][0]


class Site:
    """A browser: one cookie jar, no automatic redirects."""

    def __init__(self, apache):
        self.apache = apache
        self.s = requests.Session()

    @staticmethod
    def _checked(r):
        if r.headers.get("Content-Type", "").startswith("text/html"):
            check_html(r.text)
            if r.status_code != 303:
                assert_valid_page(r.text)
        return r

    def get(self, path, **kw):
        return self._checked(self.s.get(self.apache.url(path), allow_redirects=False,
                                        timeout=20, **kw))

    def post(self, path, data, **kw):
        return self._checked(self.s.post(self.apache.url(path), data=data,
                                         allow_redirects=False, timeout=20, **kw))

    def form(self, path):
        r = self.get(path)
        assert r.status_code == 200, (r.status_code, r.text[:500])
        return r, csrf_of(r.text)

    def cookie(self):
        return self.s.cookies.get(COOKIE)

    def login(self, curp, password, ret=None):
        _, csrf = self.form(LOGIN)
        data = {"csrf": csrf, "curp": curp, "password": password}
        if ret is not None:
            data["r"] = ret
        return self.post(LOGIN, data)


@pytest.fixture
def env(tmp_path, slapd, smtp, icsoe_conf, apache):
    """slapd + SMTP sink + apache2 with the module; revalidation forced on
    every protected request (interval 0) unless a test starts its own."""
    class Env:
        pass
    e = Env()
    e.slapd, e.smtp, e.conf = slapd, smtp, icsoe_conf
    e.apache = apache(icsoe_conf_path=icsoe_conf.path, revalidate=0)
    e.tmp = tmp_path
    return e


def maildrv(env, *args):
    r = subprocess.run([util.built("tests/integration/maildrv"), "-c", env.conf.path,
                        *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def icsoectl(env, *args):
    r = subprocess.run([util.built("tools/icsoectl"), "-c", env.conf.path, *args],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def new_pending(env, curp=CURP_A, contractors=()):
    """A pending capturist (no password) and its activation mail; returns
    the link."""
    add_capturist(env.slapd, curp, status="pending", contractors=contractors, cn=NAME_A)
    before = env.smtp.count()
    maildrv(env, "issue", curp, "activation", "mail")
    msgs = env.smtp.wait_for(before + 1)
    links = env.smtp.links(msgs[-1])
    assert links, env.smtp.text(msgs[-1])
    return links[0]


def new_active(env, curp=CURP_A, password=GOOD_PW, contractors=(), cn=NAME_A):
    add_capturist(env.slapd, curp, password=password, status="active",
                  contractors=contractors, cn=cn)


def store_token(env, curp, purpose="activation", lifetime=3600):
    """A token written as the rootdn (for expiry tests)."""
    token = secrets.token_urlsafe(32)
    assert len(token) == 43
    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=lifetime)
    env.slapd.modify(env.slapd.capturist_dn(curp), {
        "icsoeTokenHash": hashlib.sha256(token.encode()).hexdigest(),
        "icsoeTokenExpiry": expiry.strftime("%Y%m%d%H%M%SZ"),
        "icsoeTokenPurpose": purpose,
    })
    return token


def assert_security_headers(r):
    for k, v in SECURITY_HEADERS.items():
        assert r.headers.get(k) == v, (k, r.headers.get(k))
    csp = r.headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp and "script-src" not in csp


def check_html(html):
    """What every HTML answer of the module must be: HTML5 that parses
    without a single error, Spanish, no inline style or script (the CSP
    forbids them), unique ids, every label bound to an input."""
    html5lib.HTMLParser(strict=True).parse(html)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="es-MX">' in html
    assert "style=" not in html and "<script" not in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), ids
    for target in re.findall(r'<label[^>]* for="([^"]+)"', html):
        assert re.search(rf'<input[^>]* id="{re.escape(target)}"', html), target


def assert_valid_page(html):
    check_html(html)
    assert 'name="viewport"' in html
    assert 'href="/icsoe/icsoe.css"' in html


def capturist(env, curp):
    return env.slapd.get(env.slapd.capturist_dn(curp),
                         ["icsoeStatus", "icsoeTokenHash", "icsoeEpoch", "userPassword"])


# ---------------------------------------------------------------- issue 5

def test_happy_path_activation_login_home_logout(env):
    rfc = make_rfc("SEA010101AB")
    icsoectl(env, "contractor", "add", "--rfc", rfc, "--name", "Servicios del Altiplano SA")
    icsoectl(env, "capturist", "add", "--curp", CURP_A, "--name", NAME_A,
             "--email", f"{CURP_A.lower()}@example.test", "--contractor", rfc)
    msgs = env.smtp.wait_for(1)
    link = env.smtp.links(msgs[0])[0]
    assert capturist(env, CURP_A)["icsoeStatus"] == ["pending"]
    env.smtp.clear()
    site = Site(env.apache)

    # the link twice: a form both times, the token untouched (GET never
    # consumes: mail scanners prefetch links)
    for _ in range(2):
        r = site.get(local(link))
        assert r.status_code == 200, r.text
        assert_security_headers(r)
        assert_valid_page(r.text)
        for words in ("Contraseña nueva", "Confirmar contraseña", "Guardar Contraseña",
                      'autocomplete="new-password"', NAME_A, CURP_A):
            assert words in r.text
        assert "15" in r.text  # the rules list names the minimum length
        assert capturist(env, CURP_A)["icsoeTokenHash"]
    csrf = csrf_of(r.text)
    token = token_of(link)

    # mismatched confirmation
    r = site.post(ACTIVATE, {"csrf": csrf, "t": token, "password": GOOD_PW,
                             "password_confirm": GOOD_PW + "x"})
    assert r.status_code == 200
    assert "Las contraseñas no coinciden" in r.text
    assert GOOD_PW not in r.text
    assert capturist(env, CURP_A)["icsoeStatus"] == ["pending"]

    # weak: every failed rule shown, nothing echoed
    weak = "juan1"
    r = site.post(ACTIVATE, {"csrf": csrf, "t": token, "password": weak,
                             "password_confirm": weak})
    assert r.status_code == 200
    alert = r.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert "15" in alert                       # too short
    assert alert.count("<li>") >= 2           # ... and contains the name
    assert 'value="juan1"' not in r.text and ">juan1<" not in r.text
    assert capturist(env, CURP_A)["icsoeStatus"] == ["pending"]

    # good
    r = site.post(ACTIVATE, {"csrf": csrf, "t": token, "password": GOOD_PW,
                             "password_confirm": GOOD_PW})
    assert r.status_code == 200, r.text
    assert "Tu contraseña se actualizó correctamente" in r.text
    assert "Aceptar" in r.text and f'action="{LOGIN}"' in r.text
    assert_security_headers(r)
    entry = capturist(env, CURP_A)
    assert entry["icsoeStatus"] == ["active"] and "icsoeTokenHash" not in entry
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_A), GOOD_PW)

    # setting the password did not log in
    assert site.get(HOME).status_code == 303

    # the token is spent: POST and GET get the invalid-link page
    r = site.post(ACTIVATE, {"csrf": csrf, "t": token, "password": OTHER_PW,
                             "password_confirm": OTHER_PW})
    assert r.status_code == 404 and "no es válida" in r.text
    assert site.get(local(link)).status_code == 404
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_A), GOOD_PW)

    # the "contraseña registrada" notice
    msgs = env.smtp.wait_for(1)
    assert f"{CURP_A.lower()}@example.test" in msgs[0]["To"]
    assert not env.smtp.links(msgs[0])

    # login: wrong password → generic message
    r = site.login(CURP_A, OTHER_PW)
    assert r.status_code == 200 and "Usuario o contraseña incorrectos" in r.text
    # right password (lower case CURP accepted) → new session, 303 home
    pre = site.cookie()
    assert pre
    r = site.login(CURP_A.lower(), GOOD_PW)
    assert r.status_code == 303 and r.headers["Location"] == HOME
    post = site.cookie()
    assert post and post != pre
    r = site.get(HOME)
    assert r.status_code == 200 and NAME_A in r.text
    assert "Seleccionar Contratista" in r.text and "Cerrar sesión" in r.text
    assert_security_headers(r)
    assert_valid_page(r.text)
    env.apache.wait_log(f"event=login-ok curp={CURP_A}")

    # logout; a copy of the cookie kept elsewhere is refused afterwards
    copy = Site(env.apache)
    copy.s.cookies.set(COOKIE, site.cookie(), domain="127.0.0.1", path="/")
    assert copy.get(HOME).status_code == 200
    r = site.post(LOGOUT, {"csrf": csrf_of(site.get(HOME).text)})
    assert r.status_code == 200 and "Sesión cerrada" in r.text
    assert 'name="curp"' in r.text  # the login form
    assert site.get(HOME).status_code == 303
    r = copy.get(HOME)
    assert r.status_code == 303 and r.headers["Location"].startswith(LOGIN)
    env.apache.wait_log(f"event=logout curp={CURP_A}")
    log = env.apache.error_log()
    assert GOOD_PW not in log and token not in log and post not in log


def test_login_failures_look_the_same(env):
    new_active(env)
    add_capturist(env.slapd, CURP_B, status="pending", cn="Ana López")
    site = Site(env.apache)
    _, csrf = site.form(LOGIN)
    cookie = site.cookie()
    answers = {}
    for label, user in (("malformed", "NOES-UNA-CURP"), ("bad-digit", CURP_UNKNOWN[:17] + "X"),
                        ("unknown", CURP_UNKNOWN), ("pending", CURP_B),
                        ("wrong-password", CURP_A)):
        r = site.post(LOGIN, {"csrf": csrf, "curp": user, "password": "contraseña equivocada"})
        answers[label] = r
        # no failure touches the cookie (so none can be told apart by it)
        assert "Set-Cookie" not in r.headers, label
        assert site.cookie() == cookie
    first = answers["wrong-password"]
    assert first.status_code == 200 and "Usuario o contraseña incorrectos" in first.text
    for label, r in answers.items():
        assert r.status_code == first.status_code, label
        assert strip_csrf(r.text) == strip_csrf(first.text), label
    env.apache.wait_log("event=login-failed curp=NOES-UNA-CURP")


def test_locked_account(env):
    """An admin-locked account answers like a wrong password (the audit log
    says why); see test_attacks.py for the enumeration this prevents."""
    new_active(env)
    env.slapd.modify(env.slapd.capturist_dn(CURP_A), {"icsoeStatus": "locked"})
    r = Site(env.apache).login(CURP_A, GOOD_PW)
    assert r.status_code == 200
    assert "Usuario o contraseña incorrectos" in r.text and "bloqueada" not in r.text
    env.apache.wait_log(f"event=login-locked curp={CURP_A}")


def test_ppolicy_lockout_answers_the_generic_message(env):
    new_active(env)
    env.slapd.set_policy(pwdMaxFailure=3)
    site = Site(env.apache)
    for _ in range(3):
        r = site.login(CURP_A, "contraseña equivocada")
        assert "Usuario o contraseña incorrectos" in r.text
    r = site.login(CURP_A, GOOD_PW)
    assert r.status_code == 200 and "Usuario o contraseña incorrectos" in r.text
    assert "bloqueada" not in r.text
    assert site.get(HOME).status_code == 303
    env.apache.wait_log(f"event=login-locked curp={CURP_A}")


def test_malformed_curp_costs_a_directory_bind(env):
    """A malformed CURP is verified as a well-formed stand-in: slapd sees a
    bind (of the decoy) exactly as for an unknown CURP."""
    site = Site(env.apache)
    _, csrf = site.form(LOGIN)

    def decoy_binds():
        log = open(env.slapd.logpath, encoding="utf-8", errors="replace").read()
        return log.count(f'BIND dn="{env.slapd.decoy_dn}" method=')
    for user in ("NOES-UNA-CURP", CURP_UNKNOWN):
        before = decoy_binds()
        r = site.post(LOGIN, {"csrf": csrf, "curp": user, "password": "una contraseña"})
        assert "Usuario o contraseña incorrectos" in r.text
        util.wait_until(lambda: decoy_binds() == before + 1, timeout=5,
                        what=f"one decoy bind for {user}")


def test_recovery(env):
    new_active(env, password=OTHER_PW)
    site = Site(env.apache)
    r, csrf = site.form(LOGIN)
    assert f'href="{RECOVER}"' in r.text and "¿Olvidaste tu contraseña?" in r.text
    r, csrf = site.form(RECOVER)
    assert "CURP" in r.text and "Correo electrónico" in r.text
    assert_valid_page(r.text)

    def ask(curp, email):
        _, c = site.form(RECOVER)
        return site.post(RECOVER, {"csrf": c, "curp": curp, "email": email})

    same = "Si los datos coinciden con una cuenta activa, recibirás un correo con las instrucciones"
    unknown = ask(CURP_UNKNOWN, "x@example.test")
    wrong = ask(CURP_A, "otra@example.test")
    malformed = ask("XYZ", f"{CURP_A.lower()}@example.test")
    env.smtp.assert_quiet(0.5)
    hit = ask(CURP_A.lower(), f"{CURP_A.upper()}@EXAMPLE.TEST")   # case-insensitive
    for r in (unknown, wrong, malformed, hit):
        assert r.status_code == 200 and same in r.text
        assert r.text == hit.text
    msgs = env.smtp.wait_for(1)
    link = env.smtp.links(msgs[0])[0]

    # a second request within recover_interval sends nothing
    again = ask(CURP_A, f"{CURP_A.lower()}@example.test")
    assert again.text == hit.text
    time.sleep(0.5)
    assert env.smtp.count() == 1

    # the reset link leads to the same password page
    r, csrf = site.form(local(link))
    assert "Guardar Contraseña" in r.text
    r = site.post(ACTIVATE, {"csrf": csrf, "t": token_of(link), "password": GOOD_PW,
                             "password_confirm": GOOD_PW})
    assert "Tu contraseña se actualizó correctamente" in r.text
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_A), GOOD_PW)
    assert not env.slapd.can_bind(env.slapd.capturist_dn(CURP_A), OTHER_PW)
    assert env.smtp.wait_for(2)
    assert site.login(CURP_A, GOOD_PW).status_code == 303
    env.apache.wait_log(f"event=recover-sent curp={CURP_A}")


def test_pending_account_gets_no_reset_link(env):
    add_capturist(env.slapd, CURP_B, status="pending", cn="Ana López")
    site = Site(env.apache)
    _, csrf = site.form(RECOVER)
    r = site.post(RECOVER, {"csrf": csrf, "curp": CURP_B,
                            "email": f"{CURP_B.lower()}@example.test"})
    assert r.status_code == 200 and "Si los datos coinciden" in r.text
    env.smtp.assert_quiet(0.5)


def test_expired_and_bogus_tokens(env):
    add_capturist(env.slapd, CURP_A, status="pending", cn=NAME_A)
    token = store_token(env, CURP_A, lifetime=-60)
    site = Site(env.apache)
    for q in (f"?t={token}", "?t=" + "A" * 43, "?t=corto", "", "?t=%00"):
        r = site.get(ACTIVATE + q)
        assert r.status_code == 404, q
        assert "no es válida o ya expiró" in r.text
        assert "contratista" in r.text and f'href="{RECOVER}"' in r.text
        assert_security_headers(r)
    _, csrf = site.form(LOGIN)
    r = site.post(ACTIVATE, {"csrf": csrf, "t": token, "password": GOOD_PW,
                             "password_confirm": GOOD_PW})
    assert r.status_code == 404
    assert capturist(env, CURP_A)["icsoeStatus"] == ["pending"]


def test_csrf_required(env):
    new_active(env)
    link_token = store_token(env, CURP_A, purpose="reset")
    site = Site(env.apache)
    _, csrf = site.form(LOGIN)
    good = {"curp": CURP_A, "password": GOOD_PW}
    forms = [
        (LOGIN, good),
        (ACTIVATE, {"t": link_token, "password": OTHER_PW, "password_confirm": OTHER_PW}),
        (RECOVER, {"curp": CURP_A, "email": f"{CURP_A.lower()}@example.test"}),
    ]
    for path, data in forms:
        assert site.post(path, data).status_code == 403, path                    # missing
        r = site.post(path, dict(data, csrf="A" * 22))                            # wrong
        assert r.status_code == 403, path
        assert_security_headers(r)
        nocookie = requests.post(env.apache.url(path), data=dict(data, csrf=csrf),
                                 allow_redirects=False, timeout=20)
        assert nocookie.status_code == 403, path                                   # no session
        # a zeroed secret's token must not pass without a cookie either
        zero = requests.post(env.apache.url(path), data=dict(data, csrf="A" * 22),
                             allow_redirects=False, timeout=20)
        assert zero.status_code == 403, path
    # a foreign Origin is refused even with the right token
    r = site.post(LOGIN, dict(good, csrf=csrf), headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert env.smtp.count() == 0
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_A), GOOD_PW)
    assert capturist(env, CURP_A)["icsoeTokenHash"]
    # logout without a valid token ends nothing
    assert site.login(CURP_A, GOOD_PW).status_code == 303
    assert site.post(LOGOUT, {"csrf": "B" * 22}).status_code == 403
    assert site.get(HOME).status_code == 200


def test_oversized_body(env):
    site = Site(env.apache)
    _, csrf = site.form(LOGIN)
    r = site.post(LOGIN, {"csrf": csrf, "curp": CURP_A, "password": "x" * 9000})
    assert r.status_code == 413
    assert_security_headers(r)


def test_session_reissued_on_login(env):
    new_active(env)
    site = Site(env.apache)
    site.form(LOGIN)
    pre = site.cookie()
    # the pre-login cookie opens no protected page
    assert site.get(HOME).status_code == 303
    r = site.login(CURP_A, GOOD_PW)
    assert r.status_code == 303
    set_cookie = r.headers["Set-Cookie"]
    assert set_cookie.startswith(COOKIE + "=") and "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie
    assert site.cookie() != pre
    # the old pre-login value still opens nothing
    other = Site(env.apache)
    other.s.cookies.set(COOKIE, pre, domain="127.0.0.1", path="/")
    assert other.get(HOME).status_code == 303


@pytest.mark.parametrize("ret", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "%2F%2Fevil.example",
    "/%5Cevil.example", "/%2F/evil.example", "javascript:alert(1)", "http:/evil.example",
    "\\\\evil.example", " //evil.example", "/\t/evil.example",
])
def test_return_path_never_leaves_the_site(env, ret):
    new_active(env)
    site = Site(env.apache)
    r = site.get(LOGIN + "?r=" + urllib.parse.quote(ret, safe=""))
    assert r.status_code == 200
    assert 'name="r" value=""' in r.text
    r = site.login(CURP_A, GOOD_PW, ret=ret)
    assert r.status_code == 303
    assert r.headers["Location"] == HOME


def test_return_path_same_site(env):
    new_active(env)
    site = Site(env.apache)
    r = site.get(LOGIN + "?r=" + urllib.parse.quote("/informativa/alta?x=1&y=2", safe=""))
    assert 'name="r" value="/informativa/alta?x=1&amp;y=2"' in r.text
    r = site.login(CURP_A, GOOD_PW, ret="/informativa/alta?x=1&y=2")
    assert r.status_code == 303 and r.headers["Location"] == "/informativa/alta?x=1&y=2"
    # the 303's note links the same place, escaped for HTML
    assert '<a href="/informativa/alta?x=1&amp;y=2">Continuar</a>' in r.text
    assert r.headers["Content-Length"] == str(len(r.content))
    # a protected page without a session sends the browser to the login
    # page with the way back
    r = Site(env.apache).get(HOME + "?a=1")
    assert r.status_code == 303
    loc = urllib.parse.urlsplit(r.headers["Location"])
    assert loc.path == LOGIN
    assert urllib.parse.parse_qs(loc.query) == {"r": ["/icsoe/inicio?a=1"]}


def test_ldap_down_then_back(env):
    new_active(env)
    link_token = store_token(env, CURP_A, purpose="reset")
    site = Site(env.apache)
    _, csrf = site.form(LOGIN)
    env.slapd.stop()
    env.slapd.wait_stopped()
    r = site.post(LOGIN, {"csrf": csrf, "curp": CURP_A, "password": GOOD_PW})
    assert r.status_code == 503
    assert "no está disponible" in r.text
    assert_security_headers(r)
    assert site.get(f"{ACTIVATE}?t={link_token}").status_code == 503
    _, c = site.form(RECOVER)
    r = site.post(RECOVER, {"csrf": c, "curp": CURP_A, "email": "x@example.test"})
    assert r.status_code == 503
    env.slapd.start()
    r = site.post(LOGIN, {"csrf": csrf, "curp": CURP_A, "password": GOOD_PW})
    assert r.status_code == 303, r.text
    assert site.get(HOME).status_code == 200


def test_logout_get_only_confirms(env):
    new_active(env)
    site = Site(env.apache)
    assert site.login(CURP_A, GOOD_PW).status_code == 303
    r = site.get(LOGOUT)
    assert r.status_code == 200 and "Cerrar sesión" in r.text
    assert site.get(HOME).status_code == 200
    r = site.s.put(env.apache.url(LOGOUT), allow_redirects=False, timeout=20)
    assert r.status_code == 405
    # without a session the confirmation is not needed
    assert Site(env.apache).get(LOGOUT).status_code == 303


def test_stylesheet_and_pages_are_clean(env):
    site = Site(env.apache)
    css = site.get("/icsoe/icsoe.css")
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert ":focus-visible" in css.text and "@media" in css.text
    for path in (LOGIN, RECOVER, ACTIVATE + "?t=x"):
        r = site.get(path)
        assert_valid_page(r.text)
        assert 'href="/icsoe/icsoe.css"' in r.text
        assert_security_headers(r)
    r = site.get(LOGIN)
    assert 'autocomplete="username"' in r.text and 'autocomplete="current-password"' in r.text
    assert '<label for="curp">Usuario</label>' in r.text and "Ingresar" in r.text


def test_template_override(env, apache):
    new_active(env)
    tdir = env.tmp / "pages"
    tdir.mkdir()
    (tdir / "login.html").write_text(
        "<!DOCTYPE html><html lang=\"es-MX\"><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width\"><title>propia</title>"
        "<link rel=\"stylesheet\" href=\"{{css_url}}\">"
        "<p>PÁGINA PROPIA {{site_name}}</p>{{&message_html}}"
        "<form method=\"post\" action=\"{{action}}\"><input type=\"hidden\" name=\"csrf\" "
        "value=\"{{csrf}}\"><input name=\"r\" value=\"{{return_path}}\"></form></html>\n")
    os.chmod(tdir, 0o755)
    a = apache(icsoe_conf_path=env.conf.path, revalidate=0,
               conf_snippet=f"ICSOETemplateDir {tdir}\n")
    site = Site(a)
    r, csrf = site.form(LOGIN)
    assert "PÁGINA PROPIA ICSOE" in r.text
    # a built-in page still comes from the module
    assert "Recuperar contraseña" in site.get(RECOVER).text
    assert site.login(CURP_A, GOOD_PW).status_code == 303
    assert site.get(HOME).status_code == 200


@pytest.mark.parametrize("text, words", [
    ("<p>{{no_such_variable}}</p>\n", "unknown variable 'no_such_variable'"),
    ("<p>{{ site_name }}</p>\n", "home.html"),
    ("<p>{{site_name</p>\n", "home.html"),
])
def test_broken_template_override_fails_the_syntax_check(tmp_path, text, words):
    """A broken override is found by "apache2 -t" (and stops the start),
    naming the file, instead of a 500 for everyone reaching that page."""
    tdir = tmp_path / "pages"
    tdir.mkdir()
    (tdir / "home.html").write_text(text)
    os.chmod(tdir, 0o755)
    a = Apache(tmp_path / "apache", conf_snippet=f"ICSOETemplateDir {tdir}\n")
    rc, out = a.check_config()
    assert rc != 0, out
    assert "ICSOETemplateDir" in out and "home.html" in out and words in out, out


# ---------------------------------------------------------------- issue 6

def logged_in(env, contractors, curp=CURP_A):
    new_active(env, curp=curp, contractors=contractors)
    site = Site(env.apache)
    assert site.login(curp, GOOD_PW).status_code == 303
    return site


def test_select_flow_and_switch(env):
    rfc1 = make_rfc("PEH010101AB")
    rfc2 = make_rfc("SEM020202CD")
    add_contractor(env.slapd, rfc1, "Peña & Hijos, S.A. de C.V.", repse="AR12345/2021")
    add_contractor(env.slapd, rfc2, "Servicios del Mayab <SC>")
    site = logged_in(env, [rfc1, rfc2])
    home = site.get(HOME)
    assert f'action="{SELECT}"' in home.text
    r = site.get(SELECT)
    assert r.status_code == 200
    assert_valid_page(r.text)
    assert_security_headers(r)
    assert "Contratista a trabajar" in r.text and "Siguiente" in r.text
    assert "Peña &amp; Hijos, S.A. de C.V." in r.text and "AR12345/2021" in r.text
    assert "Servicios del Mayab &lt;SC&gt;" in r.text
    assert r.text.count('type="radio"') == 2 and r.text.count("Seleccionar</label>") == 2
    csrf = csrf_of(r.text)

    # Siguiente without a choice: the list again with a message
    r = site.post(SELECT, {"csrf": csrf, "step": "siguiente"})
    assert r.status_code == 200 and "Selecciona un contratista" in r.text

    # Siguiente → confirmation; Cancelar → back to the list
    r = site.post(SELECT, {"csrf": csrf, "step": "siguiente", "rfc": rfc1})
    assert r.status_code == 200
    assert f"<p>Elegiste al contratista {rfc1} — Peña &amp; Hijos, S.A. de C.V.</p>\n<p>¿Deseas continuar?</p>" in r.text
    assert "Continuar" in r.text and "Cancelar" in r.text
    assert r.text.count('name="csrf"') == 2
    r = site.post(SELECT, {"csrf": csrf, "step": "cancelar"})
    assert r.status_code == 303 and r.headers["Location"] == SELECT
    assert rfc1 not in site.get(HOME).text

    # Continuar → stored in a re-issued session, 303 home
    before = site.cookie()
    r = site.post(SELECT, {"csrf": csrf, "step": "continuar", "rfc": rfc1.lower()})
    assert r.status_code == 303 and r.headers["Location"] == HOME
    assert r.headers["Set-Cookie"].count(COOKIE + "=") == 1
    assert site.cookie() != before
    r = site.get(HOME)
    assert rfc1 in r.text and "Peña &amp; Hijos" in r.text
    env.apache.wait_log(f"event=select-ok curp={CURP_A}")
    # the previous choice's forms stop working (new CSRF secret)
    assert site.post(SELECT, {"csrf": csrf, "step": "continuar", "rfc": rfc2}).status_code == 403

    # switch at any time without logging in again
    r = site.get(SELECT)
    assert re.search(rf'value="{rfc1}"[^>]* checked', r.text)
    csrf = csrf_of(r.text)
    r = site.post(SELECT, {"csrf": csrf, "step": "continuar", "rfc": rfc2})
    assert r.status_code == 303
    home = site.get(HOME).text
    assert rfc2 in home and rfc1 not in home


def test_select_forged_rfc(env):
    mine = make_rfc("MIA010101AA")
    other = make_rfc("OTR030303BB")
    add_contractor(env.slapd, mine, "Mía SA")
    add_contractor(env.slapd, other, "Otra SA")
    site = logged_in(env, [mine])
    csrf = csrf_of(site.get(SELECT).text)
    for step in ("siguiente", "continuar"):
        for rfc in (other, "NOESUNRFC", "XAXX010101000", mine + "\r\nX-Bad: 1"):
            r = site.post(SELECT, {"csrf": csrf, "step": step, "rfc": rfc})
            assert r.status_code == 403, (step, rfc)
    env.apache.wait_log(f"event=contractor-forged curp={CURP_A} client=127.0.0.1 detail={other}")
    # the forged value cannot start a log line of its own
    assert not [ln for ln in env.apache.error_log().splitlines() if ln.startswith("X-Bad")]
    home = site.get(HOME).text
    assert other not in home and mine not in home
    # a bad step is a bad request, not a choice
    assert site.post(SELECT, {"csrf": csrf, "step": "otro", "rfc": mine}).status_code == 400


def test_select_paging_and_filter(env):
    rfcs = []
    for i in range(25):
        rfc = make_rfc(f"CON0101{i + 1:02d}A1")
        rfcs.append(rfc)
        add_contractor(env.slapd, rfc, f"Contratista Número {i:02d}")
    site = logged_in(env, rfcs)
    r = site.get(SELECT)
    assert r.text.count('type="radio"') == 20
    assert "Contratistas 1 a 20 de 25" in r.text
    assert "Página siguiente" in r.text and 'name="q"' in r.text
    assert "Buscar por RFC o nombre" in r.text
    before = os.path.getsize(env.slapd.logpath)
    r2 = site.get(SELECT + "?p=2")
    assert r2.text.count('type="radio"') == 5
    assert "Contratistas 21 a 25 de 25" in r2.text and "Página anterior" in r2.text
    # without filter text only the page's contractors are read (issue 16)
    asked = set()
    deadline = time.monotonic() + 5
    while len(asked) < 5 and time.monotonic() < deadline:
        with open(env.slapd.logpath, "rb") as f:
            f.seek(before)
            asked = set(re.findall(r"\(icsoeRFC=([^)]+)\)", f.read().decode("utf-8", "replace")))
        time.sleep(0.05)
    assert asked == {x.lower() for x in rfcs[20:]}
    # and the capturist's entry is read once: the forced revalidation's
    # read is the one the page lists from (two searches in all)
    with open(env.slapd.logpath, "rb") as f:
        f.seek(before)
        ops = f.read().decode("utf-8", "replace")
    assert len(re.findall(r" SRCH base=", ops)) == 2, ops
    shown = set(re.findall(r'name="rfc" id="[^"]+" value="([^"]+)"', r.text + r2.text))
    assert shown == set(rfcs)
    # filter by name (case-insensitive) and by RFC
    r = site.get(SELECT + "?q=" + urllib.parse.quote("número 07"))
    assert r.text.count('type="radio"') == 1 and rfcs[7] in r.text
    r = site.get(SELECT + "?q=" + rfcs[13].lower())
    assert r.text.count('type="radio"') == 1 and rfcs[13] in r.text
    r = site.get(SELECT + "?q=nadie")
    assert r.text.count('type="radio"') == 0 and "Ningún contratista coincide" in r.text
    # the filter survives paging; nonsense pages fall back
    r = site.get(SELECT + "?q=Contratista&p=2")
    assert "Contratistas 21 a 25 de 25" in r.text and "q=Contratista" in r.text
    assert site.get(SELECT + "?p=-1").status_code == 200
    assert site.get(SELECT + "?p=99").text.count('type="radio"') == 5
    # a contractor from page 2 can be chosen
    csrf = csrf_of(r2.text)
    r = site.post(SELECT, {"csrf": csrf, "step": "continuar", "rfc": rfcs[24]})
    assert r.status_code == 303
    assert rfcs[24] in site.get(HOME).text


def test_select_zero_contractors(env):
    site = logged_in(env, [])
    r = site.get(SELECT)
    assert r.status_code == 200
    assert "todavía no tiene contratistas" in r.text and "Pide a un contratista" in r.text
    assert 'type="radio"' not in r.text


def test_select_requires_session(env):
    r = Site(env.apache).get(SELECT)
    assert r.status_code == 303 and r.headers["Location"].startswith(LOGIN + "?r=")
    r = requests.post(env.apache.url(SELECT), data={"step": "continuar"},
                      allow_redirects=False, timeout=20)
    assert r.status_code == 303


def test_module_pages_refuse_a_logged_out_copy_at_once(env, apache):
    """Home and selection revalidate on every request, whatever
    ICSOERevalidateInterval says: a copy of a logged-out cookie gets nothing
    there even within the interval."""
    rfc = make_rfc("SEA010101AB")
    add_contractor(env.slapd, rfc, "Servicios del Altiplano SA")
    new_active(env, contractors=[rfc])
    a = apache(icsoe_conf_path=env.conf.path, revalidate=3600)
    site = Site(a)
    assert site.login(CURP_A, GOOD_PW).status_code == 303
    copy = Site(a)
    copy.s.cookies.set(COOKIE, site.cookie(), domain="127.0.0.1", path="/")
    assert copy.get(SELECT).status_code == 200
    r = site.post(LOGOUT, {"csrf": csrf_of(site.get(HOME).text)})
    assert "Sesión cerrada" in r.text
    for path in (HOME, SELECT):
        r = copy.get(path)
        assert r.status_code == 303 and r.headers["Location"].startswith(LOGIN), path


def test_recovery_answers_before_the_mail_is_sent(env, apache):
    """The slow part of a matching request (token, SMTP) runs after the
    response: with an SMTP server that never answers, the page still comes
    back at once, like for an unknown CURP."""
    import socket
    import threading
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        new_active(env)
        env.conf.write(smtp_url=f"smtp://127.0.0.1:{silent.getsockname()[1]}",
                       smtp_timeout="4")
        a = apache(icsoe_conf_path=env.conf.path)
        site = Site(a)
        timings = {}
        for label, curp in (("unknown", CURP_UNKNOWN), ("match", CURP_A)):
            _, csrf = site.form(RECOVER)
            t0 = time.monotonic()
            r = site.post(RECOVER, {"csrf": csrf, "curp": curp,
                                    "email": f"{CURP_A.lower()}@example.test"})
            timings[label] = time.monotonic() - t0
            assert r.status_code == 200 and "Si los datos coinciden" in r.text
        assert timings["match"] < 2.0, timings
        a.wait_log(f"event=recover-ignored curp={CURP_A} client=127.0.0.1 detail=mail-failed",
                   timeout=15)
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        silent.close()
