"""The contractor's page (icsoe-capturists, issue 14) in a real apache2 with
mod_ssl, a test CA whose certificates mimic SAT's e.firma subject layout
(harness/satpki.py), a real slapd and a real SMTP sink; the browser is
python3-requests presenting a TLS client certificate.

Vhosts: "require" asks for a certificate at the handshake (as a site with
the SAT CAs would), "lenient" uses SSLVerifyClient optional_no_ca so an
unverified certificate reaches the module, which must refuse it itself."""
import os
import re
import ssl
import subprocess
import time
import urllib.parse

import pytest
import requests

from harness import satpki, util
from harness.apache import curp as make_curp, rfc as make_rfc
from test_mod_pages import assert_security_headers, check_html, local

PAGE = "/icsoe/capturistas"
RFC_A = make_rfc("EDE010101AA")          # Empresa Demo (FIEL holder)
RFC_B = make_rfc("OTR020202BB")          # another contractor
RFC_UNKNOWN = make_rfc("NOR030303CC")
RFC_REP = make_rfc("HEGT761003AB")       # legal representative (a person)
CURP_REP = make_curp("HEGT761003MDFRNN0")
CURP_1 = make_curp("GOPJ800101HDFMRN0")
CURP_2 = make_curp("LOMA850505MJCPRR0")
CURP_3 = make_curp("RARA900909HOCMMM0")
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html):
    m = _CSRF.search(html)
    assert m, html[:2000]
    return m.group(1)




class Env:
    pass


@pytest.fixture
def cenv(tmp_path, slapd, smtp, icsoe_conf, apache):
    e = Env()
    e.slapd, e.smtp, e.conf = slapd, smtp, icsoe_conf
    pki = tmp_path / "pki"
    e.ca = satpki.CA(pki)
    e.other_ca = satpki.CA(tmp_path / "pki-other", cn="AC ajena")
    e.ca.server("server")
    e.port_req, e.port_len = util.free_port(), util.free_port()
    snippet = "\n".join([
        "SSLSessionCache none",
        satpki.contractor_vhost(e.port_req, pki, e.ca.crt),
        satpki.contractor_vhost(e.port_len, pki, e.ca.crt, verify="optional_no_ca"),
    ])
    e.apache = apache(icsoe_conf_path=icsoe_conf.path, revalidate=0,
                      modules=("socache_shmcb", "ssl"), conf_snippet=snippet)
    add_contractor(slapd, RFC_A, "EMPRESA DEMO SA DE CV")
    add_contractor(slapd, RFC_B, "OTRA EMPRESA SA DE CV")
    e.fiel = e.ca.fiel("fiel", "EMPRESA DEMO SA DE CV", RFC_A, RFC_REP, CURP_REP)
    e.fiel_b = e.ca.fiel("fiel-b", "OTRA EMPRESA SA DE CV", RFC_B, RFC_REP, CURP_REP)
    return e


def add_contractor(slapd, rfc, name):
    slapd.add(slapd.contractor_dn(rfc), {"objectClass": ["icsoeContractor"],
                                         "icsoeRFC": rfc, "o": name})


def add_capturist(slapd, curp, name, contractors, status="active", registered_by=None,
                  email=None):
    attrs = {"objectClass": ["inetOrgPerson", "icsoeCapturist"], "uid": curp,
             "cn": name, "sn": name.split()[-1],
             "mail": email or f"{curp.lower()}@example.test",
             "icsoeStatus": status, "icsoeEpoch": "0",
             "icsoeContractorRFC": list(contractors)}
    if registered_by:
        attrs["icsoeRegisteredBy"] = registered_by
    slapd.add(slapd.capturist_dn(curp), attrs)


def entry(e, curp):
    return e.slapd.get(e.slapd.capturist_dn(curp))


class Browser:
    """One cookie jar, one client certificate (or none), no redirects.
    trust_env off: REQUESTS_CA_BUNDLE would replace our test CA."""

    def __init__(self, e, ident=None, port=None):
        self.e, self.port = e, port or e.port_req
        self.s = requests.Session()
        self.s.trust_env = False
        self.cert = ident.pair if ident is not None else None

    def url(self, path):
        return f"https://127.0.0.1:{self.port}{path}"

    def _check(self, r):
        if r.headers.get("Content-Type", "").startswith("text/html"):
            check_html(r.text)
        return r

    def get(self, path=PAGE, **kw):
        return self._check(self.s.get(self.url(path), cert=self.cert, verify=self.e.ca.crt,
                                      allow_redirects=False, timeout=20, **kw))

    def post(self, data, path=PAGE, **kw):
        return self._check(self.s.post(self.url(path), data=data, cert=self.cert,
                                       verify=self.e.ca.crt, allow_redirects=False,
                                       timeout=20, **kw))

    def action(self, **fields):
        r = self.get()
        assert r.status_code == 200, r.text[:1000]
        return self.post({"csrf": csrf_of(r.text), **fields})


def audit_lines(e, event):
    return [l for l in e.apache.error_log().splitlines() if f"event={event}" in l]


def new_capturist(**kw):
    data = {"accion": "agregar", "curp": CURP_1, "nombre": "Juana", "primer_apellido":
            "Pérez", "segundo_apellido": "López", "correo": "juana@example.test"}
    data.update(kw)
    return data


# ---------------------------------------------------------------- sign-in

def test_fiel_signs_in_and_sees_only_its_own_capturists(cenv):
    add_capturist(cenv.slapd, CURP_1, "Uno De A", [RFC_A], registered_by=RFC_A)
    add_capturist(cenv.slapd, CURP_2, "Dos De B", [RFC_B], registered_by=RFC_B)
    add_capturist(cenv.slapd, CURP_3, "Tres Compartido", [RFC_A, RFC_B],
                  registered_by=RFC_B, email="tres@example.test")
    r = Browser(cenv, cenv.fiel).get()
    assert r.status_code == 200, r.text
    assert_security_headers(r)
    assert "EMPRESA DEMO SA DE CV" in r.text and RFC_A in r.text
    assert CURP_1 in r.text and "Uno De A" in r.text
    assert CURP_3 in r.text
    # another contractor's capturist: absent; a shared one registered by
    # the other contractor: CURP and status only
    assert CURP_2 not in r.text and "Dos De B" not in r.text
    assert "Tres Compartido" not in r.text and "tres@example.test" not in r.text
    assert "Reservado" in r.text
    # the other contractor sees its own
    rb = Browser(cenv, cenv.fiel_b).get()
    assert CURP_2 in rb.text and "Tres Compartido" in rb.text and "Uno De A" not in rb.text


def test_search_and_status_labels(cenv):
    add_capturist(cenv.slapd, CURP_1, "Uno Activo", [RFC_A], registered_by=RFC_A)
    add_capturist(cenv.slapd, CURP_2, "Dos Bloqueado", [RFC_A], status="locked",
                  registered_by=RFC_A)
    add_capturist(cenv.slapd, CURP_3, "Tres Pendiente", [RFC_A], status="pending",
                  registered_by=RFC_A)
    b = Browser(cenv, cenv.fiel)
    r = b.get()
    assert "activo" in r.text and "bloqueado" in r.text and "liga vencida" in r.text
    r = b.get(PAGE + "?q=bloq")
    assert CURP_2 in r.text and CURP_1 not in r.text and CURP_3 not in r.text
    r = b.get(PAGE + "?q=" + CURP_3[:8].lower())
    assert CURP_3 in r.text and CURP_1 not in r.text


@pytest.mark.parametrize("kind", ["csd", "unknown", "bad-rfc"])
def test_refused_certificates_get_a_spanish_page_and_an_audit_line(cenv, kind):
    if kind == "csd":
        ident = cenv.ca.csd("csd", "EMPRESA DEMO SA DE CV", RFC_A, RFC_REP, CURP_REP)
        words, reason = "sello digital", "reason=csd"
    elif kind == "unknown":
        ident = cenv.ca.fiel("unk", "NADIE SA DE CV", RFC_UNKNOWN)
        words, reason = "no corresponde a un contratista registrado", \
            "reason=unknown-contractor"
    else:
        from cryptography import x509
        from cryptography.x509.oid import NameOID
        ident = cenv.ca.issue("bad", x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, "MAL SA"),
            x509.NameAttribute(satpki.UID, "NOTANRFC")]))
        words, reason = "RFC del certificado no es válido", "reason=bad-rfc"
    r = Browser(cenv, ident).get()
    assert r.status_code == 403, r.text
    assert_security_headers(r)
    assert words in r.text
    lines = audit_lines(cenv, "contractor-refused")
    assert lines and reason in lines[-1], lines
    assert f"serial={ident.serial}" in lines[-1]
    if kind != "bad-rfc":
        assert f"rfc={RFC_A if kind == 'csd' else RFC_UNKNOWN}" in lines[-1]


def test_removed_contractor_is_refused(cenv):
    b = Browser(cenv, cenv.fiel)
    assert b.get().status_code == 200
    cenv.slapd.delete(cenv.slapd.contractor_dn(RFC_A))
    r = b.get()
    assert r.status_code == 403
    assert "Contratista no registrado" in r.text


@pytest.mark.parametrize("kind", ["expired", "not-yet-valid", "wrong-ca", "none"])
def test_mod_ssl_refuses_at_the_handshake(cenv, kind):
    """With SSLVerifyClient require these never reach the module: mod_ssl
    ends the handshake (its job, with SSLCARevocationFile/SSLOCSPEnable)."""
    if kind == "expired":
        ident = cenv.ca.fiel("old", "EMPRESA DEMO SA DE CV", RFC_A,
                             not_before=satpki.NOW - 400 * satpki.DAY,
                             not_after=satpki.NOW - satpki.DAY)
    elif kind == "not-yet-valid":
        ident = cenv.ca.fiel("new", "EMPRESA DEMO SA DE CV", RFC_A,
                             not_before=satpki.NOW + 2 * satpki.DAY)
    elif kind == "wrong-ca":
        ident = cenv.other_ca.fiel("alien", "EMPRESA DEMO SA DE CV", RFC_A)
    else:
        ident = None
    with pytest.raises(requests.exceptions.SSLError):
        Browser(cenv, ident).get()
    assert not audit_lines(cenv, "capturist-added")


def test_unverified_certificate_reaching_the_module_is_refused(cenv):
    """optional_no_ca lets a certificate of an unknown CA through the
    handshake (SSL_CLIENT_VERIFY=GENEROUS): the module refuses it, and a
    forged identity header changes nothing."""
    alien = cenv.other_ca.fiel("alien", "EMPRESA DEMO SA DE CV", RFC_A)
    b = Browser(cenv, alien, port=cenv.port_len)
    r = b.get(headers={"SSL-Client-Cert": open(cenv.fiel.crt).read().replace("\n", " "),
                       "X-ICSOE-RFC": RFC_A, "SSL_CLIENT_VERIFY": "SUCCESS"})
    assert r.status_code == 403
    assert "Se requiere tu e.firma" in r.text
    assert "reason=unverified" in audit_lines(cenv, "contractor-refused")[-1]
    # no certificate at all on that vhost: the same refusal
    r = Browser(cenv, None, port=cenv.port_len).get()
    assert r.status_code == 403 and "Se requiere tu e.firma" in r.text
    # the genuine FIEL on the same vhost works
    assert Browser(cenv, cenv.fiel, port=cenv.port_len).get().status_code == 200


# ---------------------------------------------------------------- actions

def test_add_new_capturist_mails_activation_link(cenv):
    b = Browser(cenv, cenv.fiel)
    r = b.action(**new_capturist(curp=CURP_1.lower()))
    assert r.status_code == 200, r.text
    assert f"Se registró al capturista {CURP_1}" in r.text
    ent = entry(cenv, CURP_1)
    assert ent["icsoeStatus"] == ["pending"]
    assert ent["icsoeContractorRFC"] == [RFC_A]
    assert ent["icsoeRegisteredBy"] == [RFC_A]
    assert ent["cn"] == ["Juana Pérez López"] and ent["mail"] == ["juana@example.test"]
    msgs = cenv.smtp.wait_for(1)
    link = cenv.smtp.links(msgs[0])[0]
    # the list shows it as pending, with today's date
    assert "pendiente de activar" in r.text and "Juana Pérez López" in r.text
    # the link opens the existing activation page
    a = requests.get(cenv.apache.url(local(link)), timeout=20)
    assert a.status_code == 200 and "Contraseña nueva" in a.text
    line = audit_lines(cenv, "capturist-added")[-1]
    assert f"curp={CURP_1}" in line and f"rfc={RFC_A}" in line
    assert f"serial={cenv.fiel.serial}" in line and "mail=sent" in line


@pytest.mark.parametrize("field,value,words", [
    ("curp", CURP_1 + "X", "18 caracteres"),
    ("curp", CURP_1[:-1] + ("0" if CURP_1[-1] != "0" else "1"), "CURP"),
    ("nombre", "", "nombre"),
    ("primer_apellido", "", "primer apellido"),
    ("correo", "no-es-correo", "correo electrónico no es válido"),
    ("nombre", "Ana\x01", "nombre"),
])
def test_bad_add_input_is_explained_and_writes_nothing(cenv, field, value, words):
    b = Browser(cenv, cenv.fiel)
    r = b.action(**new_capturist(**{field: value}))
    assert r.status_code == 200
    alert = r.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert words.lower() in alert.lower(), alert
    assert not cenv.slapd.search(f"(uid={CURP_1})")
    cenv.smtp.assert_quiet()


def test_existing_curp_is_linked_without_revealing_its_data(cenv):
    add_capturist(cenv.slapd, CURP_1, "Nombre Secreto", [RFC_B], registered_by=RFC_B,
                  email="secreto@example.test")
    b = Browser(cenv, cenv.fiel)
    r = b.action(**new_capturist(nombre="Otro", correo="otro@example.test"))
    assert r.status_code == 200
    assert "se vinculó como tu capturista" in r.text
    assert "Nombre Secreto" not in r.text and "secreto@example.test" not in r.text
    ent = entry(cenv, CURP_1)
    assert sorted(ent["icsoeContractorRFC"]) == sorted([RFC_A, RFC_B])
    assert ent["cn"] == ["Nombre Secreto"] and ent["mail"] == ["secreto@example.test"]
    msg = cenv.smtp.wait_for(1)[0]
    assert msg["To"].endswith("<secreto@example.test>") or "secreto@example.test" in msg["To"]
    assert "EMPRESA DEMO SA DE CV" in cenv.smtp.text(msg)
    # adding it again: nothing new, no mail
    cenv.smtp.clear()
    r = b.action(**new_capturist())
    assert "ya es uno de tus capturistas" in r.text
    cenv.smtp.assert_quiet()


def test_resend_kills_the_old_link(cenv):
    b = Browser(cenv, cenv.fiel)
    b.action(**new_capturist())
    old = cenv.smtp.links(cenv.smtp.wait_for(1)[0])[0]
    r = b.action(accion="reenviar", curp=CURP_1)
    assert "Se envió una nueva liga" in r.text
    new = cenv.smtp.links(cenv.smtp.wait_for(2)[1])[0]
    assert new != old
    assert "Contraseña nueva" not in requests.get(cenv.apache.url(local(old)), timeout=20).text
    assert "Contraseña nueva" in requests.get(cenv.apache.url(local(new)), timeout=20).text
    # an active capturist gets no link
    add_capturist(cenv.slapd, CURP_2, "Ya Activo", [RFC_A], registered_by=RFC_A)
    r = b.action(accion="reenviar", curp=CURP_2)
    assert "Solo se puede reenviar la liga" in r.text


def test_unlink_only_from_this_contractor(cenv):
    add_capturist(cenv.slapd, CURP_1, "Compartido", [RFC_A, RFC_B], registered_by=RFC_A)
    b = Browser(cenv, cenv.fiel)
    r = b.action(accion="baja", curp=CURP_1)
    assert "Se dio de baja" in r.text
    assert entry(cenv, CURP_1)["icsoeContractorRFC"] == [RFC_B]
    assert CURP_1 not in r.text.split("<tbody>")[1]
    assert "capturist-unlinked" in audit_lines(cenv, "capturist-unlinked")[-1]


@pytest.mark.parametrize("accion", ["baja", "reenviar"])
def test_another_contractors_capturist_cannot_be_touched(cenv, accion):
    add_capturist(cenv.slapd, CURP_2, "De B", [RFC_B], status="pending", registered_by=RFC_B)
    b = Browser(cenv, cenv.fiel)
    r = b.action(accion=accion, curp=CURP_2)
    assert r.status_code == 403
    assert entry(cenv, CURP_2)["icsoeContractorRFC"] == [RFC_B]
    assert "icsoeTokenHash" not in entry(cenv, CURP_2)
    cenv.smtp.assert_quiet()
    assert f"curp={CURP_2}" in audit_lines(cenv, "capturist-forged")[-1]


def test_csrf_is_required(cenv):
    b = Browser(cenv, cenv.fiel)
    b.get()
    for data in (new_capturist(), {**new_capturist(), "csrf": "A" * 43}):
        r = b.post(data)
        assert r.status_code == 403
    # a token from another browser (cookie) does not work either
    other = Browser(cenv, cenv.fiel)
    token = csrf_of(other.get().text)
    assert b.post({**new_capturist(), "csrf": token}).status_code == 403
    # nor a cross-site post carrying the right token
    good = csrf_of(b.get().text)
    r = b.post({**new_capturist(), "csrf": good},
               headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    assert not cenv.slapd.search(f"(uid={CURP_1})")
    # and the genuine form works
    assert b.post({**new_capturist(), "csrf": good}).status_code == 200
    assert entry(cenv, CURP_1)


# ---------------------------------------------------------------- Carga masiva

CURP_4 = make_curp("PEMA700707MDFXXX0")
CURP_5 = make_curp("SOLA660606HDFXXX0")


def upload(b, data, name="capturistas.csv"):
    token = csrf_of(b.get().text)
    return b.post({"csrf": token, "accion": "carga"},
                  files={"archivo": (name, data, "text/csv")})


def report_rows(html):
    assert "Resultado por línea" in html, html[html.find("<main"):][:3000]
    body = html.split("Resultado por línea", 1)[1].split("</tbody>", 1)[0]
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in body.split("<tr>")[1:]]
    return [row for row in rows if row]


def test_bulk_utf8_with_a_bad_line_and_another_rfc(cenv):
    csv = ("curp,nombre,correo,rfc\n"
           f"{CURP_1},Uno Bulk,uno@example.test,{RFC_A}\n"
           f"{CURP_2[:-1]}X,Dos Mala,dos@example.test,{RFC_A}\n"
           f"{CURP_3},Tres Bulk,tres@example.test,{RFC_B}\n"
           f"{CURP_4},Cuatro Bulk,cuatro@example.test,{RFC_A}\n"
           "\n"
           f"{CURP_5},\"Cinco, Bulk\",cinco@example.test,{RFC_A}\n")
    b = Browser(cenv, cenv.fiel)
    r = upload(b, csv.encode())
    assert r.status_code == 200, r.text
    rows = report_rows(r.text)
    assert [row[0] for row in rows] == ["2", "3", "4", "5", "7"]
    assert [row[2] for row in rows] == ["Procesado", "Rechazado", "Rechazado",
                                        "Procesado", "Procesado"]
    assert "RFC no es el de tu e.firma" in rows[2][3]
    for curp in (CURP_1, CURP_4, CURP_5):
        ent = entry(cenv, curp)
        assert ent["icsoeContractorRFC"] == [RFC_A] and ent["icsoeStatus"] == ["pending"]
    assert entry(cenv, CURP_5)["cn"] == ["Cinco, Bulk"]
    # the bad lines wrote nothing
    assert not cenv.slapd.search(f"(uid={CURP_3})")
    assert not cenv.slapd.search(f"(uid={CURP_2[:-1]}X)")
    assert len(cenv.smtp.wait_for(3)) == 3
    time.sleep(0.5)
    assert cenv.smtp.count() == 3
    line = audit_lines(cenv, "capturists-bulk")[-1]
    assert "added=3" in line and "refused=2" in line and f"rfc={RFC_A}" in line
    # the same file again: nothing new, no mail
    cenv.smtp.clear()
    r = upload(b, csv.encode())
    assert [row[3] for row in report_rows(r.text)][0] == "Ya era tu capturista: sin cambios."
    cenv.smtp.assert_quiet()


def test_bulk_windows_1252_with_semicolons_links_existing(cenv):
    add_capturist(cenv.slapd, CURP_2, "Persona De B", [RFC_B], registered_by=RFC_B,
                  email="b@example.test")
    csv = ("CURP;Nombre;Correo;RFC\r\n"
           f"{CURP_1};José Peña Núñez;pena@example.test;{RFC_A}\r\n"
           f"{CURP_2};Otro Nombre;otro@example.test;{RFC_A}\r\n").encode("cp1252")
    r = upload(Browser(cenv, cenv.fiel), csv)
    assert r.status_code == 200, r.text
    rows = report_rows(r.text)
    assert rows[0][2] == "Procesado" and "liga" in rows[0][3]
    assert "se vinculó" in rows[1][3]
    assert entry(cenv, CURP_1)["cn"] == ["José Peña Núñez"]
    ent = entry(cenv, CURP_2)
    assert ent["cn"] == ["Persona De B"] and sorted(ent["icsoeContractorRFC"]) == \
        sorted([RFC_A, RFC_B])
    assert "Persona De B" not in r.text and "b@example.test" not in r.text


@pytest.mark.parametrize("kind", ["too-many-rows", "no-header", "not-text"])
def test_bulk_file_refused_as_a_whole_writes_nothing(cenv, kind):
    if kind == "too-many-rows":
        data = ("curp,nombre,correo,rfc\n" +
                f"{CURP_1},Uno,uno@example.test,{RFC_A}\n" +
                "x,y,z,w\n" * 3000).encode()
        words = "más de 3000 filas"
    elif kind == "no-header":
        data = f"{CURP_1},Uno,uno@example.test,{RFC_A}\n".encode()
        words = "encabezado"
    else:
        data = b"curp,nombre,correo,rfc\n\x81\x8d\x8f\n"
        words = "no es texto"
    r = upload(Browser(cenv, cenv.fiel), data)
    assert r.status_code == 200
    assert words in r.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert not cenv.slapd.search(f"(uid={CURP_1})")
    cenv.smtp.assert_quiet()


def test_bulk_needs_csrf_and_the_file_field(cenv):
    b = Browser(cenv, cenv.fiel)
    b.get()
    csv = f"curp,nombre,correo,rfc\n{CURP_1},Uno,uno@example.test,{RFC_A}\n".encode()
    r = b.post({"accion": "carga"}, files={"archivo": ("c.csv", csv, "text/csv")})
    assert r.status_code == 403
    token = csrf_of(b.get().text)
    r = b.post({"csrf": token, "archivo": "not a file"},
               files={"otro": ("c.csv", csv, "text/csv")})
    assert r.status_code == 400
    assert not cenv.slapd.search(f"(uid={CURP_1})")


def test_icsoectl_import_reads_the_same_excel_files(cenv, tmp_path):
    """icsoectl capturist import shares lib/import.c: Windows-1252 and ';'."""
    p = tmp_path / "excel.csv"
    p.write_bytes(("curp;nombre;correo;rfc\r\n"
                   f"{CURP_1};Ana Peña;ana@example.test;{RFC_A}\r\n").encode("cp1252"))
    r = subprocess.run([util.built("tools/icsoectl"), "-c", cenv.conf.path, "capturist",
                        "import", str(p), "--no-mail"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert entry(cenv, CURP_1)["cn"] == ["Ana Peña"]


# ---------------------------------------------------------------- remote-user

REMOTE_USER_VHOST = """
Listen 127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
    ServerName 127.0.0.1
    ICSOEContractorAuth remote-user
    <Location /icsoe/capturistas>
        AuthType Basic
        AuthName "SSO de contratistas"
        AuthBasicProvider file
        AuthUserFile {htpasswd}
        Require valid-user
        SetHandler icsoe-capturists
    </Location>
</VirtualHost>
"""


def test_remote_user_mode_maps_the_sites_own_login_to_an_rfc(tmp_path, slapd, smtp,
                                                              icsoe_conf, apache):
    """ICSOEContractorAuth remote-user: another module (here mod_auth_basic)
    authenticates, REMOTE_USER must be a registered contractor's RFC."""
    htpasswd = tmp_path / "htpasswd"
    for i, user in enumerate((RFC_A, "admin", RFC_UNKNOWN)):
        subprocess.run(["htpasswd", "-b" + ("c" if i == 0 else ""), str(htpasswd), user,
                        "secreto"], check=True, capture_output=True)
    os.chmod(htpasswd, 0o644)
    port = util.free_port()
    a = apache(icsoe_conf_path=icsoe_conf.path, modules=("auth_basic", "authn_file"),
               conf_snippet=REMOTE_USER_VHOST.format(port=port, htpasswd=htpasswd))
    add_contractor(slapd, RFC_A, "EMPRESA DEMO SA DE CV")
    url = f"http://127.0.0.1:{port}{PAGE}"
    s = requests.Session()
    r = s.get(url, auth=(RFC_A, "secreto"), timeout=20)
    assert r.status_code == 200 and "EMPRESA DEMO SA DE CV" in r.text
    r = s.post(url, auth=(RFC_A, "secreto"), timeout=20,
               data={"csrf": csrf_of(r.text), **new_capturist()})
    assert r.status_code == 200 and f"Se registró al capturista {CURP_1}" in r.text
    assert slapd.get(slapd.capturist_dn(CURP_1))["icsoeRegisteredBy"] == [RFC_A]
    line = [l for l in a.error_log().splitlines() if "event=capturist-added" in l][-1]
    assert f"rfc={RFC_A} serial=-" in line
    r = requests.get(url, auth=("admin", "secreto"), timeout=20)
    assert r.status_code == 403 and "RFC" in r.text
    r = requests.get(url, auth=(RFC_UNKNOWN, "secreto"), timeout=20)
    assert r.status_code == 403 and "Contratista no registrado" in r.text
    assert requests.get(url, timeout=20).status_code == 401
    # a client certificate header or variable means nothing in this mode either
    r = requests.get(url, headers={"X-ICSOE-RFC": RFC_A, "Remote-User": RFC_A}, timeout=20)
    assert r.status_code == 401


# ---------------------------------------------------------------- odds and ends

@pytest.mark.parametrize("line,words", [
    ("ICSOEContractorAuth header", "must be efirma or remote-user"),
    ("ICSOEBulkMaxRows 0", "between 1 and 100000"),
    ("ICSOEBulkMaxRows lots", "between 1 and 100000"),
])
def test_bad_directives_stop_apache_at_startup(tmp_path, line, words):
    from harness.apache import Apache
    a = Apache(tmp_path / "apache", conf_snippet=line)
    rc, out = a.check_config()
    assert rc != 0 and words in out, out


def test_list_is_paged_and_the_search_never_matches_hidden_names(cenv):
    curps = [make_curp(f"AAAA{y:02d}0101HDFRRN0") for y in range(50, 75)]
    for i, c in enumerate(curps):
        add_capturist(cenv.slapd, c, f"Persona {i:02d}", [RFC_A], registered_by=RFC_A)
    add_capturist(cenv.slapd, CURP_1, "Oculta Ajena", [RFC_A, RFC_B], registered_by=RFC_B)
    b = Browser(cenv, cenv.fiel)
    r = b.get()
    assert "Capturistas 1 a 20 de 26" in r.text and "Página 1 de 2" in r.text
    r = b.get(PAGE + "?p=2")
    assert "Capturistas 21 a 26 de 26" in r.text and curps[-1] in r.text
    assert curps[0] not in r.text
    # the other contractor's registration: found by CURP, never by its name
    assert CURP_1 in b.get(PAGE + "?q=" + CURP_1).text
    r = b.get(PAGE + "?q=Oculta")
    assert CURP_1 not in r.text and "Ningún capturista coincide" in r.text


def row_of(html, curp):
    """The <tr> of one CURP in the list (not the messages above it)."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = [row for row in body.split("<tr>") if f"<td>{curp}</td>" in row]
    assert len(rows) == 1, body
    return rows[0]


def local_text(gentime, zone):
    """icsoeMailTime as the mails and the page write it in zone."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo
    t = datetime.strptime(gentime, "%Y%m%d%H%M%SZ").replace(tzinfo=timezone.utc)
    t = t.astimezone(ZoneInfo(zone))
    return t.strftime("%d/%m/%Y %H:%M ") + t.tzname()


def test_delivery_state_sent_in_the_configured_timezone(cenv):
    """Issue 17 on the contractor's page: the "Último correo" column says
    when the mail went, in icsoe.conf's timezone (a zone whose offset and
    abbreviation no default could produce by accident)."""
    cenv.conf.write(timezone="Asia/Kathmandu")
    cenv.apache.graceful()
    b = Browser(cenv, cenv.fiel)
    r = b.action(**new_capturist())
    cenv.smtp.wait_for(1)
    ent = entry(cenv, CURP_1)
    assert ent["icsoeMailState"] == ["sent"]
    when = local_text(ent["icsoeMailTime"][0], "Asia/Kathmandu")
    assert when.endswith(" +0545"), when
    assert '<th scope="col">Último correo</th>' in r.text
    assert f"<td>enviado el {when}</td>" in row_of(r.text, CURP_1)
    assert f"enviado el {when}" in row_of(b.get().text, CURP_1)


def test_smtp_down_the_account_exists_and_resend_works_later(cenv):
    cenv.conf.write(smtp_url="smtp://127.0.0.1:9")   # nothing listens there
    cenv.apache.graceful()
    b = Browser(cenv, cenv.fiel)
    r = b.action(**new_capturist())
    alert = r.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert "correo con la liga NO se envió" in alert and "Reenviar liga" in alert, alert
    assert "Recibirá" not in r.text
    assert entry(cenv, CURP_1)["icsoeStatus"] == ["pending"]
    assert entry(cenv, CURP_1)["icsoeMailState"] == ["unsent"]
    assert "mail=failed" in audit_lines(cenv, "capturist-added")[-1]
    row = row_of(r.text, CURP_1)
    assert "no enviado (" in row and "usa «Reenviar liga»" in row, row
    assert "enviado el" not in row
    # the relay's own answer is for the administrator, not for the page
    error = entry(cenv, CURP_1)["icsoeMailError"][0]
    assert error and error not in r.text
    # a resend while the relay is still down says so, and that the old link died
    r = b.action(accion="reenviar", curp=CURP_1)
    alert = r.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert f"La nueva liga para {CURP_1} NO se envió" in alert, alert
    assert "La liga anterior ya no funciona" in alert
    assert "Se envió una nueva liga" not in r.text
    assert "no enviado (" in row_of(r.text, CURP_1)
    cenv.conf.write(smtp_url=cenv.smtp.url)
    cenv.apache.graceful()
    r = b.action(accion="reenviar", curp=CURP_1)
    assert "Se envió una nueva liga" in r.text
    assert cenv.smtp.links(cenv.smtp.wait_for(1)[0])
    row = row_of(r.text, CURP_1)
    assert "enviado el " in row and "no enviado" not in row, row
    assert entry(cenv, CURP_1)["icsoeMailState"] == ["sent"]


def test_refused_address_is_told_apart_from_an_outage(cenv, tmp_path):
    """550 to RCPT: the page says the address was refused and must be
    corrected (a resend would fail the same way), not "try later"; the
    relay's own words stay out of the page."""
    from harness.smtp import SmtpSink
    refusing = SmtpSink(tmp_path / "refusing", refuse=True).start()
    try:
        cenv.conf.write(smtp_url=refusing.url)
        cenv.apache.graceful()
        r = Browser(cenv, cenv.fiel).action(**new_capturist())
    finally:
        refusing.stop()
    alert = r.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert "NO se envió" in alert and "rechazó la dirección juana@example.test" in alert
    assert "Reenviar liga" not in alert, alert
    assert entry(cenv, CURP_1)["icsoeMailState"] == ["refused"]
    row = row_of(r.text, CURP_1)
    assert "rechazado (" in row and "hay que corregir el correo" in row, row
    assert "550" not in r.text and "no such user" not in r.text


def test_bulk_with_smtp_down_says_the_links_were_not_sent(cenv):
    cenv.conf.write(smtp_url="smtp://127.0.0.1:9")   # nothing listens there
    cenv.apache.graceful()
    csv = f"curp,nombre,correo,rfc\n{CURP_1},Uno Bulk,uno@example.test,{RFC_A}\n"
    r = upload(Browser(cenv, cenv.fiel), csv.encode())
    rows = report_rows(r.text)
    assert rows[0][2] == "Procesado" and "la liga NO se envió" in rows[0][3], rows
    assert "no enviado (" in row_of(r.text, CURP_1)


def test_delivery_of_a_linked_only_capturist_stays_hidden(cenv):
    """A contractor that only linked a CURP learns nothing of that person's
    mail (a refused address, when it was tried); the one that registered it
    sees the state but never the relay's raw answer."""
    add_capturist(cenv.slapd, CURP_1, "Persona De B", [RFC_B], status="pending",
                  registered_by=RFC_B, email="malo@example.test")
    relay_answer = "550 5.1.1 <malo@example.test>: Recipient address rejected"
    cenv.slapd.modify(cenv.slapd.capturist_dn(CURP_1), {
        "icsoeMailState": "refused", "icsoeMailTime": "20261125183000Z",
        "icsoeMailKind": "activation", "icsoeMailError": relay_answer})
    r = Browser(cenv, cenv.fiel).action(**new_capturist(correo="otro@example.test"))
    assert "se vinculó como tu capturista" in r.text
    row = row_of(r.text, CURP_1)
    assert row.count("Reservado") == 3, row     # name, email and the mail's state
    for secret in ("rechazado", "enviado", "12:30", "550", "malo@example.test",
                   "Recipient"):
        assert secret not in r.text, secret
    # the registering contractor: the state in its words, the time in the
    # configured zone (default America/Mexico_City), not the relay's text
    rb = Browser(cenv, cenv.fiel_b).get()
    row = row_of(rb.text, CURP_1)
    assert "<td>rechazado (25/11/2026 12:30 CST): hay que corregir el correo</td>" in row, row
    assert "550" not in rb.text and "Recipient" not in rb.text


def test_revoked_efirma_is_refused_by_mod_ssl_with_a_crl(tmp_path, slapd, smtp, icsoe_conf,
                                                        apache):
    """docs/contractor.md's SSLCARevocationFile set-up: a FIEL on the CRL
    never reaches the page, the other FIEL of the same CA does."""
    ca = satpki.CA(tmp_path / "pki")
    ca.server("server")
    good = ca.fiel("good", "EMPRESA DEMO SA DE CV", RFC_A, RFC_REP, CURP_REP)
    revoked = ca.fiel("revoked", "EMPRESA DEMO SA DE CV", RFC_A, RFC_REP, CURP_REP)
    crl = ca.crl("sat", revoked=[revoked])
    port = util.free_port()
    vhost = satpki.contractor_vhost(port, tmp_path / "pki", ca.crt)
    vhost = vhost.replace("    SSLVerifyDepth 2\n", "    SSLVerifyDepth 2\n"
                          f"    SSLCARevocationFile {crl}\n    SSLCARevocationCheck chain\n")
    assert "SSLCARevocationFile" in vhost
    apache(icsoe_conf_path=icsoe_conf.path, modules=("socache_shmcb", "ssl"),
           conf_snippet=f"SSLSessionCache none\n{vhost}")
    add_contractor(slapd, RFC_A, "EMPRESA DEMO SA DE CV")
    url = f"https://127.0.0.1:{port}{PAGE}"
    r = requests.get(url, cert=good.pair, verify=ca.crt, timeout=20)
    assert r.status_code == 200 and "EMPRESA DEMO SA DE CV" in r.text
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, cert=revoked.pair, verify=ca.crt, timeout=20)
