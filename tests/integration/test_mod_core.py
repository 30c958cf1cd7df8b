"""mod_icsoe core in a real apache2: start-up checks of the key files, the
security headers of every response, body limits, and the session cookie
(tampering, expiry, foreign vhosts, key rotation).  No LDAP is needed: the
sessions are sealed by tests/integration/sealdrv with validated=now, so no
revalidation is due (ICSOERevalidateInterval 60)."""
import http.client
import os
import stat

import pytest
import requests

from harness import apache as ha
from harness import util
from harness.apache import Apache, BROWSER, API, SECURITY_HEADERS

CURP = ha.curp("GOPJ800101HDFMRN0")
RFC_A = ha.rfc("ABC010101AB")

PROTECTED = """
<Location /app>
    AuthType ICSOE
    Require valid-user
</Location>
ICSOESessionIdleTimeout 600
ICSOESessionMaxAge 3600
"""


def protected_apache(apache, **kw):
    kw.setdefault("conf_snippet", PROTECTED)
    a = apache(**kw)
    os.makedirs(os.path.join(a.docroot, "app"), exist_ok=True)
    with open(os.path.join(a.docroot, "app", "index.html"), "w") as f:
        f.write("<!DOCTYPE html><title>app</title><p>protegido</p>\n")
    os.chmod(os.path.join(a.docroot, "app"), 0o755)
    os.chmod(os.path.join(a.docroot, "app", "index.html"), 0o644)
    return a


def cookie_for(a, **kw):
    kw.setdefault("curp", CURP)
    kw.setdefault("name", "Juan Gómez Pérez")
    return ha.seal(a.key_files, a.server_name, **kw)


def get(a, path, cookie=None, headers=None, name="icsoe_session"):
    h = dict(headers or {})
    if cookie is not None:
        h["Cookie"] = f"{name}={cookie}"
    return requests.get(a.url(path), headers=h, allow_redirects=False, timeout=10)


def assert_no_session(a, cookie, name="icsoe_session"):
    """A browser is sent to the login page with its return path, any other
    client gets 401 with a challenge; never a 500."""
    r = get(a, "/app/", cookie, BROWSER, name)
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == "/icsoe/ingresar?r=%2fapp%2f"
    r = get(a, "/app/", cookie, API, name)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith('ICSOE realm="')
    assert "protegido" not in r.text


def assert_no_crash(a):
    """No child died (a crash after the response would go unnoticed)."""
    log = a.error_log()
    assert "exit signal" not in log and "free(): " not in log, log[-2000:]


def assert_security_headers(r):
    for k, v in SECURITY_HEADERS.items():
        assert r.headers.get(k) == v, (r.url, r.status_code, k, r.headers.get(k))


# ---- start-up: key files ----

def key_check(tmp_path, key_files):
    a = Apache(tmp_path / "apache", key_files=key_files)
    return a.check_config()


def test_valid_key_file_passes_syntax_check(tmp_path):
    key = ha.write_key_file(str(tmp_path / "ok.key"))
    rc, out = key_check(tmp_path, [key])
    assert rc == 0, out
    assert "Syntax OK" in out


def test_missing_key_file_refuses_to_start(tmp_path):
    missing = str(tmp_path / "nope.key")
    rc, out = key_check(tmp_path, [missing])
    assert rc != 0
    assert "ICSOESessionKeyFile" in out and missing in out


def test_short_key_file_refuses_to_start(tmp_path):
    short = ha.write_key_file(str(tmp_path / "short.key"), key_hex="ab" * 16)
    rc, out = key_check(tmp_path, [short])
    assert rc != 0
    assert "ICSOESessionKeyFile" in out and short in out
    assert "64 hex" in out


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_readable_by_others_refuses_to_start(tmp_path, mode):
    key = ha.write_key_file(str(tmp_path / "open.key"), mode=mode)
    assert stat.S_IMODE(os.stat(key).st_mode) == mode
    rc, out = key_check(tmp_path, [key])
    assert rc != 0
    assert "ICSOESessionKeyFile" in out and key in out
    assert "group or others" in out


def test_bad_second_key_in_rotation_list_refuses_to_start(tmp_path):
    good = ha.write_key_file(str(tmp_path / "new.key"))
    bad = ha.write_key_file(str(tmp_path / "old.key"), mode=0o644)
    rc, out = key_check(tmp_path, [good, bad])
    assert rc != 0 and bad in out


def test_no_key_file_at_all_refuses_to_start(tmp_path):
    if os.path.exists("/etc/icsoe/session.key"):
        pytest.skip("this machine has the default /etc/icsoe/session.key")
    a = Apache(tmp_path / "apache", key_files=[])
    rc, out = a.check_config()
    assert rc != 0
    assert "no ICSOESessionKeyFile" in out


def test_bad_icsoe_conf_refuses_to_start_naming_file_and_line(tmp_path):
    conf = tmp_path / "icsoe.conf"
    conf.write_text("uri ldap://127.0.0.1:9/\nbase dc=x\nurii ldap://x/\n")
    a = Apache(tmp_path / "apache", icsoe_conf_path=str(conf))
    rc, out = a.check_config()
    assert rc != 0
    assert "ICSOEConfigFile" in out and f"{conf}:3" in out


@pytest.mark.parametrize("directive, value, words", [
    ("ICSOESessionIdleTimeout", "0", "between"),
    ("ICSOESessionIdleTimeout", "12abc", "not a number"),
    ("ICSOERevalidateInterval", "-1", "between"),
    ("ICSOELoginURL", "//evil.example/", "local path"),
    ("ICSOESessionCookie", "__Host-x", "without the"),
    ("ICSOESessionCookie", "a;b", "may only contain"),
    ("ICSOEHeaderPrefix", "X ICSOE", "may only contain"),
    ("ICSOETemplateDir", "/nonexistent/dir", "not a directory"),
])
def test_bad_directive_values_fail_the_syntax_check(tmp_path, directive, value, words):
    a = Apache(tmp_path / "apache", conf_snippet=f'{directive} "{value}"\n')
    rc, out = a.check_config()
    assert rc != 0
    assert directive in out and words in out, out


def test_bad_require_rfc_fails_the_syntax_check(tmp_path):
    a = Apache(tmp_path / "apache", conf_snippet="""
<Location /x>
    AuthType ICSOE
    Require icsoe-contratista NOTANRFC
</Location>
""")
    rc, out = a.check_config()
    assert rc != 0
    assert "icsoe-contratista" in out and "NOTANRFC" in out


# ---- security headers ----

PAGES = ["/icsoe/activar", "/icsoe/activar?t=xyz", "/icsoe/ingresar",
         "/icsoe/recuperar", "/icsoe/inicio", "/icsoe/contratista", "/icsoe/salir"]


def test_every_page_and_redirect_carries_security_headers(apache):
    a = protected_apache(apache)
    seen = set()
    for path in PAGES:
        for headers in (BROWSER, API):
            r = get(a, path, headers=headers)
            assert r.status_code != 500 or "Internal" not in r.text
            assert_security_headers(r)
            seen.add(r.status_code)
            if r.status_code in (301, 302, 303):
                assert r.headers["Location"].startswith("/")
    # POSTs without a form, a CSRF token or a session
    for path in PAGES[2:]:
        r = requests.post(a.url(path), data={"x": "1"}, headers=BROWSER,
                          allow_redirects=False, timeout=10)
        assert_security_headers(r)
        seen.add(r.status_code)
    # auth answers of a protected location: 303, 401
    r = get(a, "/app/", headers=BROWSER)
    assert r.status_code == 303
    assert_security_headers(r)
    r = get(a, "/app/", headers=API)
    assert r.status_code == 401
    assert_security_headers(r)
    assert 303 in seen and 200 in seen
    assert_no_crash(a)


def test_stylesheet_is_served_with_its_type(apache):
    a = apache()
    r = get(a, "/icsoe/icsoe.css")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/css")
    assert "{" in r.text
    # the security headers too, but cacheable: it is the same for everybody
    for k, v in SECURITY_HEADERS.items():
        if k != "Cache-Control":
            assert r.headers[k] == v
    assert r.headers["Cache-Control"] == "public, max-age=3600"


def test_vhosts_inherit_and_override_directives(apache):
    a = protected_apache(apache, conf_snippet=PROTECTED + """
<VirtualHost 127.0.0.1:@PORT@>
    ServerName otro.test
    ICSOELoginURL /otro/entrar
    ICSOESessionCookie otra_sesion
    ICSOEHeaderPrefix X-Otro-
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT@>
    ServerName igual.test
</VirtualHost>
""")
    r = get(a, "/app/", headers={**BROWSER, "Host": "otro.test"})
    assert r.headers["Location"] == "/otro/entrar?r=%2fapp%2f"
    r = get(a, "/app/", headers={**BROWSER, "Host": "igual.test"})
    assert r.headers["Location"] == "/icsoe/ingresar?r=%2fapp%2f"
    # its own cookie name; the key list is inherited from the main server
    c = ha.seal(a.key_files, "otro.test", curp=CURP, name="X")
    assert get(a, "/app/", c, {**BROWSER, "Host": "otro.test"}).status_code == 303
    assert get(a, "/app/", c, {**BROWSER, "Host": "otro.test"},
               name="otra_sesion").status_code == 200
    r = get(a, "/icsoe/ingresar", headers={**BROWSER, "Host": "otro.test"})
    assert r.headers["Set-Cookie"].startswith("otra_sesion=")


def test_login_page_sets_a_pre_session_cookie_with_the_right_attributes(apache):
    a = apache()
    r = get(a, "/icsoe/ingresar", headers=BROWSER)
    assert r.status_code == 200
    sc = r.headers["Set-Cookie"]
    name, rest = sc.split("=", 1)
    assert name == "icsoe_session"
    attrs = [x.strip() for x in rest.split(";")[1:]]
    assert "Path=/" in attrs and "HttpOnly" in attrs and "SameSite=Lax" in attrs
    assert "Secure" not in attrs  # ICSOECookieSecure Off in the harness
    assert ha.open_cookie(a.key_files, "127.0.0.1", rest.split(";")[0]) is not None


def test_secure_cookie_uses_host_prefix(apache):
    a = apache(conf_snippet="""
<VirtualHost 127.0.0.1:@PORT@>
    # TLS terminated in front: the declared scheme is https
    ServerName https://secure.test
    ICSOECookieSecure On
</VirtualHost>
""")
    r = requests.get(a.url("/icsoe/ingresar"), headers={**BROWSER, "Host": "secure.test"},
                     allow_redirects=False, timeout=10)
    sc = r.headers["Set-Cookie"]
    assert sc.startswith("__Host-icsoe_session=")
    attrs = [x.strip() for x in sc.split(";")[1:]]
    assert "Secure" in attrs and "Path=/" in attrs and "HttpOnly" in attrs
    assert not any(x.lower().startswith("domain") for x in attrs)


# ---- request bodies ----

def raw_post(a, path, body, chunked=False, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
    h = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    if chunked:
        conn.putrequest("POST", path)
        for k, v in h.items():
            conn.putheader(k, v)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(body), 1000):
            part = body[i:i + 1000]
            conn.send(b"%x\r\n%s\r\n" % (len(part), part))
        conn.send(b"0\r\n\r\n")
    else:
        conn.request("POST", path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    out = (r.status, dict(r.getheaders()), data)
    conn.close()
    return out


# (/icsoe/contratista revalidates against LDAP first: see test_mod_auth)
@pytest.mark.parametrize("path", ["/icsoe/ingresar", "/icsoe/activar",
                                  "/icsoe/recuperar", "/icsoe/salir"])
def test_oversized_post_is_413(apache, path):
    a = apache()
    body = b"curp=" + b"A" * 9000
    # logged in with a contractor, so no handler turns the POST away first
    c = cookie_for(a, rfc=RFC_A, contractor_name="Servicios ABC")
    status, headers, data = raw_post(a, path, body,
                                     headers={"Cookie": f"icsoe_session={c}"})
    assert status == 413, data[:300]
    assert "no-store" in headers.get("Cache-Control", "")


def test_oversized_chunked_post_is_413(apache):
    a = apache()
    status, _, data = raw_post(a, "/icsoe/ingresar", b"curp=" + b"B" * 9000, chunked=True)
    assert status == 413, data[:300]


def test_body_at_the_limit_is_read(apache):
    """8 KiB is accepted by the body reader: the answer is about the form
    (no CSRF token: 403), not its size."""
    a = apache()
    body = b"curp=" + b"C" * (8192 - 5)
    assert len(body) == 8192
    status, _, _ = raw_post(a, "/icsoe/ingresar", body)
    assert status == 403


def test_cross_site_post_is_refused(apache):
    a = apache()
    status, _, _ = raw_post(a, "/icsoe/ingresar", b"curp=X",
                            headers={"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    status, _, _ = raw_post(a, "/icsoe/ingresar", b"curp=X",
                            headers={"Origin": "http://evil.example"})
    assert status == 403
    a.wait_log("event=csrf-origin")


def test_origin_null_needs_same_origin_fetch_metadata(apache):
    """Under our Referrer-Policy no-referrer, Chromium sends "Origin: null"
    for a same-origin form.  It passes the origin check only with
    Sec-Fetch-Site: same-origin (then the CSRF token decides); alone it is
    refused."""
    a = apache()
    status, _, _ = raw_post(a, "/icsoe/ingresar", b"curp=X",
                            headers={"Origin": "null"})
    assert status == 403
    a.wait_log("detail=origin-null")
    status, _, _ = raw_post(a, "/icsoe/ingresar", b"curp=X&csrf=forged",
                            headers={"Origin": "null",
                                     "Sec-Fetch-Site": "same-origin"})
    assert status == 403
    a.wait_log("event=csrf-failed")
    assert a.error_log().count("detail=origin-null") == 1


# ---- session cookies ----

def test_valid_session_passes(apache):
    a = protected_apache(apache)
    r = get(a, "/app/", cookie_for(a), BROWSER)
    assert r.status_code == 200 and "protegido" in r.text
    # the access log names the capturist (r->user)
    util.wait_until(lambda: f" {CURP} " in a.access_log(), 5, "access log line")


def test_no_cookie_browser_303_other_clients_401(apache):
    a = protected_apache(apache)
    assert_no_session(a, None)
    r = get(a, "/app/?x=1&y=2", headers=BROWSER)
    assert r.headers["Location"] == "/icsoe/ingresar?r=%2fapp%2f%3fx%3d1%26y%3d2"
    for h in ({**BROWSER, "X-Requested-With": "XMLHttpRequest"},
              {**BROWSER, "Sec-Fetch-Mode": "cors"},
              {"Accept": "*/*"}, {}):
        r = get(a, "/app/", headers=h)
        assert r.status_code == 401, h


def flip(s, i):
    c = s[i]
    return s[:i] + ("A" if c != "A" else "B") + s[i + 1:]


def test_tampered_truncated_and_garbage_cookies_are_no_session(apache):
    a = protected_apache(apache)
    good = cookie_for(a)
    bad = [
        flip(good, len(good) // 2),          # ciphertext
        flip(good, len(good) - 3),           # tag
        flip(good, 2),                       # version / key id
        good[:-1], good[:40], good[:1], "",  # truncated
        good + "A",                          # extra byte
        "!!!notbase64!!!", "A" * 2000,       # garbage, oversized
        good[:10] + "+" + good[11:],         # wrong alphabet (standard base64)
    ]
    for c in bad:
        assert_no_session(a, c)
    assert_no_crash(a)


def test_wrong_key_cookie_is_no_session(apache, tmp_path):
    a = protected_apache(apache)
    other = ha.write_key_file(str(tmp_path / "other.key"))
    assert_no_session(a, ha.seal([other], "127.0.0.1", curp=CURP, name="X"))


@pytest.mark.parametrize("times", [
    {"issued": "now-4000", "last_seen": "now-10", "validated": "now-10"},  # max age
    {"issued": "now-700", "last_seen": "now-700", "validated": "now"},     # idle
    {"issued": "now+3600", "last_seen": "now+3600", "validated": "now"},   # future
])
def test_expired_cookie_is_no_session(apache, times):
    a = protected_apache(apache)
    assert_no_session(a, cookie_for(a, **times))


def test_pre_login_session_is_not_a_login(apache):
    a = protected_apache(apache)
    r = get(a, "/icsoe/ingresar", headers=BROWSER)
    pre = r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert_no_session(a, pre)


def test_cookie_from_another_vhost_is_refused(apache):
    a = protected_apache(apache, conf_snippet=PROTECTED + """
<VirtualHost 127.0.0.1:@PORT@>
    ServerName uno.test
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT@>
    ServerName dos.test
</VirtualHost>
""")
    c = ha.seal(a.key_files, "uno.test", curp=CURP, name="X")
    r = get(a, "/app/", c, {**BROWSER, "Host": "uno.test"})
    assert r.status_code == 200
    r = get(a, "/app/", c, {**BROWSER, "Host": "dos.test"})
    assert r.status_code == 303 and r.headers["Location"].startswith("/icsoe/ingresar")
    r = get(a, "/app/", c, {**API, "Host": "dos.test"})
    assert r.status_code == 401


def set_cookie_value(r):
    sc = r.headers.get("Set-Cookie", "")
    assert sc.startswith("icsoe_session="), sc
    return sc.split(";")[0].split("=", 1)[1]


def test_idle_refresh_reissues_and_key_rotation(apache, tmp_path):
    a = protected_apache(apache)
    old_key = a.key_files[0]
    old_cookie = cookie_for(a, last_seen="now-120")
    # a recent cookie is not re-issued on every response
    r = get(a, "/app/", cookie_for(a), BROWSER)
    assert r.status_code == 200 and "Set-Cookie" not in r.headers

    new_key = ha.write_key_file(str(tmp_path / "new.key"))
    a.set_key_files([new_key, old_key])
    a.graceful()
    # the old key still opens; the idle refresh re-seals with the new key
    r = get(a, "/app/", old_cookie, BROWSER)
    assert r.status_code == 200, r.text
    fresh = set_cookie_value(r)
    assert ha.open_cookie([new_key], "127.0.0.1", fresh)["curp"] == CURP
    assert ha.open_cookie([old_key], "127.0.0.1", fresh) is None
    opened = ha.open_cookie([new_key], "127.0.0.1", fresh)
    assert int(opened["last_seen"]) > int(ha.open_cookie([old_key], "127.0.0.1",
                                                          old_cookie)["last_seen"])
    # with the old key removed, old cookies stop working
    a.set_key_files([new_key])
    a.graceful()
    assert_no_session(a, old_cookie)
    assert get(a, "/app/", fresh, BROWSER).status_code == 200
    assert_no_crash(a)


def test_two_cookies_with_our_name_the_valid_one_wins(apache):
    a = protected_apache(apache)
    good = cookie_for(a)
    r = requests.get(a.url("/app/"), headers={
        **BROWSER, "Cookie": f"icsoe_session=garbage; other=1; icsoe_session={good}"},
        allow_redirects=False, timeout=10)
    assert r.status_code == 200
