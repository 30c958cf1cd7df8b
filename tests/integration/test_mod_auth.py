"""AuthType ICSOE + Require icsoe-contratista in a real apache2 against a
real slapd: what downstream applications receive (mod_proxy backend and
CGI), header spoofing, the 303/401/403 rules, and revalidation against
LDAP (revoked contractor, locked account, ended session, directory down).

Sessions come from the real login and selection pages in the full-flow
tests, and from tests/integration/sealdrv elsewhere (same key, same site)."""
import http.client
import json
import os
import re
import time

import pytest
import requests

from harness import apache as ha
from harness import util
from harness.apache import BROWSER, API, SECURITY_HEADERS

CURP = ha.curp("NUAJ850615HJCXXN0")
NAME = "José Ángel Núñez"
PASSWORD = "caballo-bateria-grapa-correcta-7"
RFC_A = ha.rfc("CNA010101AB")
NAME_A = "Construcciones Ñandú & Asociados, S.A. de C.V."
RFC_B = ha.rfc("LAL020202CD")
NAME_B = "Limpieza Álvarez <Hermanos>"
RFC_C = ha.rfc("OTR030303EF")   # exists, not assigned to the capturist
NAME_C = "Otro Contratista"

SNIPPET = """
ICSOESessionIdleTimeout 600
ICSOESessionMaxAge 3600
ScriptAlias /cgi/ "@DOCROOT@/cgi/"
<Directory "@DOCROOT@/cgi">
    Options +ExecCGI
    Require all granted
</Directory>
<Location /cgi/>
    AuthType ICSOE
    Require icsoe-contratista
</Location>
<Location /informativa/>
    AuthType ICSOE
    Require icsoe-contratista
    ProxyPass http://127.0.0.1:@BACKEND@/
</Location>
<Location /solo-a/>
    AuthType ICSOE
    Require icsoe-contratista @RFC_A@
    ProxyPass http://127.0.0.1:@BACKEND@/
</Location>
<Location /solo-b/>
    AuthType ICSOE
    Require icsoe-contratista @RFC_B@ @RFC_C@
    ProxyPass http://127.0.0.1:@BACKEND@/
</Location>
<Location /sesion/>
    AuthType ICSOE
    Require valid-user
    ProxyPass http://127.0.0.1:@BACKEND@/
</Location>
<Location /publico/>
    ProxyPass http://127.0.0.1:@BACKEND@/
</Location>
"""


class Env:
    """slapd with the accounts, the sample backend, apache2 in front."""

    def __init__(self, tmp_path, slapd, revalidate=60, extra=""):
        self.slapd = slapd
        ha.add_contractor(slapd, RFC_A, NAME_A)
        ha.add_contractor(slapd, RFC_B, NAME_B)
        ha.add_contractor(slapd, RFC_C, NAME_C)
        ha.add_capturist(slapd, CURP, NAME, contractors=[RFC_A, RFC_B],
                         password=PASSWORD)
        conf = ha.write_icsoe_conf(str(tmp_path / "icsoe.conf"), slapd)
        self.backend_port = util.free_port()
        self.backend = util.Child(
            ["/usr/bin/python3", util.src("examples/backend/informativa_backend.py"),
             "--port", str(self.backend_port)], str(tmp_path / "backend.log"))
        util.wait_until(lambda: util.port_open(self.backend_port), 10, "backend")
        snippet = (SNIPPET.replace("@BACKEND@", str(self.backend_port))
                   .replace("@RFC_A@", RFC_A).replace("@RFC_B@", RFC_B)
                   .replace("@RFC_C@", RFC_C)) + extra
        self.a = ha.Apache(tmp_path / "apache", conf_snippet=snippet,
                           icsoe_conf_path=conf,
                           modules=("proxy", "proxy_http", "cgid"),
                           revalidate=revalidate)
        self.a.install(util.src("examples/cgi/informativa.cgi"), "cgi/informativa.cgi")
        try:
            self.a.start()
        except Exception:
            self.backend.stop()
            raise

    def stop(self):
        self.a.stop()
        self.backend.stop()

    def cookie(self, **kw):
        kw.setdefault("curp", CURP)
        kw.setdefault("name", NAME)
        kw.setdefault("epoch", 0)
        return ha.seal(self.a.key_files, self.a.server_name, **kw)

    def cookie_a(self, **kw):
        return self.cookie(rfc=RFC_A, contractor_name=NAME_A, **kw)

    def get(self, path, cookie=None, headers=None):
        h = dict(headers or {})
        if cookie is not None:
            h["Cookie"] = f"icsoe_session={cookie}"
        return requests.get(self.a.url(path), headers=h, allow_redirects=False,
                            timeout=15)

    def backend_view(self, path, cookie, headers=None):
        r = self.get(path + "?format=json", cookie, headers or BROWSER)
        assert r.status_code == 200, (r.status_code, r.text[:500])
        return r.json()

    def raw_get(self, path, headers):
        """GET with headers exactly as given (underscores, repeats)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.a.port, timeout=15)
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers:
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return r.status, body


@pytest.fixture
def env(tmp_path, slapd):
    e = Env(tmp_path, slapd)
    yield e
    e.stop()


@pytest.fixture
def env_fast(tmp_path, slapd):
    """Revalidation every 2 seconds."""
    e = Env(tmp_path, slapd, revalidate=2)
    yield e
    e.stop()


def assert_security_headers(r):
    for k, v in SECURITY_HEADERS.items():
        assert r.headers.get(k) == v, (r.status_code, k, r.headers.get(k))


def expected_identity(rfc=RFC_A, cname=NAME_A):
    return {"CURP": CURP, "Capturista-Nombre": NAME, "Contratista-RFC": rfc,
            "Contratista-Nombre": cname}


# ---- what the application receives ----

def test_proxied_backend_gets_every_identity_header(env):
    v = env.backend_view("/informativa/", env.cookie_a())
    assert v["identity"] == expected_identity()
    h = v["headers"]
    assert h["x-icsoe-curp"] == [CURP]
    assert h["x-icsoe-contratista-rfc"] == [RFC_A]
    # ASCII on the wire: UTF-8 percent-encoded, '&' and spaces as they are
    assert h["x-icsoe-capturista-nombre"] == ["Jos%C3%A9 %C3%81ngel N%C3%BA%C3%B1ez"]
    assert h["x-icsoe-contratista-nombre"] == [
        "Construcciones %C3%91and%C3%BA & Asociados, S.A. de C.V."]
    for values in h.values():
        for val in values:
            val.encode("ascii")


def test_cgi_gets_every_variable(env):
    r = env.get("/cgi/informativa.cgi?format=json", env.cookie_a(), BROWSER)
    assert r.status_code == 200, r.text[:500]
    v = r.json()
    assert v["REMOTE_USER"] == CURP
    assert v["ICSOE_CURP"] == CURP
    assert v["ICSOE_CAPTURISTA_NOMBRE"] == NAME
    assert v["ICSOE_CONTRATISTA_RFC"] == RFC_A
    assert v["ICSOE_CONTRATISTA_NOMBRE"] == NAME_A
    # the HTML page escapes the names
    r = env.get("/cgi/informativa.cgi", env.cookie_a(), BROWSER)
    assert r.status_code == 200
    assert "Construcciones Ñandú &amp; Asociados" in r.text
    assert "Ñandú & Asociados" not in r.text
    r = env.get("/cgi/informativa.cgi?format=json",
                env.cookie(rfc=RFC_B, contractor_name=NAME_B), BROWSER)
    assert r.json()["ICSOE_CONTRATISTA_NOMBRE"] == NAME_B
    r = env.get("/cgi/informativa.cgi", env.cookie(rfc=RFC_B, contractor_name=NAME_B),
                BROWSER)
    assert "Limpieza Álvarez &lt;Hermanos&gt;" in r.text


def test_backend_html_page_decodes_names(env):
    r = env.get("/informativa/", env.cookie_a(), BROWSER)
    assert r.status_code == 200
    assert "Construcciones Ñandú &amp; Asociados, S.A. de C.V." in r.text
    assert "José Ángel Núñez" in r.text


SPOOFS = [("X-ICSOE-CURP", "EVIL1"), ("x-icsoe-curp", "EVIL2"),
          ("X_ICSOE_CURP", "EVIL3"), ("X-ICSOE-Contratista-RFC", "EVIL4"),
          ("X-Icsoe-Contratista-Nombre", "EVIL5"), ("x_icsoe-capturista_nombre", "EVIL6"),
          ("X-ICSOE-Extra", "EVIL7")]


def test_spoofed_headers_never_reach_the_backend(env):
    c = env.cookie_a()
    base = [("Host", f"127.0.0.1:{env.a.port}"), ("Accept", BROWSER["Accept"])]
    # protected: only our values
    status, body = env.raw_get("/informativa/?format=json",
                               base + SPOOFS + [("Cookie", f"icsoe_session={c}")])
    assert status == 200, body[:300]
    v = json.loads(body)
    assert "EVIL" not in body.decode()
    assert v["identity"] == expected_identity()
    ours = {k for k in v["headers"] if k.replace("_", "-").startswith("x-icsoe-")}
    assert ours == {"x-icsoe-curp", "x-icsoe-capturista-nombre",
                    "x-icsoe-contratista-rfc", "x-icsoe-contratista-nombre"}
    assert all(len(v["headers"][k]) == 1 for k in ours)
    # unprotected: nothing of ours at all
    status, body = env.raw_get("/publico/?format=json", base + SPOOFS)
    assert status == 200
    v = json.loads(body)
    assert "EVIL" not in body.decode()
    assert not [k for k in v["headers"] if k.replace("_", "-").startswith("x-icsoe")]
    # CGI: the HTTP_X_ICSOE_* variables are ours
    status, body = env.raw_get("/cgi/informativa.cgi?format=json",
                               base + SPOOFS + [("Cookie", f"icsoe_session={c}")])
    assert status == 200
    v = json.loads(body)
    assert "EVIL" not in body.decode()
    assert v["headers"]["HTTP_X_ICSOE_CURP"] == CURP
    env.a.wait_log("removed client header X_ICSOE_CURP")


OTHER_COOKIES = [("tema", "oscuro"), ("carrito", "a=1&b=2"), ("_ga", "GA1.2.3.4")]

# A CGI that shows the Cookie it was given (the sample CGI does not).
COOKIE_CGI = """#!/usr/bin/python3
import json, os
print("Content-Type: application/json")
print()
print(json.dumps({"headers": {"HTTP_COOKIE": os.environ.get("HTTP_COOKIE")}}))
"""


def install_cookie_cgi(env, tmp_path):
    src = tmp_path / "cookies.cgi"
    src.write_text(COOKIE_CGI)
    env.a.install(str(src), "cgi/cookies.cgi")


def cookies_seen(env, path, cookie_header):
    """The Cookie the backend (or CGI, as HTTP_COOKIE) received."""
    status, body = env.raw_get(path, [("Host", f"127.0.0.1:{env.a.port}"),
                                      ("Accept", BROWSER["Accept"]),
                                      ("Cookie", cookie_header)])
    assert status == 200, body[:300]
    v = json.loads(body)
    if "identity" in v:     # the backend: the session did work
        assert v["identity"]["CURP"] == CURP
    h = v["headers"]
    return h.get("cookie", h.get("HTTP_COOKIE"))


def test_session_cookie_never_reaches_the_backend_or_cgi(env, tmp_path):
    """A backend or CGI given our cookie could log or replay it (a bearer
    credential).  It is taken out of Cookie before anything else sees the
    request; other cookies pass with their names and values unchanged; a
    Cookie with nothing left is gone (issue 13, defect 8)."""
    install_cookie_cgi(env, tmp_path)
    c = env.cookie_a()
    others = "; ".join(f"{k}={v}" for k, v in OTHER_COOKIES)
    header = f"tema=oscuro; icsoe_session={c}; carrito=a=1&b=2;__Host-icsoe_session=x; _ga=GA1.2.3.4"
    got = cookies_seen(env, "/informativa/?format=json", header)
    assert got == [others], got
    assert "icsoe_session" not in json.dumps(got)
    got = cookies_seen(env, "/cgi/cookies.cgi", header)
    assert got == others, got
    # tight ";" separators come back as "; " (the joined header grows;
    # the sanitizer stage would see an overflow here)
    tight = ";".join(f"k{i}={i}" for i in range(40))
    got = cookies_seen(env, "/informativa/?format=json", f"{tight};icsoe_session={c};z=1")
    assert got == ["; ".join(f"k{i}={i}" for i in range(40)) + "; z=1"], got
    # only ours: no Cookie header at all
    assert cookies_seen(env, "/informativa/?format=json", f"icsoe_session={c}") is None
    assert cookies_seen(env, "/cgi/cookies.cgi", f"icsoe_session={c}") is None
    # an unprotected path is stripped too (a leftover cookie of a session)
    status, body = env.raw_get("/publico/?format=json", [
        ("Host", f"127.0.0.1:{env.a.port}"), ("Cookie", f"icsoe_session={c}; tema=oscuro")])
    assert json.loads(body)["headers"]["cookie"] == ["tema=oscuro"]


def test_strip_cookies_off_hands_the_cookie_on(tmp_path, slapd):
    e = Env(tmp_path, slapd, extra="\nICSOEStripCookies Off\n")
    try:
        c = e.cookie_a()
        got = cookies_seen(e, "/informativa/?format=json", f"tema=oscuro; icsoe_session={c}")
        assert got == [f"tema=oscuro; icsoe_session={c}"]
    finally:
        e.stop()


def test_connection_header_cannot_make_the_proxy_drop_identity(env):
    c = env.cookie_a()
    status, body = env.raw_get("/informativa/?format=json", [
        ("Host", f"127.0.0.1:{env.a.port}"), ("Accept", BROWSER["Accept"]),
        ("Cookie", f"icsoe_session={c}"),
        ("Connection", "keep-alive, X-ICSOE-CURP, x_icsoe_contratista_rfc"),
        ("Connection", "X-ICSOE-Contratista-Nombre")])
    assert status == 200, body[:300]
    v = json.loads(body)
    assert v["identity"] == expected_identity()


def test_values_set_by_other_modules_before_ours_are_replaced(tmp_path, slapd):
    """mod_headers (early) and mod_setenvif run after the scrub and before
    our fixup: whatever they put under our names is replaced, not left as
    a first value next to ours."""
    e = Env(tmp_path, slapd, extra=(
        "RequestHeader set X-ICSOE-Contratista-RFC FORGED1 early\n"
        'SetEnvIf Request_URI "^/cgi/" ICSOE_CONTRATISTA_RFC=FORGED2 '
        "ICSOE_CURP=FORGED3\n"))
    try:
        v = e.backend_view("/informativa/", e.cookie_a())
        assert v["identity"] == expected_identity()
        assert v["headers"]["x-icsoe-contratista-rfc"] == [RFC_A]
        r = e.get("/cgi/informativa.cgi?format=json", e.cookie_a(), BROWSER)
        assert r.status_code == 200, r.text[:300]
        assert "FORGED" not in r.text
        cgi = r.json()
        assert cgi["ICSOE_CONTRATISTA_RFC"] == RFC_A
        assert cgi["ICSOE_CURP"] == CURP
        assert cgi["headers"]["HTTP_X_ICSOE_CONTRATISTA_RFC"] == RFC_A
        # a page outside AuthType ICSOE keeps what the site set: not ours
        assert e.backend_view("/publico/", None)["headers"][
            "x-icsoe-contratista-rfc"] == ["FORGED1"]
    finally:
        e.stop()


# ---- Require icsoe-contratista, valid-user, 303/401/403 ----

def test_require_with_rfc_list_admits_and_refuses(env):
    ca = env.cookie_a()
    cb = env.cookie(rfc=RFC_B, contractor_name=NAME_B)
    assert env.backend_view("/solo-a/", ca)["identity"]["Contratista-RFC"] == RFC_A
    assert env.backend_view("/solo-b/", cb)["identity"]["Contratista-RFC"] == RFC_B
    for path, c in (("/solo-b/", ca), ("/solo-a/", cb)):
        for h in (BROWSER, API):
            r = env.get(path + "?format=json", c, h)
            assert r.status_code == 403, (path, r.status_code)
            assert "EVIL" not in r.text and "x-icsoe-curp" not in r.text
            assert_security_headers(r)
    env.a.wait_log("event=contractor-forbidden")


def test_session_without_contractor(env):
    c = env.cookie()
    r = env.get("/informativa/", c, BROWSER)
    assert r.status_code == 303
    assert r.headers["Location"] == "/icsoe/contratista"
    assert_security_headers(r)
    r = env.get("/informativa/", c, API)
    assert r.status_code == 403
    # Require valid-user: logged in is enough; no contractor rows then
    v = env.backend_view("/sesion/", c)
    assert v["identity"] == {"CURP": CURP, "Capturista-Nombre": NAME,
                             "Contratista-RFC": None, "Contratista-Nombre": None}


def test_no_session_browser_303_xhr_and_clients_401(env):
    r = env.get("/informativa/?a=1", None, BROWSER)
    assert r.status_code == 303
    assert r.headers["Location"] == "/icsoe/ingresar?r=%2finformativa%2f%3fa%3d1"
    for h in (API, {**BROWSER, "X-Requested-With": "XMLHttpRequest"},
              {**BROWSER, "Sec-Fetch-Mode": "cors"}, {"Accept": "*/*"}):
        r = env.get("/informativa/", None, h)
        assert r.status_code == 401, h
        assert r.headers["WWW-Authenticate"] == 'ICSOE realm="ICSOE"'
        assert_security_headers(r)
        assert "x-icsoe" not in r.text.lower()
    r = env.get("/sesion/", None, API)
    assert r.status_code == 401


# ---- revalidation ----

def wait_past_interval(seconds=2):
    time.sleep(seconds + 1.1)


def test_revoked_contractor_refused_after_interval_and_ldap_down_fails_closed(tmp_path, slapd):
    # Times in a session are whole seconds, so an interval of N s admits a
    # session for N-1 to N s after it was validated; 4 s leaves room for a
    # slow (sanitizer-built, loaded) run between the seal and the requests
    # that must not revalidate.
    env = Env(tmp_path, slapd, revalidate=4)
    try:
        revoked_then_down(env)
    finally:
        env.stop()


def revoked_then_down(env):
    c = env.cookie_a()
    assert env.get("/informativa/", c, API).status_code == 200
    # revoke A; the session was validated just now: still admitted
    env.slapd.modify(env.slapd.capturist_dn(CURP), {"icsoeContractorRFC": [RFC_B]})
    assert env.get("/informativa/", c, API).status_code == 200
    # no LDAP round trip between revalidations: slapd down, a session
    # validated just now is still admitted (sealed after the stop: an
    # ASan-preloaded slapd alone takes over a second to stop)
    env.slapd.stop()
    env.slapd.wait_stopped()
    fresh = env.cookie_a()
    for _ in range(3):
        assert env.get("/informativa/", fresh, API).status_code == 200
    # past the interval with the directory down: 503, never a pass
    wait_past_interval(4)
    r = env.get("/informativa/", c, BROWSER)
    assert r.status_code == 503
    assert_security_headers(r)
    assert "disponible" in r.text
    assert env.get("/informativa/", c, API).status_code == 503
    # directory back: the revoked contractor is dropped from the session
    env.slapd.start()
    r = env.get("/informativa/", c, BROWSER)
    assert r.status_code == 303 and r.headers["Location"] == "/icsoe/contratista"
    reissued = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    opened = ha.open_cookie(env.a.key_files, "127.0.0.1", reissued)
    assert opened["curp"] == CURP and opened["rfc"] == "" and opened["contractor_name"] == ""
    assert env.get("/informativa/", c, API).status_code == 403
    env.a.wait_log(f"event=contractor-revoked curp={CURP}")
    # the other contractor still works
    cb = env.cookie(rfc=RFC_B, contractor_name=NAME_B, validated="now-10")
    assert env.backend_view("/informativa/", cb)["identity"]["Contratista-RFC"] == RFC_B


@pytest.mark.parametrize("change, reason", [
    ({"icsoeStatus": "locked"}, "account-locked"),
    ({"icsoeEpoch": "1"}, "session-ended"),
])
def test_locked_account_or_ended_session_refused_after_interval(env_fast, change, reason):
    env = env_fast
    env.slapd.modify(env.slapd.capturist_dn(CURP), change)
    # validated just now (sealed after the change, so that only one request
    # runs inside the 1-2 s the interval leaves): LDAP is not asked yet
    c = env.cookie_a()
    assert env.get("/informativa/", c, API).status_code == 200
    wait_past_interval()
    r = env.get("/informativa/", c, API)
    assert r.status_code == 401
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    r = env.get("/informativa/", c, BROWSER)
    assert r.status_code == 303
    assert r.headers["Location"].startswith("/icsoe/ingresar?r=")
    env.a.wait_log(f"event=session-refused curp={CURP} client=127.0.0.1 detail={reason}")


def test_removed_account_refused(env_fast):
    env = env_fast
    c = env.cookie_a(validated="now-10")
    env.slapd.delete(env.slapd.capturist_dn(CURP))
    assert env.get("/informativa/", c, API).status_code == 401


def test_revalidation_refreshes_names_and_reissues(env_fast):
    env = env_fast
    c = env.cookie_a(validated="now-10")
    env.slapd.modify(env.slapd.contractor_dn(RFC_A), {"o": "Nuevo Nombre & Cía"})
    env.slapd.modify(env.slapd.capturist_dn(CURP), {"cn": "José Á. Núñez"})
    r = env.get("/informativa/?format=json", c, BROWSER)
    assert r.status_code == 200
    ident = r.json()["identity"]
    assert ident["Contratista-Nombre"] == "Nuevo Nombre & Cía"
    assert ident["Capturista-Nombre"] == "José Á. Núñez"
    fresh = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    opened = ha.open_cookie(env.a.key_files, "127.0.0.1", fresh)
    assert opened["contractor_name"] == "Nuevo Nombre & Cía"
    assert int(opened["validated"]) >= int(time.time()) - 5


# ---- full flow through the pages ----

def csrf_of(html):
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:1000]
    return m.group(1)


def test_full_flow_login_select_app_switch(env):
    s = requests.Session()
    s.headers.update(BROWSER)
    a = env.a
    # protected page -> login with the return path
    r = s.get(a.url("/informativa/"), allow_redirects=False)
    assert r.status_code == 303
    login = r.headers["Location"]
    r = s.get(a.url(login), allow_redirects=False)
    assert r.status_code == 200
    pre = s.cookies.get("icsoe_session")
    r = s.post(a.url("/icsoe/ingresar"), data={
        "csrf": csrf_of(r.text), "r": "/informativa/", "curp": CURP,
        "password": PASSWORD}, headers={"Origin": a.url("").rstrip("/")},
        allow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    assert r.headers["Location"] == "/informativa/"
    assert s.cookies.get("icsoe_session") != pre
    # logged in, no contractor yet: to the selection page
    r = s.get(a.url("/informativa/"), allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/icsoe/contratista"
    r = s.get(a.url("/icsoe/contratista"), allow_redirects=False)
    assert r.status_code == 200 and RFC_A in r.text and RFC_B in r.text
    r = s.post(a.url("/icsoe/contratista"), data={
        "csrf": csrf_of(r.text), "rfc": RFC_A, "step": "continuar"},
        allow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    v = s.get(a.url("/informativa/?format=json"), allow_redirects=False).json()
    assert v["identity"] == expected_identity()
    # a forged, unassigned contractor: 403
    r = s.get(a.url("/icsoe/contratista"), allow_redirects=False)
    r2 = s.post(a.url("/icsoe/contratista"), data={
        "csrf": csrf_of(r.text), "rfc": RFC_C, "step": "continuar"},
        allow_redirects=False)
    assert r2.status_code == 403
    # switch: the backend sees the new contractor
    r = s.post(a.url("/icsoe/contratista"), data={
        "csrf": csrf_of(r.text), "rfc": RFC_B, "step": "continuar"},
        allow_redirects=False)
    assert r.status_code == 303
    v = s.get(a.url("/informativa/?format=json"), allow_redirects=False).json()
    assert v["identity"] == expected_identity(RFC_B, NAME_B)
    r = s.get(a.url("/cgi/informativa.cgi?format=json"), allow_redirects=False)
    assert r.json()["ICSOE_CONTRATISTA_RFC"] == RFC_B


def test_oversized_post_to_selection_is_413(env):
    c = env.cookie_a()
    conn = http.client.HTTPConnection("127.0.0.1", env.a.port, timeout=15)
    conn.request("POST", "/icsoe/contratista", body=b"rfc=" + b"A" * 9000, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"icsoe_session={c}"})
    r = conn.getresponse()
    r.read()
    conn.close()
    assert r.status == 413
