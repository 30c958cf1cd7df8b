"""The pages never take a password over plain HTTP (issue 12, item 3).

With ICSOECookieSecure On a page reached over plain HTTP (a port-80 vhost
that includes the pages by mistake, or a server-wide <Location>) must not
show the login form nor read a POST: GET/HEAD are sent to https, anything
else gets a Spanish 403 and its body is never used.  A site whose TLS ends
at a proxy declares "ServerName https://..." and is served normally."""
import requests

from harness.apache import BROWSER

CURP = "GOPJ800101HDFMRN09"
PASSWORD = "una contraseña que no debe viajar"

# Two name-based vhosts on the one plain-HTTP port of the harness, each with
# the pages snippet included the way the docs say (inside the vhost), and
# the harness's own server-level pages left out.
VHOSTS = """
<VirtualHost 127.0.0.1:@PORT@>
    ServerName plano.test
    ICSOECookieSecure On
    Include @SRC@/conf/apache2/icsoe-pages.conf
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT@>
    ServerName https://proxy.test
    ICSOECookieSecure On
    Include @SRC@/conf/apache2/icsoe-pages.conf
</VirtualHost>
"""


def https_apache(apache):
    from harness import util
    return apache(conf_snippet=VHOSTS.replace("@SRC@", util.src(".")), pages=False)


def get(a, host, path, **kw):
    return requests.get(a.url(path), headers={**BROWSER, "Host": host},
                        allow_redirects=False, timeout=10, **kw)


def test_login_page_over_plain_http_redirects_to_https(apache):
    a = https_apache(apache)
    r = get(a, "plano.test", "/icsoe/ingresar?r=%2Finformativa%2F")
    assert r.status_code == 301
    assert r.headers["Location"] == "https://plano.test/icsoe/ingresar?r=%2Finformativa%2F"
    assert "Set-Cookie" not in r.headers
    assert "Contraseña" not in r.text


def test_every_page_over_plain_http_is_sent_to_https(apache):
    a = https_apache(apache)
    for path in ("/icsoe/activar?t=abc", "/icsoe/recuperar", "/icsoe/inicio",
                 "/icsoe/contratista", "/icsoe/salir", "/icsoe/icsoe.css"):
        r = get(a, "plano.test", path)
        assert r.status_code == 301, path
        assert r.headers["Location"] == "https://plano.test" + path


def test_password_post_over_plain_http_is_refused_unread(apache):
    a = https_apache(apache)
    r = requests.post(a.url("/icsoe/ingresar"),
                      data={"curp": CURP, "password": PASSWORD, "csrf": "x"},
                      headers={**BROWSER, "Host": "plano.test"},
                      allow_redirects=False, timeout=10)
    # not a 307/308: the browser must not send the password a second time
    assert r.status_code == 403
    assert "conexión segura (HTTPS)" in r.text
    assert "Set-Cookie" not in r.headers
    assert r.headers["Cache-Control"] == "no-store"
    with open(a.errlog_path) as f:
        log = f.read()
    assert "ICSOE1201" in log and PASSWORD not in log
    with open(a.accesslog_path) as f:
        assert PASSWORD not in f.read()


def test_activation_post_over_plain_http_is_refused(apache):
    a = https_apache(apache)
    r = requests.post(a.url("/icsoe/activar"),
                      data={"t": "x" * 43, "password": PASSWORD, "confirm": PASSWORD},
                      headers={**BROWSER, "Host": "plano.test"},
                      allow_redirects=False, timeout=10)
    assert r.status_code == 403


def test_tls_terminated_at_a_proxy_is_served_when_servername_says_https(apache):
    a = https_apache(apache)
    r = get(a, "proxy.test", "/icsoe/ingresar")
    assert r.status_code == 200
    assert "Ingresar" in r.text
    assert r.headers["Set-Cookie"].startswith("__Host-icsoe_session=")


def test_cookie_secure_off_keeps_plain_http_demos_working(apache):
    a = apache()  # the harness: server-level pages, ICSOECookieSecure Off
    r = requests.get(a.url("/icsoe/ingresar"), headers=BROWSER,
                     allow_redirects=False, timeout=10)
    assert r.status_code == 200 and "Ingresar" in r.text
