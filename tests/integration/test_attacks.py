"""Attacks against the real stack (issue 8): each test tries one and
asserts the safe outcome.  What test_mod_core, test_mod_auth,
test_mod_pages, test_tokens, test_dir and test_icsoectl already prove is
not repeated here (see SECURITY.md for the map); these add:

- one activation link POSTed 20 times in parallel through Apache;
- reset-purpose links on the shared password page;
- CSRF tokens carried over from another session (A's token, B's cookie);
- open redirects in every parameter and path that ends in a Location;
- spoofed identity headers on handler URLs and with ICSOEHeaderPrefix
  changed (proxied backend and CGI);
- cookie bit flips at every byte, replay after logout / admin lock /
  ppolicy lockout, fixation with a planted logged-in cookie;
- CURP enumeration through headers and cookies (login and recovery), and
  "same work" shown deterministically by counting the SRCH and BIND
  operations in slapd's stats log;
- LDAP filter metacharacters, CR/LF, NUL, Unicode confusables and
  oversized values through the web pages and icsoectl."""
import base64
import concurrent.futures
import datetime
import hashlib
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import time
import urllib.parse

import ldap
import pytest
import requests

from harness import apache as ha
from harness import util
from harness.apache import BROWSER, API
from harness.conf import IcsoeConf

CURP_A = ha.curp("GOPJ800101HDFMRN0")
CURP_B = ha.curp("LOMA850505MJCPRR0")
CURP_P = ha.curp("RARA900909HOCMMM0")      # pending
CURP_L = ha.curp("MARR751120HVZRMS0")      # admin-locked
CURP_UNKNOWN = ha.curp("PEPJ900215MJCRRN0")
NAME_A = "Juan Gómez Pérez"
NAME_B = "Ana López Mar"
PW_A = "Tlacuache-Nopal-Volcan-2024"
PW_B = "Ajolote Mezcal Huarache 77 norte"
RFC_1 = ha.rfc("SEA010101AB")
RFC_2 = ha.rfc("PEH020202CD")
RFC_X = ha.rfc("OTR030303EF")              # exists, assigned to nobody

LOGIN = "/icsoe/ingresar"
ACTIVATE = "/icsoe/activar"
RECOVER = "/icsoe/recuperar"
HOME = "/icsoe/inicio"
SELECT = "/icsoe/contratista"
LOGOUT = "/icsoe/salir"
COOKIE = "icsoe_session"
MSG_GENERIC = "Usuario o contraseña incorrectos"
MSG_RECOVER = "Si los datos coinciden"
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')

SNIPPET = """
ScriptAlias /cgi/ "@DOCROOT@/cgi/"
ScriptAlias /cgi-abierto/ "@DOCROOT@/cgi/"
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
<Location /publico/>
    ProxyPass http://127.0.0.1:@BACKEND@/
</Location>
<Location /app>
    AuthType ICSOE
    Require valid-user
</Location>
"""


# ---------------------------------------------------------------- helpers

def csrf_of(html):
    m = _CSRF.search(html)
    assert m, html[:1500]
    return m.group(1)


def strip_csrf(html):
    return _CSRF.sub('name="csrf" value="X"', html)


class Browser:
    def __init__(self, a):
        self.a = a
        self.s = requests.Session()
        self.s.headers.update(BROWSER)

    def get(self, path, **kw):
        return self.s.get(self.a.url(path), allow_redirects=False, timeout=30, **kw)

    def post(self, path, data, **kw):
        return self.s.post(self.a.url(path), data=data, allow_redirects=False,
                           timeout=30, **kw)

    def csrf(self, path=LOGIN):
        r = self.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        return csrf_of(r.text)

    def login(self, curp, password, ret=None):
        data = {"csrf": self.csrf(), "curp": curp, "password": password}
        if ret is not None:
            data["r"] = ret
        return self.post(LOGIN, data)

    def cookie(self):
        return self.s.cookies.get(COOKIE)

    def set_cookie(self, value):
        self.s.cookies.set(COOKIE, value, domain="127.0.0.1", path="/")

    def choose(self, rfc):
        csrf = csrf_of(self.get(SELECT).text)
        return self.post(SELECT, {"csrf": csrf, "step": "continuar", "rfc": rfc})


def store_token(slapd, curp, purpose="activation", lifetime=3600):
    token = secrets.token_urlsafe(32)
    expiry = (datetime.datetime.now(datetime.timezone.utc)
              + datetime.timedelta(seconds=lifetime))
    slapd.modify(slapd.capturist_dn(curp), {
        "icsoeTokenHash": hashlib.sha256(token.encode()).hexdigest(),
        "icsoeTokenExpiry": expiry.strftime("%Y%m%d%H%M%SZ"),
        "icsoeTokenPurpose": purpose})
    return token


def entry(slapd, curp):
    return slapd.get(slapd.capturist_dn(curp),
                     ["icsoeStatus", "icsoeTokenHash", "icsoeEpoch", "userPassword",
                      "cn", "mail", "icsoeContractorRFC", "pwdAccountLockedTime"])


def all_entries(slapd):
    return sorted((e["dn"], sorted((k, tuple(v)) for k, v in e.items() if k != "dn"))
                  for e in slapd.search("(objectClass=*)", ["*"]))


def icsoectl(conf, *args, stdin=None):
    return subprocess.run([util.built("tools/icsoectl"), "-c", str(conf),
                           *[str(a) for a in args]],
                          capture_output=True, timeout=60, input=stdin)


def assert_local_location(loc):
    """A Location that can only lead to this site."""
    assert loc.startswith("/"), loc
    assert not loc.startswith("//") and not loc.startswith("/\\"), loc
    assert not any(c in loc for c in "\r\n\t\\"), loc
    parts = urllib.parse.urlsplit(loc)
    assert parts.scheme == "" and parts.netloc == "", loc


def assert_no_crash(a):
    log = a.error_log()
    assert "exit signal" not in log and "free(): " not in log, log[-2000:]


def raw_request(port, lines, body=b""):
    """Send a request exactly as given; (status, headers list, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    hl = head.decode("latin-1").split("\r\n")
    status = int(hl[0].split()[1])
    headers = [tuple(h.split(":", 1)) for h in hl[1:]]
    return status, [(k.strip(), v.strip()) for k, v in headers], rest


class Env:
    def __init__(self, tmp_path, slapd, smtp, apache, revalidate=0, prefix=None):
        self.slapd, self.smtp = slapd, smtp
        for rfc, name in ((RFC_1, "Servicios del Altiplano SA"),
                          (RFC_2, "Peña & Hijos SA"), (RFC_X, "Otro SA")):
            ha.add_contractor(slapd, rfc, name)
        ha.add_capturist(slapd, CURP_A, NAME_A, contractors=[RFC_1, RFC_2],
                         password=PW_A)
        ha.add_capturist(slapd, CURP_B, NAME_B, contractors=[RFC_1], password=PW_B)
        ha.add_capturist(slapd, CURP_P, "Raúl Ramírez", contractors=[RFC_1],
                         status="pending")
        ha.add_capturist(slapd, CURP_L, "Rosa Martínez", contractors=[RFC_1],
                         status="locked", password=PW_B)
        self.conf = IcsoeConf(tmp_path / "etc", slapd, smtp, timeout="3")
        self.backend_port = util.free_port()
        argv = ["/usr/bin/python3", util.src("examples/backend/informativa_backend.py"),
                "--port", str(self.backend_port)]
        extra = ""
        if prefix:
            argv += ["--prefix", prefix]
            extra = f"ICSOEHeaderPrefix {prefix}\n"
        self.backend = util.Child(argv, str(tmp_path / "backend.log"))
        util.wait_until(lambda: util.port_open(self.backend_port), 10, "backend")
        self.a = apache(icsoe_conf_path=self.conf.path, revalidate=revalidate,
                        modules=("proxy", "proxy_http", "cgid"),
                        conf_snippet=extra + SNIPPET.replace("@BACKEND@",
                                                             str(self.backend_port)))
        self.a.install(util.src("examples/cgi/informativa.cgi"), "cgi/informativa.cgi")
        os.makedirs(os.path.join(self.a.docroot, "app"), exist_ok=True)
        with open(os.path.join(self.a.docroot, "app", "index.html"), "w") as f:
            f.write("<!DOCTYPE html><title>app</title><p>protegido</p>\n")
        os.chmod(os.path.join(self.a.docroot, "app"), 0o755)
        os.chmod(os.path.join(self.a.docroot, "app", "index.html"), 0o644)

    def stop(self):
        self.backend.stop()

    def logged_in(self, curp=CURP_A, password=PW_A, rfc=None):
        b = Browser(self.a)
        r = b.login(curp, password)
        assert r.status_code == 303, r.text[:500]
        if rfc:
            assert b.choose(rfc).status_code == 303
        return b

    def slapd_log(self):
        with open(self.slapd.logpath, encoding="utf-8", errors="replace") as f:
            return f.read()


@pytest.fixture
def env(tmp_path, slapd, smtp, apache):
    e = Env(tmp_path, slapd, smtp, apache)
    yield e
    e.stop()


# ---------------------------------------------------------------- tokens

def test_one_activation_link_posted_twenty_times_at_once(env):
    token = store_token(env.slapd, CURP_P)
    b = Browser(env.a)
    r = b.get(f"{ACTIVATE}?t={token}")
    assert r.status_code == 200
    csrf, cookie = csrf_of(r.text), b.cookie()

    def post(i):
        pw = f"tortuga-marina-{i:02d}-azul-{secrets.token_hex(3)}"
        s = requests.Session()
        s.cookies.set(COOKIE, cookie, domain="127.0.0.1", path="/")
        r = s.post(env.a.url(ACTIVATE), data={"csrf": csrf, "t": token, "password": pw,
                                              "password_confirm": pw},
                   headers=BROWSER, allow_redirects=False, timeout=60)
        return pw, r.status_code, r.text
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        results = list(ex.map(post, range(20)))
    ok = [(pw, t) for pw, st, t in results if st == 200 and "se actualizó" in t]
    refused = [st for pw, st, t in results if st == 404 and "no es válida" in t]
    assert len(ok) == 1, [(st, t[:200]) for _, st, t in results]
    assert len(refused) == 19, [st for _, st, _ in results]
    winner = ok[0][0]
    dn = env.slapd.capturist_dn(CURP_P)
    assert env.slapd.can_bind(dn, winner)
    for pw, st, _ in results:
        if pw != winner:
            assert not env.slapd.can_bind(dn, pw)
    e = entry(env.slapd, CURP_P)
    assert e["icsoeStatus"] == ["active"] and e["icsoeEpoch"] == ["1"]
    assert len(e["userPassword"]) == 1 and "icsoeTokenHash" not in e
    # one "contraseña registrada" mail, not twenty
    env.smtp.wait_for(1)
    time.sleep(0.5)
    assert env.smtp.count() == 1
    assert_no_crash(env.a)


def test_reset_link_semantics(env):
    """A reset link opens the same password page as an activation link.
    The safe outcome, from handler_activate.c and dir_token.c: it changes
    only the account it was issued for (whatever other fields are
    posted), never logs anybody in, ends that account's existing sessions
    (epoch), and never unlocks an account an administrator locked."""
    victim = env.logged_in(CURP_A, PW_A, RFC_1)
    assert victim.get("/app/").status_code == 200
    token = store_token(env.slapd, CURP_A, purpose="reset")
    b = Browser(env.a)
    r = b.get(f"{ACTIVATE}?t={token}")
    assert r.status_code == 200 and CURP_A in r.text
    new = "Ciruela Guayaba Tamarindo 88"
    # extra fields naming another account change nothing
    r = b.post(ACTIVATE, {"csrf": csrf_of(r.text), "t": token, "password": new,
                          "password_confirm": new, "curp": CURP_B, "uid": CURP_B})
    assert r.status_code == 200 and "se actualizó" in r.text
    assert "Set-Cookie" not in r.headers or "Max-Age" not in r.headers["Set-Cookie"]
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_A), new)
    assert not env.slapd.can_bind(env.slapd.capturist_dn(CURP_A), PW_A)
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_B), PW_B)
    # not logged in by it; the session opened before is over
    assert b.get(HOME).status_code == 303
    assert victim.get("/app/").status_code == 303
    assert victim.get(HOME).status_code == 303
    # a reset link for an account an administrator locked
    token = store_token(env.slapd, CURP_L, purpose="reset")
    assert b.get(f"{ACTIVATE}?t={token}").status_code == 404
    r = b.post(ACTIVATE, {"csrf": b.csrf(), "t": token, "password": new,
                          "password_confirm": new})
    assert r.status_code == 404 and "no es válida" in r.text
    e = entry(env.slapd, CURP_L)
    assert e["icsoeStatus"] == ["locked"] and e["icsoeTokenHash"]
    assert not env.slapd.can_bind(env.slapd.capturist_dn(CURP_L), new)
    # an activation link of a pending account cannot reach another account
    token = store_token(env.slapd, CURP_P)
    other = store_token(env.slapd, CURP_B, purpose="reset")
    r = b.post(ACTIVATE, {"csrf": b.csrf(), "t": token, "t2": other, "password": new,
                          "password_confirm": new})
    assert r.status_code == 200 and "se actualizó" in r.text
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_P), new)
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_B), PW_B)
    assert entry(env.slapd, CURP_B)["icsoeTokenHash"]


# ---------------------------------------------------------------- CSRF

def test_csrf_token_of_another_session_is_refused(env):
    a_ = env.logged_in(CURP_A, PW_A)
    b_ = env.logged_in(CURP_B, PW_B)
    token_a_home = csrf_of(a_.get(HOME).text)
    token_a_select = csrf_of(a_.get(SELECT).text)
    pre_a = Browser(env.a)
    pre_token = pre_a.csrf(LOGIN)
    reset = store_token(env.slapd, CURP_B, purpose="reset")
    attempts = [
        (SELECT, {"csrf": token_a_select, "step": "continuar", "rfc": RFC_1}),
        (LOGOUT, {"csrf": token_a_home}),
        (ACTIVATE, {"csrf": token_a_home, "t": reset, "password": PW_A + " x",
                    "password_confirm": PW_A + " x"}),
        (RECOVER, {"csrf": token_a_home, "curp": CURP_B,
                   "email": f"{CURP_B.lower()}@example.test"}),
        (LOGIN, {"csrf": pre_token, "curp": CURP_A, "password": PW_A}),
    ]
    pre_b = Browser(env.a)
    pre_b.csrf(LOGIN)
    for victim in (b_, pre_b):
        for path, data in attempts:
            r = victim.post(path, data)
            if victim is pre_b and path in (SELECT, LOGOUT):
                # not logged in: refused, or sent to the login page
                assert r.status_code in (303, 403), (path, r.status_code)
                if r.status_code == 303:
                    assert r.headers["Location"].startswith(LOGIN)
            else:
                assert r.status_code == 403, (path, r.status_code)
    # nothing happened to B
    assert b_.get(HOME).status_code == 200
    assert RFC_1 not in b_.get(HOME).text
    assert env.slapd.can_bind(env.slapd.capturist_dn(CURP_B), PW_B)
    assert entry(env.slapd, CURP_B)["icsoeTokenHash"]
    assert pre_b.get(HOME).status_code == 303
    time.sleep(0.3)
    assert env.smtp.count() == 0
    # a login form's token stops working once that browser logs in
    stale = pre_a.csrf(LOGIN)
    assert pre_a.post(LOGIN, {"csrf": stale, "curp": CURP_A,
                              "password": PW_A}).status_code == 303
    assert pre_a.post(LOGOUT, {"csrf": stale}).status_code == 403
    assert pre_a.get(HOME).status_code == 200
    env.a.wait_log("event=csrf-failed")


# ---------------------------------------------------------- open redirect

EVIL_RETURNS = [
    "//evil.example/", "///evil.example/", "////evil.example", "https://evil.example/",
    "http:evil.example", "/\\evil.example", "\\/evil.example", "/\\/evil.example",
    "%2F%2Fevil.example", "/%2F%2Fevil.example", "/%09/evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r\nLocation: //evil.example",
    "/x\r\nSet-Cookie: icsoe_session=forged", "／／evil.example", "/／evil.example",
    "//evil.example@127.0.0.1/", "javascript:alert(1)", "data:text/html,x",
    " /app/", "/app/\x00//evil", "\x00//evil.example", "/" + "a" * 5000,
]


def test_open_redirect_in_every_return_parameter(env):
    for ret in EVIL_RETURNS:
        b = Browser(env.a)
        # the login page's hidden field never keeps it
        r = b.get(LOGIN + "?r=" + urllib.parse.quote(ret, safe=""))
        assert r.status_code in (200, 400), (ret, r.status_code)
        if r.status_code == 200:
            assert 'name="r" value=""' in r.text, ret
        # posted directly: the login still works, to a local page
        r = b.login(CURP_A, PW_A, ret=ret)
        assert r.status_code in (303, 400), (ret, r.status_code)
        if r.status_code == 303:
            assert_local_location(r.headers["Location"])
            assert r.headers["Location"] == HOME, (ret, r.headers["Location"])
        assert "forged" not in r.headers.get("Set-Cookie", "")
    assert_no_crash(env.a)


def test_open_redirect_through_the_protected_path(env):
    """The way back to a protected page is taken from the request; odd
    request targets must still give a local return path."""
    targets = ["/app//evil.example/", "/app/..%2f..%2f%2fevil.example",
               "/app/%0d%0aLocation:%20//evil.example", "/app/?r=//evil.example",
               "/app/\\evil.example", "http://evil.example/app/",
               "//evil.example/app/"]
    for target in targets:
        status, headers, _ = raw_request(env.a.port, [
            f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{env.a.port}",
            "Accept: text/html", "Connection: close"])
        locs = [v for k, v in headers if k.lower() == "location"]
        assert status in (303, 400, 404), (target, status)
        if status != 303:
            continue
        assert len(locs) == 1, (target, headers)
        assert_local_location(locs[0])
        ret = urllib.parse.parse_qs(urllib.parse.urlsplit(locs[0]).query).get("r", [""])[0]
        # then the login, with that way back
        b = Browser(env.a)
        r = b.login(CURP_A, PW_A, ret=ret)
        assert r.status_code == 303, (target, ret)
        assert_local_location(r.headers["Location"])
    # the other redirects only ever go to configured local URLs
    b = env.logged_in()
    csrf = csrf_of(b.get(SELECT).text)
    r = b.post(SELECT, {"csrf": csrf, "step": "cancelar", "r": "//evil.example/"})
    assert r.headers["Location"] == SELECT
    r = b.post(SELECT, {"csrf": csrf, "step": "continuar", "rfc": RFC_1,
                        "r": "//evil.example/", "next": "//evil.example/"})
    assert r.headers["Location"] == HOME
    assert Browser(env.a).get(LOGOUT + "?r=//evil.example/").headers["Location"] == LOGIN


# ------------------------------------------------------ identity headers

def spoofs(prefix):
    """Every spelling of our headers a client could try."""
    p = prefix.rstrip("-")
    up, low = p.upper(), p.lower()
    mixed = p[:1] + p[1:].lower()
    return [(f"{up}-CURP", "EVIL1"), (f"{low}-curp", "EVIL2"),
            (f"{up.replace('-', '_')}_CURP", "EVIL3"),
            (f"{mixed}-Contratista-Rfc", "EVIL4"),
            (f"{low.replace('-', '_')}_contratista_nombre", "EVIL5"),
            (f"{up}-Capturista-Nombre", "EVIL6"), (f"{mixed}_Capturista-NOMBRE", "EVIL7"),
            (f"{up}-", "EVIL8")]


def get_raw(env, path, headers):
    conn = http.client.HTTPConnection("127.0.0.1", env.a.port, timeout=30)
    conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", f"127.0.0.1:{env.a.port}")
    for k, v in headers:
        conn.putheader(k, v)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body.decode("utf-8", "replace")


def check_spoofing(env, prefix):
    b = env.logged_in(CURP_A, PW_A, RFC_1)
    cookie = ("Cookie", f"{COOKIE}={b.cookie()}")
    accept = ("Accept", BROWSER["Accept"])
    evil = spoofs(prefix)
    low = prefix.lower()
    # protected, proxied: only our four values, once each
    status, body = get_raw(env, "/informativa/?format=json", [accept, cookie] + evil)
    assert status == 200, body[:300]
    assert "EVIL" not in body
    v = json.loads(body)
    assert v["identity"]["CURP"] == CURP_A and v["identity"]["Contratista-RFC"] == RFC_1
    ours = sorted(k for k in v["headers"] if k.replace("_", "-").startswith(low))
    assert ours == sorted(low + s for s in ("curp", "capturista-nombre",
                                            "contratista-rfc", "contratista-nombre"))
    # a Connection token cannot make mod_proxy drop ours
    status, body = get_raw(env, "/informativa/?format=json", [
        accept, cookie, ("Connection", f"{prefix}CURP, {prefix.replace('-', '_')}"
                                       "Contratista_RFC")])
    assert json.loads(body)["identity"]["CURP"] == CURP_A
    # protected CGI
    status, body = get_raw(env, "/cgi/informativa.cgi?format=json", [accept, cookie] + evil)
    assert status == 200 and "EVIL" not in body, body[:300]
    assert json.loads(body)["ICSOE_CURP"] == CURP_A
    # unprotected, proxied and CGI: nothing of ours at all, even logged in
    for path in ("/publico/?format=json", "/cgi-abierto/informativa.cgi?format=json"):
        for extra in ([], [cookie]):
            status, body = get_raw(env, path, [accept] + extra + evil)
            assert status == 200, (path, body[:300])
            assert "EVIL" not in body, (path, body[:500])
            v = json.loads(body)
            if "identity" in v:
                assert all(x is None for x in v["identity"].values())
            else:
                assert v["ICSOE_CURP"] is None and v.get("REMOTE_USER") is None
    # handler URLs: scrubbed there too (post_read_request, every request),
    # and no handler takes an identity from a header
    for path in (LOGIN, HOME, SELECT, RECOVER, ACTIVATE + "?t=x", "/icsoe/icsoe.css"):
        before = env.a.error_log().count("removed client header")
        status, body = get_raw(env, path, [accept] + evil)
        assert status in (200, 303, 404), (path, status)
        assert "EVIL" not in body and CURP_A not in body
        # one line per name (the header table ignores case, not '_')
        names = len({k.lower() for k, _ in evil})
        util.wait_until(lambda: env.a.error_log().count("removed client header")
                        >= before + names, 5, f"scrub log for {path}")
    status, body = get_raw(env, HOME, [accept] + evil)
    assert status == 303


def test_spoofed_identity_headers_default_prefix(env):
    check_spoofing(env, "X-ICSOE-")


def test_spoofed_identity_headers_with_the_prefix_changed(tmp_path, slapd, smtp, apache):
    e = Env(tmp_path, slapd, smtp, apache, prefix="X-Otro-")
    try:
        check_spoofing(e, "X-Otro-")
        # the default names are no longer ours: they pass, and mean nothing
        b = e.logged_in(CURP_A, PW_A, RFC_1)
        status, body = get_raw(e, "/informativa/?format=json", [
            ("Accept", "text/html"), ("Cookie", f"{COOKIE}={b.cookie()}"),
            ("X-ICSOE-CURP", "NOTOURS")])
        v = json.loads(body)
        assert v["identity"]["CURP"] == CURP_A
        assert v["headers"]["x-icsoe-curp"] == ["NOTOURS"]
    finally:
        e.stop()


# ------------------------------------------------------------- cookies

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def test_cookie_bit_flip_at_every_byte(env):
    good = ha.seal(env.a.key_files, "127.0.0.1", curp=CURP_A, name=NAME_A, rfc=RFC_1,
                   contractor_name="Servicios del Altiplano SA")
    raw = b64d(good)
    assert b64e(raw) == good
    s = requests.Session()
    r = s.get(env.a.url("/app/"), headers={**API, "Cookie": f"{COOKIE}={good}"},
              allow_redirects=False, timeout=30)
    assert r.status_code == 200
    for i in range(len(raw)):
        for bit in (0, 7):
            bad = bytearray(raw)
            bad[i] ^= 1 << ((i + bit) % 8)
            c = b64e(bytes(bad))
            r = s.get(env.a.url("/app/"), headers={**API, "Cookie": f"{COOKIE}={c}"},
                      allow_redirects=False, timeout=30)
            assert r.status_code == 401, (i, bit, r.status_code)
    # truncated at every length, and extended
    for n in range(0, len(raw), 3):
        c = b64e(raw[:n])
        r = s.get(env.a.url("/app/"), headers={**API, "Cookie": f"{COOKIE}={c}"},
                  allow_redirects=False, timeout=30)
        assert r.status_code == 401, n
    r = s.get(env.a.url("/app/"), headers={**API, "Cookie": f"{COOKIE}={b64e(raw + b'x')}"},
              allow_redirects=False, timeout=30)
    assert r.status_code == 401
    assert_no_crash(env.a)


def test_cookie_replay_after_logout_lock_and_lockout(env):
    def replay(cookie):
        c = Browser(env.a)
        c.set_cookie(cookie)
        return c
    # after logout
    b = env.logged_in(CURP_A, PW_A, RFC_1)
    copy = b.cookie()
    assert replay(copy).get("/app/").status_code == 200
    assert b.post(LOGOUT, {"csrf": csrf_of(b.get(HOME).text)}).status_code == 200
    for path in ("/app/", HOME, SELECT, "/informativa/"):
        assert replay(copy).get(path).status_code == 303, path
    r = replay(copy).s.get(env.a.url("/informativa/"), headers=API,
                           allow_redirects=False, timeout=30)
    assert r.status_code == 401
    # after an administrator's lock (icsoectl)
    b = env.logged_in(CURP_B, PW_B, RFC_1)
    copy = b.cookie()
    r = icsoectl(env.conf, "capturist", "lock", CURP_B)
    assert r.returncode == 0, r.stderr
    assert replay(copy).get("/app/").status_code == 303
    assert b.get("/informativa/").status_code == 303
    # after a ppolicy lockout caused by somebody else's wrong guesses
    env.slapd.set_policy(pwdMaxFailure=3)
    b = env.logged_in(CURP_A, PW_A, RFC_1)
    copy = b.cookie()
    guesser = Browser(env.a)
    for _ in range(3):
        assert MSG_GENERIC in guesser.login(CURP_A, "adivinanza equivocada").text
    assert replay(copy).get("/app/").status_code == 303
    env.a.wait_log(f"event=session-refused curp={CURP_A} client=127.0.0.1 "
                   "detail=account-locked")


def test_session_fixation_with_planted_cookies(env):
    # a pre-login cookie planted by an attacker
    attacker = Browser(env.a)
    planted = None
    attacker.get(LOGIN)
    planted = attacker.cookie()
    victim = Browser(env.a)
    victim.set_cookie(planted)
    r = victim.login(CURP_B, PW_B)
    assert r.status_code == 303
    assert victim.cookie() != planted
    assert ha.open_cookie(env.a.key_files, "127.0.0.1", victim.cookie())["curp"] == CURP_B
    # the attacker's copy is still a pre-login session
    assert attacker.get(HOME).status_code == 303
    assert ha.open_cookie(env.a.key_files, "127.0.0.1", planted)["curp"] == ""
    # a logged-in cookie of the attacker's own account, planted
    attacker = env.logged_in(CURP_A, PW_A, RFC_1)
    planted = attacker.cookie()
    victim = Browser(env.a)
    victim.set_cookie(planted)
    r = victim.login(CURP_B, PW_B)
    assert r.status_code == 303
    after = ha.open_cookie(env.a.key_files, "127.0.0.1", victim.cookie())
    assert after["curp"] == CURP_B and after["rfc"] == ""
    assert ha.open_cookie(env.a.key_files, "127.0.0.1", attacker.cookie())["curp"] == CURP_A
    # the attacker's form tokens are worthless in the victim's new session
    attacker_token = csrf_of(attacker.get(HOME).text)
    assert victim.post(LOGOUT, {"csrf": attacker_token}).status_code == 403
    assert victim.get(HOME).status_code == 200
    # choosing a contractor renews the cookie and its CSRF secret
    before = victim.cookie()
    old_token = csrf_of(victim.get(SELECT).text)
    assert victim.choose(RFC_1).status_code == 303
    assert victim.cookie() != before
    assert victim.post(LOGOUT, {"csrf": old_token}).status_code == 403
    assert victim.get(HOME).status_code == 200


# -------------------------------------------------------- enumeration

HEADERS_THAT_VARY = {"date", "content-length", "keep-alive", "connection"}


def answer_shape(r):
    names = sorted(k.lower() for k in r.headers if k.lower() not in HEADERS_THAT_VARY)
    cookies = sorted(c.split("=", 1)[0].strip()
                     for c in r.raw.headers.getlist("Set-Cookie"))
    return r.status_code, names, cookies, strip_csrf(r.text)


def test_login_enumeration_status_body_headers_and_cookies(env):
    b = Browser(env.a)
    csrf = b.csrf()
    shapes = {}
    for label, user, pw in (("unknown", CURP_UNKNOWN, "una contraseña cualquiera"),
                            ("wrong-password", CURP_A, "una contraseña cualquiera"),
                            ("pending", CURP_P, "una contraseña cualquiera"),
                            ("admin-locked-wrong", CURP_L, "una contraseña cualquiera"),
                            ("malformed", "NO-ES-CURP", "una contraseña cualquiera"),
                            ("lower-case", CURP_UNKNOWN.lower(), "otra contraseña más")):
        r = b.post(LOGIN, {"csrf": csrf, "curp": user, "password": pw})
        shapes[label] = answer_shape(r)
        assert MSG_GENERIC in r.text, label
    first = shapes["unknown"]
    assert first[0] == 200 and first[2] == []     # no Set-Cookie at all
    for label, shape in shapes.items():
        assert shape == first, label


def test_recovery_enumeration_status_body_headers_and_cookies(env):
    b = Browser(env.a)
    shapes = {}
    cases = (("unknown", CURP_UNKNOWN, "x@example.test"),
             ("wrong-email", CURP_A, "otra@example.test"),
             ("pending", CURP_P, f"{CURP_P.lower()}@example.test"),
             ("locked", CURP_L, f"{CURP_L.lower()}@example.test"),
             ("malformed", "NO-ES-CURP", "x@example.test"),
             ("bad-email", CURP_A, "no es correo"),
             ("match", CURP_B, f"{CURP_B.lower()}@example.test"))
    for label, curp, email in cases:
        r = b.post(RECOVER, {"csrf": b.csrf(RECOVER), "curp": curp, "email": email})
        shapes[label] = answer_shape(r)
    first = shapes["match"]
    assert first[0] == 200 and MSG_RECOVER in first[3]
    for label, shape in shapes.items():
        assert shape == first, label
    msgs = env.smtp.wait_for(1)
    time.sleep(0.5)
    assert env.smtp.count() == 1 and CURP_B.lower() in msgs[0]["To"].lower()


def ldap_ops(log, conn_filter=None):
    """SRCH and BIND operations in a slice of slapd's stats log, except the
    binds of the service accounts (connection set-up, not per login)."""
    ops = []
    for line in log.splitlines():
        m = re.search(r"conn=(\d+) op=\d+ (SRCH base|BIND dn)=\"([^\"]*)\"", line)
        if not m:
            continue
        kind, target = m.group(2).split()[0], m.group(3)
        if kind == "BIND" and target.startswith(("cn=icsoe-reader,", "cn=icsoe-writer,")):
            continue
        ops.append((kind, target))
    return ops


def test_unknown_curp_and_wrong_password_do_the_same_ldap_work(env):
    """Deterministic "same cost": for each failure slapd sees exactly one
    search (the account lookup) and exactly one simple bind to an
    {ARGON2} entry -- the capturist's, or the decoy's for an unknown,
    pending or malformed CURP -- and the decoy's hash has the same Argon2
    parameters as a capturist's, so the bind costs the same."""
    b = Browser(env.a)
    csrf = b.csrf()
    # warm up: connections set up, nothing else in flight
    b.post(LOGIN, {"csrf": csrf, "curp": CURP_UNKNOWN, "password": "calentamiento 1"})
    b.post(LOGIN, {"csrf": csrf, "curp": CURP_A, "password": "calentamiento 2"})
    time.sleep(0.3)
    work = {}
    for label, user in (("unknown", CURP_UNKNOWN), ("wrong-password", CURP_A),
                        ("pending", CURP_P), ("malformed", "NO-ES-CURP")):
        before = len(env.slapd_log())
        r = b.post(LOGIN, {"csrf": csrf, "curp": user, "password": "no es la contraseña"})
        assert MSG_GENERIC in r.text
        util.wait_until(lambda: len([o for o in ldap_ops(env.slapd_log()[before:])
                                     if o[0] == "BIND"]) >= 1, 5, "the bind in the log")
        time.sleep(0.3)
        work[label] = ldap_ops(env.slapd_log()[before:])
    kinds = {label: [k for k, _ in ops] for label, ops in work.items()}
    assert kinds["unknown"] == ["SRCH", "BIND"], work
    for label in work:
        assert kinds[label] == kinds["unknown"], (label, work)
    decoy = env.slapd.decoy_dn
    assert work["unknown"][1][1] == decoy and work["pending"][1][1] == decoy
    assert work["malformed"][1][1] == decoy
    assert work["wrong-password"][1][1] == env.slapd.capturist_dn(CURP_A)

    def argon2_params(dn):
        pw = env.slapd.get(dn, ["userPassword"])["userPassword"][0]
        assert pw.startswith("{ARGON2}$argon2"), pw[:20]
        return pw.split("$")[1:4]            # variant, version, m/t/p
    assert argon2_params(decoy) == argon2_params(env.slapd.capturist_dn(CURP_A))


# ------------------------------------------- filter metacharacters, CR/LF

METAS = ["*", "*)(uid=*", "GOPJ*", ")(objectClass=*", "\\2a", "\\", "(", ")",
         CURP_A[:10] + "*", "*" + CURP_A[-4:], f"{CURP_A})(|(uid=*"]


def test_ldap_filter_metacharacters_through_the_pages(env):
    b = Browser(env.a)
    csrf = b.csrf()
    for v in METAS:
        before = len(env.slapd_log())
        r = b.post(LOGIN, {"csrf": csrf, "curp": v, "password": PW_A})
        assert r.status_code == 200 and MSG_GENERIC in r.text, v
        # nobody's bind but the decoy's
        util.wait_until(lambda: "BIND dn=" in env.slapd_log()[before:], 5, "a bind")
        binds = [t for k, t in ldap_ops(env.slapd_log()[before:]) if k == "BIND"]
        assert binds and all(t == env.slapd.decoy_dn for t in binds), (v, binds)
        r = b.post(RECOVER, {"csrf": b.csrf(RECOVER), "curp": v, "email": "*"})
        assert r.status_code == 200 and MSG_RECOVER in r.text
        r = b.post(RECOVER, {"csrf": b.csrf(RECOVER), "curp": CURP_A, "email": v + "@*"})
        assert r.status_code == 200 and MSG_RECOVER in r.text
        r = b.get(ACTIVATE + "?t=" + urllib.parse.quote(v, safe=""))
        assert r.status_code == 404
    time.sleep(0.5)
    assert env.smtp.count() == 0
    # the contractor filter box matches text, never a pattern
    s = env.logged_in(CURP_A, PW_A)
    for q in ("*", ")(", "*)(icsoeRFC=*", "\\2a"):
        r = s.get(SELECT + "?q=" + urllib.parse.quote(q))
        assert r.status_code == 200
        assert r.text.count('type="radio"') == 0, q
        assert RFC_X not in r.text
    r = s.get(SELECT)
    assert RFC_X not in r.text and r.text.count('type="radio"') == 2
    # a forged RFC with metacharacters is not a contractor
    csrf = csrf_of(r.text)
    for v in ("*", RFC_1[:5] + "*", f"{RFC_1})(icsoeRFC=*"):
        assert s.post(SELECT, {"csrf": csrf, "step": "continuar",
                               "rfc": v}).status_code in (400, 403)
    assert RFC_1 not in s.get(HOME).text


def test_ldap_filter_metacharacters_through_icsoectl(env):
    snapshot = all_entries(env.slapd)
    refused = [
        ("capturist", "show", "*"), ("capturist", "show", CURP_A[:10] + "*"),
        ("contractor", "show", "*"), ("contractor", "show", RFC_1[:5] + "*"),
        ("capturist", "list", "--contractor", "*"),
        ("capturist", "grant", CURP_A, "*"), ("capturist", "revoke", CURP_A, "*"),
        ("capturist", "lock", "*"), ("capturist", "remove", "*"),
        ("capturist", "resend", "*", "--no-mail"),
        ("contractor", "remove", "*", "--force"),
        ("capturist", "add", "--curp", "*", "--name", "X", "--email", "x@example.test",
         "--contractor", RFC_1),
        ("capturist", "add", "--curp", ha.curp("NUAJ850615HJCXXN0"), "--name", "Juan",
         "--email", "a*)(mail=*@example.test", "--contractor", RFC_1),
        ("capturist", "add", "--curp", ha.curp("NUAJ850615HJCXXN0"), "--name", "Juan",
         "--email", "j@example.test", "--contractor", "*"),
        ("contractor", "add", "--rfc", "*", "--name", "X"),
    ]
    for args in refused:
        r = icsoectl(env.conf, *args)
        assert r.returncode in (1, 2), (args, r.returncode, r.stderr)
        err = r.stderr.decode()
        assert err.startswith("icsoectl: "), (args, err)
    assert all_entries(env.slapd) == snapshot
    # a name is free text: metacharacters are stored as they are, and match
    # nothing else
    name = "Juan (el *) \\ Pérez"
    curp = ha.curp("NUAJ850615HJCXXN0")
    r = icsoectl(env.conf, "capturist", "add", "--curp", curp, "--name", name,
                 "--email", "juan@example.test", "--contractor", RFC_1, "--no-mail")
    assert r.returncode == 0, r.stderr
    assert entry(env.slapd, curp)["cn"] == [name]
    r = icsoectl(env.conf, "--json", "capturist", "show", curp)
    assert json.loads(r.stdout)["name"] == name
    r = icsoectl(env.conf, "--json", "capturist", "list", "--contractor", RFC_2)
    assert curp not in r.stdout.decode()


def test_crlf_in_names_from_ldap_never_reaches_a_header(env):
    """Names stored by the rootdn with CR/LF/NUL (not through our tools):
    never emitted in a header, an env var or a mail."""
    bad = b"Servicios\r\nX-Injected: 1"
    b = env.logged_in(CURP_A, PW_A, RFC_1)
    assert b.get("/informativa/").status_code == 200
    env.slapd.modify(env.slapd.contractor_dn(RFC_1), [(ldap.MOD_REPLACE, "o", [bad])])
    # the next revalidation drops the contractor (revalidation every request)
    r = b.get("/informativa/?format=json")
    assert r.status_code == 303 and r.headers["Location"] == SELECT
    assert "X-Injected" not in r.headers
    r = b.get("/cgi/informativa.cgi?format=json")
    assert r.status_code == 303
    # the selection page does not offer it, choosing it anyway is refused
    page = b.get(SELECT)
    assert page.status_code == 200 and "X-Injected" not in page.text
    r = b.post(SELECT, {"csrf": csrf_of(page.text), "step": "continuar", "rfc": RFC_1})
    assert r.status_code in (400, 403)
    assert "X-Injected" not in r.headers
    # the other contractor still works and carries no injected header
    assert b.choose(RFC_2).status_code == 303
    v = b.get("/informativa/?format=json").json()
    assert not [k for k in v["headers"] if "injected" in k.lower()]
    assert v["identity"]["Contratista-RFC"] == RFC_2
    # a capturist name with CR/LF: logged-in session ends, no login, no mail
    env.slapd.modify(env.slapd.capturist_dn(CURP_A),
                     [(ldap.MOD_REPLACE, "cn", [b"Juan\r\nX-Injected: 1"])])
    # (the directory layer refuses to read such an entry: fail closed)
    r = b.get("/informativa/?format=json")
    assert r.status_code in (303, 503), r.status_code
    assert "X-Injected" not in r.headers and "EVIL" not in r.text
    r = Browser(env.a).login(CURP_A, PW_A)
    assert r.status_code in (200, 500), r.status_code
    assert "X-Injected" not in r.headers and r.status_code != 303
    assert "Set-Cookie" not in r.headers or CURP_A not in str(
        ha.open_cookie(env.a.key_files, "127.0.0.1",
                       r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]))
    c = Browser(env.a)
    c.post(RECOVER, {"csrf": c.csrf(RECOVER), "curp": CURP_A,
                     "email": f"{CURP_A.lower()}@example.test"})
    env.slapd.modify(env.slapd.capturist_dn(CURP_B),
                     [(ldap.MOD_REPLACE, "cn", [b"Ana\x00Bcc: x@evil.test"])])
    c.post(RECOVER, {"csrf": c.csrf(RECOVER), "curp": CURP_B,
                     "email": f"{CURP_B.lower()}@example.test"})
    time.sleep(1.0)
    assert env.smtp.count() == 0
    for raw in env.smtp.raw_messages():
        assert b"X-Injected" not in raw and b"evil.test" not in raw
    assert "X-Injected: 1" not in [ln.strip() for ln in env.a.error_log().splitlines()]
    assert_no_crash(env.a)


def test_crlf_in_values_given_to_icsoectl(env):
    snapshot = all_entries(env.slapd)
    curp = ha.curp("NUAJ850615HJCXXN0")
    for args in [
        ("contractor", "add", "--rfc", ha.rfc("NUE010101AB"), "--name", "Nueva\r\nX: 1"),
        ("contractor", "add", "--rfc", ha.rfc("NUE010101AB"), "--name", "Nueva",
         "--email", "a@example.test\r\nBcc: x@evil.test"),
        ("capturist", "add", "--curp", curp, "--name", "Juan\nX: 1",
         "--email", "j@example.test", "--contractor", RFC_1),
        ("capturist", "add", "--curp", curp, "--name", "Juan",
         "--email", "j@example.test\rBcc: x@evil.test", "--contractor", RFC_1),
    ]:
        r = icsoectl(env.conf, *args)
        assert r.returncode == 1, (args, r.stderr)
        assert r.stderr.decode().startswith("icsoectl: ")
    assert all_entries(env.slapd) == snapshot
    assert env.smtp.count() == 0


# ------------------------------------------------------------- limits

def test_oversized_headers_cookies_and_fields(env):
    good = ha.seal(env.a.key_files, "127.0.0.1", curp=CURP_A, name=NAME_A)
    # a 16 KiB cookie: Apache's header limit answers 400; never a session
    status, headers, body = raw_request(env.a.port, [
        "GET /app/ HTTP/1.1", f"Host: 127.0.0.1:{env.a.port}", "Accept: */*",
        f"Cookie: {COOKIE}={'A' * 16384}", "Connection: close"])
    assert status == 400 and b"protegido" not in body
    # under Apache's limit but over ours: no session, no 500
    for cookie in ("A" * 8000, good + "A" * 7000, good * 30):
        status, headers, body = raw_request(env.a.port, [
            "GET /app/ HTTP/1.1", f"Host: 127.0.0.1:{env.a.port}", "Accept: */*",
            f"Cookie: {COOKIE}={cookie[:8100]}", "Connection: close"])
        assert status in (400, 401), status
    # many cookies with our name before the good one: a bounded number is
    # tried, the rest ignored -- no session, no 500
    many = "; ".join([f"{COOKIE}=garbage{i}" for i in range(10)] + [f"{COOKIE}={good}"])
    r = requests.get(env.a.url("/app/"), headers={**API, "Cookie": many},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 401
    # a body over 8 KiB, also with a lying Content-Length
    status, _, _ = raw_request(env.a.port, [
        f"POST {LOGIN} HTTP/1.1", f"Host: 127.0.0.1:{env.a.port}",
        "Content-Type: application/x-www-form-urlencoded", "Content-Length: 100000",
        "Connection: close"], b"curp=" + b"A" * 20000)
    assert status == 413
    # fields over their limits are just wrong answers
    b = Browser(env.a)
    r = b.post(LOGIN, {"csrf": b.csrf(), "curp": CURP_A + "A" * 4000, "password": PW_A})
    assert r.status_code == 200 and MSG_GENERIC in r.text
    r = b.post(LOGIN, {"csrf": b.csrf(), "curp": CURP_A, "password": PW_A + "x" * 1100})
    assert r.status_code == 200 and MSG_GENERIC in r.text
    r = b.get(LOGIN + "?r=/" + "a" * 6000)
    assert r.status_code == 200 and 'name="r" value=""' in r.text
    r = b.post(RECOVER, {"csrf": b.csrf(RECOVER), "curp": CURP_A,
                         "email": "a" * 3000 + "@example.test"})
    assert r.status_code == 200 and MSG_RECOVER in r.text
    # a huge request line or too many header fields: Apache's own limits
    status, _, _ = raw_request(env.a.port, [
        f"GET /app/?{'x' * 10000} HTTP/1.1", f"Host: 127.0.0.1:{env.a.port}",
        "Connection: close"])
    assert status == 414
    status, _, _ = raw_request(env.a.port, [
        "GET /app/ HTTP/1.1", f"Host: 127.0.0.1:{env.a.port}", "Connection: close"]
        + [f"X-Filler-{i}: {i}" for i in range(150)])
    assert status == 400
    time.sleep(0.3)
    assert env.smtp.count() == 0
    assert_no_crash(env.a)


# ------------------------------------------- confusables and NUL bytes

CYRILLIC_A = "\u0410"          # А, looks like A
CONFUSABLE_CURPS = [
    CURP_A.replace("O", "\u041e", 1),                                    # Cyrillic О
    CURP_B[:3] + CYRILLIC_A + CURP_B[4:],                                # Cyrillic А
    CURP_A[:4] + "".join(chr(ord(c) + 0xFEE0) for c in CURP_A[4:10]) + CURP_A[10:],  # fullwidth
    CURP_A[:-1] + "\uff10",                                              # fullwidth 0
    CURP_A + "\u200b",                                                   # zero-width space
    "\ufeff" + CURP_A,                                                   # BOM
    CURP_A.replace("O", "\u039f", 1),                                    # Greek Omicron
    "\uff27" + CURP_A[1:],                                               # fullwidth G
]


def test_unicode_confusables_and_nul_in_curp_through_the_pages(env):
    b = Browser(env.a)
    csrf = b.csrf()
    for v in CONFUSABLE_CURPS:
        r = b.post(LOGIN, {"csrf": csrf, "curp": v, "password": PW_A})
        assert r.status_code == 200 and MSG_GENERIC in r.text, ascii(v)
        assert "Set-Cookie" not in r.headers
        r = b.post(RECOVER, {"csrf": b.csrf(RECOVER), "curp": v,
                             "email": f"{CURP_A.lower()}@example.test"})
        assert r.status_code == 200 and MSG_RECOVER in r.text
    assert b.get(HOME).status_code == 303
    # NUL: the strict form parser refuses the whole body
    for body in (f"csrf={csrf}&curp={CURP_A}%00&password=x",
                 f"csrf={csrf}&curp={CURP_A}&password={PW_A}%00extra",
                 f"csrf={csrf}&cu%00rp={CURP_A}&password={PW_A}"):
        r = b.s.post(env.a.url(LOGIN), data=body, allow_redirects=False, timeout=30,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 400, body
    r = b.get(LOGIN + "?r=%2Fapp%2F%00%2F%2Fevil")
    assert r.status_code == 200 and 'name="r" value=""' in r.text
    r = b.get(ACTIVATE + "?t=" + "A" * 42 + "%00")
    assert r.status_code == 404
    time.sleep(0.5)
    assert env.smtp.count() == 0
    assert_no_crash(env.a)


def test_unicode_confusables_and_nul_through_icsoectl(env, tmp_path):
    snapshot = all_entries(env.slapd)
    for v in CONFUSABLE_CURPS:
        r = icsoectl(env.conf, "validate", "curp", v)
        assert r.returncode == 1, ascii(v)
        r = icsoectl(env.conf, "capturist", "add", "--curp", v, "--name", "Juan",
                     "--email", "j@example.test", "--contractor", RFC_1)
        assert r.returncode == 1, (ascii(v), r.stderr)
        assert b"CURP" in r.stderr
    for rfc in (RFC_1.replace("S", "\u0405", 1), RFC_1[:3] + "\uff10" + RFC_1[4:]):
        r = icsoectl(env.conf, "validate", "rfc", rfc)
        assert r.returncode == 1, ascii(rfc)
    # NUL bytes and invalid UTF-8 in a CSV import: the row is refused
    curp = ha.curp("NUAJ850615HJCXXN0")
    curp2 = ha.curp("HEGG560427MVZRRL0")
    csv = (b"CURP,Nombre,Correo,RFC\r\n"
           + f"{curp},Juan".encode() + b"\x00Bcc" + f",j@example.test,{RFC_1}\r\n".encode()
           + f"{curp2},Gabriela ".encode() + b"\xff\xfe" + f",g@example.test,{RFC_1}\r\n".encode()
           + f"{CURP_A[:3]}{CYRILLIC_A}{CURP_A[4:]},Juan,j@example.test,{RFC_1}\r\n".encode())
    path = tmp_path / "import.csv"
    path.write_bytes(csv)
    r = icsoectl(env.conf, "capturist", "import", path, "--no-mail")
    assert r.returncode == 1, r.stderr
    err = r.stderr.decode("utf-8", "replace")
    assert err.count(f"{path}:") >= 3, err
    assert all_entries(env.slapd) == snapshot



def test_lockout_message_does_not_tell_an_existing_curp(env):
    """Enumeration through the lockout message (issue 13, defect 9): after
    pwdMaxFailure wrong guesses an existing CURP answers exactly like an
    unknown one -- the owner hears of the lock by mail instead."""
    env.slapd.set_policy(pwdMaxFailure=3)
    b = Browser(env.a)
    csrf = b.csrf()
    answers = {}
    for user in (CURP_UNKNOWN, CURP_A):
        for _ in range(3):
            b.post(LOGIN, {"csrf": csrf, "curp": user, "password": "adivinanza mala"})
        r = b.post(LOGIN, {"csrf": csrf, "curp": user, "password": "adivinanza mala"})
        answers[user] = answer_shape(r)
    assert "pwdAccountLockedTime" in env.slapd.get(env.slapd.capturist_dn(CURP_A),
                                                   ["pwdAccountLockedTime"])
    assert answers[CURP_A] == answers[CURP_UNKNOWN]
    assert MSG_GENERIC in answers[CURP_A][3] and "bloquead" not in answers[CURP_A][3]
    # even the right password answers the generic message while locked
    r = b.post(LOGIN, {"csrf": csrf, "curp": CURP_A, "password": PW_A})
    assert answer_shape(r) == answers[CURP_UNKNOWN]


def test_lockout_mails_the_owner_once_per_lock_and_recovery_unlocks(env):
    env.slapd.set_policy(pwdMaxFailure=3)
    b = Browser(env.a)
    csrf = b.csrf()
    for _ in range(3):
        b.post(LOGIN, {"csrf": csrf, "curp": CURP_A, "password": "adivinanza mala"})
    env.smtp.assert_quiet(0.3)             # the guesses themselves mail nothing
    for _ in range(4):                     # attempts while locked: one mail
        b.post(LOGIN, {"csrf": csrf, "curp": CURP_A, "password": "adivinanza mala"})
    msgs = env.smtp.wait_for(1, timeout=20)   # sent after the responses
    time.sleep(0.5)
    assert env.smtp.count() == 1
    m = msgs[0]
    assert CURP_A.lower() in m["To"].lower()
    assert "se bloqueó" in m["Subject"]
    body = env.smtp.text(m)
    assert "se bloqueó temporalmente" in body and "la cuenta se desbloquea" in body
    link = env.smtp.links(m)[0]
    assert link.startswith("http://127.0.0.1/icsoe/activar?t=")
    # an unknown CURP never gets anything, however often it is tried
    for _ in range(5):
        b.post(LOGIN, {"csrf": csrf, "curp": CURP_UNKNOWN, "password": "adivinanza mala"})
    time.sleep(0.5)
    assert env.smtp.count() == 1
    # the recovery flow works while locked, and a new password unlocks
    tok = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["t"][0]
    c2 = b.csrf(ACTIVATE + "?t=" + tok)
    new_pw = "Mariposa Monarca Migra 2025 sur"
    r = b.post(ACTIVATE, {"csrf": c2, "t": tok, "password": new_pw,
                          "password_confirm": new_pw})
    assert r.status_code == 200 and "Tu contraseña se actualizó correctamente" in r.text, \
        r.text[:800]
    assert "pwdAccountLockedTime" not in env.slapd.get(
        env.slapd.capturist_dn(CURP_A), ["pwdAccountLockedTime"])
    assert Browser(env.a).login(CURP_A, new_pw).status_code == 303


def test_admin_locked_account_gets_no_lock_mail(env):
    b = Browser(env.a)
    csrf = b.csrf()
    for _ in range(3):
        r = b.post(LOGIN, {"csrf": csrf, "curp": CURP_L, "password": PW_B})
        assert MSG_GENERIC in r.text
    env.smtp.assert_quiet(0.5)
