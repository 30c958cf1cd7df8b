"""The mailer against a real SMTP server (aiosmtpd): what arrives must parse
as valid MIME with the exact Spanish subject and the link, overrides must
take effect, and every failure (refused recipient, no server, a silent
server, header injection) must be a clear error with nothing delivered."""
import os
import socket
import subprocess
import time

import pytest

from harness import util
from harness.smtp import SmtpSink

FROM = "Buzón ICSOE <icsoe@imss.example.test>"
TO = "ana.lopez@example.test"
LINK = "https://icsoe.example.test/icsoe/activar?t=" + "A" * 20 + "_-" + "b" * 21
LOGIN = "https://icsoe.example.test/icsoe/ingresar"
CURP = "LOHA850101MDFPRN09"


def write_conf(tmp_path, smtp_url, name="icsoe.conf", **extra):
    keys = {
        # mail-only tests: the directory is never contacted
        "uri": "ldap://127.0.0.1:9",
        "base": "dc=icsoe,dc=test",
        "smtp_url": smtp_url,
        "smtp_timeout": "3",
        "mail_from": FROM,
        "activation_url": "https://icsoe.example.test/icsoe/activar",
        "login_url": LOGIN,
        "site_name": "ICSOE",
    }
    keys.update(extra)
    path = tmp_path / name
    path.write_text("".join(f"{k} {v}\n" for k, v in keys.items() if v is not None),
                    encoding="utf-8")
    return str(path)


def maildrv(conf, *args, timeout=60):
    argv = [util.built("tests/integration/maildrv"), "-c", conf, *args]
    started = time.monotonic()
    p = subprocess.run(argv, capture_output=True, timeout=timeout)
    elapsed = time.monotonic() - started
    out = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    out["rc"] = p.returncode
    out["elapsed"] = elapsed
    out["stderr"] = p.stderr.decode("utf-8", "replace")
    return out


def template_vars(**over):
    v = {"site_name": "ICSOE", "name": "Ana López", "curp": CURP, "link": LINK,
         "valid_until": "25/11/2026 18:30 UTC", "login_url": LOGIN}
    v.update(over)
    return [f"{k}={val}" for k, val in v.items()]


# ---------------------------------------------------------------- delivery

def test_activation_mail_is_valid_mime(tmp_path, smtp):
    conf = write_conf(tmp_path, smtp.url)
    r = maildrv(conf, "template", "activation", TO, "Ana López", *template_vars())
    assert r["status"] == "ok", r
    (msg,) = smtp.wait_for(1)

    assert msg["Subject"] == "Crea tu contraseña de ICSOE"
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["MIME-Version"] == "1.0"
    to = msg["To"].addresses
    assert len(to) == 1 and to[0].display_name == "Ana López" and to[0].addr_spec == TO
    frm = msg["From"].addresses[0]
    assert frm.display_name == "Buzón ICSOE"
    assert frm.addr_spec == "icsoe@imss.example.test"
    assert msg["Message-ID"].endswith("@imss.example.test>")
    assert msg["Date"].datetime.utcoffset().total_seconds() == 0
    assert abs(msg["Date"].datetime.timestamp() - time.time()) < 60
    # envelope as aiosmtpd saw it
    assert msg["X-MailFrom"] == "icsoe@imss.example.test"
    assert msg["X-RcptTo"] == TO
    assert not msg.defects

    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    for p in msg.iter_parts():
        assert p.get_content_charset() == "utf-8"
        assert p["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    text = SmtpSink.text(msg)
    html = SmtpSink.html(msg)
    assert SmtpSink.links(msg) == [LINK, ]
    assert "Hola, Ana López:" in text
    assert CURP in text and "25/11/2026 18:30 UTC" in text
    assert f'href="{LINK}"' in html
    assert "Ana López" in html


def test_every_builtin_template_has_its_subject(tmp_path, smtp):
    conf = write_conf(tmp_path, smtp.url)
    subjects = {
        "activation": "Crea tu contraseña de ICSOE",
        "reset": "Restablece tu contraseña de ICSOE",
        "password_set": "Tu contraseña de ICSOE fue registrada",
    }
    for i, (name, subject) in enumerate(subjects.items()):
        r = maildrv(conf, "template", name, TO, "Ana", *template_vars())
        assert r["status"] == "ok", r
        msg = smtp.wait_for(i + 1)[i]
        assert msg["Subject"] == subject
        assert msg.get_content_type() == "multipart/alternative"
        if name != "password_set":
            assert SmtpSink.links(msg) == [LINK]
            assert LINK in SmtpSink.html(msg)
        else:
            assert LOGIN in SmtpSink.text(msg) and LOGIN in SmtpSink.html(msg)


def test_html_part_escapes_values(tmp_path, smtp):
    conf = write_conf(tmp_path, smtp.url)
    evil = 'Ana <script>alert("x")</script> & Cía'
    r = maildrv(conf, "template", "activation", TO, "Ana", *template_vars(name=evil))
    assert r["status"] == "ok", r
    (msg,) = smtp.wait_for(1)
    html = SmtpSink.html(msg)
    assert "<script>" not in html
    assert "Ana &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Cía" in html
    # the text part is plain text: shown as written
    assert evil in SmtpSink.text(msg)


def test_long_subject_and_body_survive(tmp_path, smtp):
    conf = write_conf(tmp_path, smtp.url)
    subject = "Contraseña " * 12 + "— ñandú 😀 fin"
    body = ("línea normal\n.\n..dos puntos\n" + "ñ=x " * 300 + "\nespacios al final   \nfin\n")
    (tmp_path / "body.txt").write_text(body, encoding="utf-8")
    (tmp_path / "body.html").write_text("<p>" + "é" * 500 + "</p>\n", encoding="utf-8")
    r = maildrv(conf, "send", TO, "Ana", subject, str(tmp_path / "body.txt"),
                str(tmp_path / "body.html"))
    assert r["status"] == "ok", r
    (msg,) = smtp.wait_for(1)
    assert msg["Subject"] == subject
    # a lone "." line did not end the SMTP DATA early: libcurl dot-stuffed it
    assert SmtpSink.text(msg) == body
    assert SmtpSink.html(msg) == "<p>" + "é" * 500 + "</p>\n"
    (raw,) = smtp.raw_messages()
    assert max(len(line) for line in raw.split(b"\n")) <= 79  # 78 + CR


# ---------------------------------------------------------------- overrides

def write_override(d, name, txt=None, html=None):
    d.mkdir(exist_ok=True)
    if txt is not None:
        (d / f"{name}.txt").write_text(txt, encoding="utf-8")
    if html is not None:
        (d / f"{name}.html").write_text(html, encoding="utf-8")


def test_template_override_dir(tmp_path, smtp):
    d = tmp_path / "mailtpl"
    write_override(d, "activation",
                   "Subject: Activa tu cuenta, {{name}}\n\nEnlace: {{link}}\n",
                   "<p>Enlace: <a href=\"{{link}}\">{{name}}</a></p>\n")
    # reset only has a text override: its HTML stays the built-in one
    write_override(d, "reset", "Subject: Recupera el acceso\n\nUsa {{link}}\n")
    conf = write_conf(tmp_path, smtp.url, mail_template_dir=str(d))

    r = maildrv(conf, "template", "activation", TO, "Ana", *template_vars())
    assert r["status"] == "ok", r
    r = maildrv(conf, "template", "reset", TO, "Ana", *template_vars())
    assert r["status"] == "ok", r
    act, rst = smtp.wait_for(2)
    assert act["Subject"] == "Activa tu cuenta, Ana López"
    assert SmtpSink.text(act) == f"Enlace: {LINK}\n"
    assert SmtpSink.html(act) == f'<p>Enlace: <a href="{LINK}">Ana López</a></p>\n'
    assert rst["Subject"] == "Recupera el acceso"
    assert SmtpSink.text(rst) == f"Usa {LINK}\n"
    assert "Restablecer contraseña" in SmtpSink.html(rst)  # built-in HTML


def test_broken_override_is_an_error(tmp_path, smtp):
    d = tmp_path / "mailtpl"
    write_override(d, "activation", "Subject: Hola\n\nLinea 3 {{enlace}}\n", "<p>x</p>\n")
    write_override(d, "reset", "Hola sin asunto {{link}}\n", "<p>x</p>\n")
    conf = write_conf(tmp_path, smtp.url, mail_template_dir=str(d))

    r = maildrv(conf, "template", "activation", TO, "Ana", *template_vars())
    assert r["status"] != "ok"
    assert "activation.txt" in r["error"] and "enlace" in r["error"], r
    assert "line 3" in r["error"], r
    r = maildrv(conf, "template", "reset", TO, "Ana", *template_vars())
    assert r["status"] != "ok"
    assert "Subject" in r["error"], r
    missing = write_conf(tmp_path, smtp.url, name="missing.conf",
                         mail_template_dir=str(tmp_path / "nope"))
    r = maildrv(missing, "template", "activation", TO, "Ana", *template_vars())
    assert r["status"] != "ok" and "nope" in r["error"], r
    r = maildrv(conf, "template", "../etc/passwd", TO, "Ana", *template_vars())
    assert r["status"] == "invalid input", r
    smtp.assert_quiet()


# ---------------------------------------------------------------- failures

def test_recipient_refused(tmp_path):
    sink = SmtpSink(tmp_path / "refuse", refuse=True).start()
    try:
        conf = write_conf(tmp_path, sink.url)
        r = maildrv(conf, "template", "activation", TO, "Ana", *template_vars())
        assert r["status"] == "unavailable", r
        assert r["rc"] == 1
        assert "550 5.1.1 no such user" in r["error"], r
        assert sink.url in r["error"]
        sink.assert_quiet(0.2)
    finally:
        sink.stop()


def test_smtp_down(tmp_path):
    port = util.free_port()  # nothing listens there
    conf = write_conf(tmp_path, f"smtp://127.0.0.1:{port}", smtp_timeout="2")
    r = maildrv(conf, "template", "activation", TO, "Ana", *template_vars())
    assert r["status"] == "unavailable", r
    assert f"127.0.0.1:{port}" in r["error"]
    assert "connect" in r["error"].lower()
    assert r["elapsed"] < 2 + 2


def test_silent_server_times_out(tmp_path):
    """A server that accepts TCP but never greets: the send gives up after
    smtp_timeout, not never."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        port = s.getsockname()[1]
        conf = write_conf(tmp_path, f"smtp://127.0.0.1:{port}", smtp_timeout="2")
        r = maildrv(conf, "send", TO, "Ana", "Hola")
    assert r["status"] == "unavailable", r
    assert "timeout" in r["error"].lower() or "timed out" in r["error"].lower(), r
    assert 1.5 <= r["elapsed"] < 2 + 2


@pytest.mark.parametrize("field", ["name", "subject", "to", "mail_from"])
def test_header_injection_refused(tmp_path, smtp, field):
    inj = "Ana\r\nBcc: x@evil.test"
    args = {"to": TO, "name": "Ana", "subject": "Hola"}
    extra = {}
    if field == "to":
        args["to"] = TO + "\r\nBcc: x@evil.test"
    elif field == "mail_from":
        extra["mail_from"] = None
    else:
        args[field] = inj
    conf = write_conf(tmp_path, smtp.url, **extra)
    if field == "mail_from":
        # the config file cannot hold a CR LF value; "\r" alone is the route
        with open(conf, "a", encoding="utf-8") as f:
            f.write("mail_from ICSOE <icsoe@imss.example.test>\rBcc: x@evil.test\n")
    r = maildrv(conf, "send", args["to"], args["name"], args["subject"])
    if field == "mail_from" and r["status"] == "conf":
        pass  # refused already by the config loader: equally fine
    else:
        assert r["status"] == "invalid input", r
        assert r["error"], r
    smtp.assert_quiet()


def test_injection_through_template_value(tmp_path, smtp):
    """A name from LDAP reaches the Subject through a template: a CR LF in it
    is refused, never turned into a header."""
    d = tmp_path / "mailtpl"
    write_override(d, "activation", "Subject: Hola {{name}}\n\n{{link}}\n", "<p>{{link}}</p>\n")
    conf = write_conf(tmp_path, smtp.url, mail_template_dir=str(d))
    r = maildrv(conf, "template", "activation", TO, "Ana",
                *template_vars(name="Ana\r\nBcc: x@evil.test"))
    assert r["status"] == "invalid input", r
    assert "subject" in r["error"].lower()
    r = maildrv(conf, "template", "activation", TO, "Ana\nBcc: x@evil.test", *template_vars())
    assert r["status"] == "invalid input", r
    smtp.assert_quiet()


def test_no_smtp_url(tmp_path):
    conf = write_conf(tmp_path, None)
    r = maildrv(conf, "send", TO, "Ana", "Hola")
    assert r["status"] == "unavailable", r
    assert "smtp_url" in r["error"]


# ---------------------------------------------------------------- accounts

ACT_URL = "https://icsoe.example.test/icsoe/activar"


def account_conf(tmp_path, slapd, smtp_url, name="account.conf", **extra):
    keys = {"uri": slapd.uri, "base": slapd.base, "binddn": slapd.binddn,
            "bindpw_file": slapd.bindpw_file, "activation_url": ACT_URL,
            "token_lifetime": "7200", "reset_token_lifetime": "900"}
    keys.update(extra)
    return write_conf(tmp_path, smtp_url, name=name, **keys)


def add_capturist(slapd, curp=CURP, name="Ana López", email=TO):
    attrs = {"objectClass": ["inetOrgPerson", "icsoeCapturist"], "uid": curp,
             "cn": name, "sn": name, "icsoeStatus": "pending", "icsoeEpoch": "0"}
    if email is not None:
        attrs["mail"] = email
    slapd.add(slapd.capturist_dn(curp), attrs)


def token_attrs(slapd, curp=CURP):
    e = slapd.get(slapd.capturist_dn(curp),
                  ["icsoeTokenHash", "icsoeTokenExpiry", "icsoeTokenPurpose", "icsoeStatus"])
    return {k: v[0] for k, v in e.items() if k != "dn"}


def token_of(link):
    return link.rsplit("t=", 1)[1]


def sha256_hex(s):
    import hashlib
    return hashlib.sha256(s.encode()).hexdigest()


def gentime(ts):
    import datetime
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)


def test_issue_activation_link(tmp_path, slapd, smtp):
    import datetime
    add_capturist(slapd)
    conf = account_conf(tmp_path, slapd, smtp.url)
    before = time.time()
    r = maildrv(conf, "issue", CURP, "activation", "mail")
    assert r["status"] == "ok", r
    link = r["link"]
    assert link.startswith(ACT_URL + "?t=")
    token = token_of(link)
    assert len(token) == 43
    (msg,) = smtp.wait_for(1)
    assert msg["Subject"] == "Crea tu contraseña de ICSOE"
    assert msg["To"].addresses[0].display_name == "Ana López"
    assert SmtpSink.links(msg) == [link]
    assert f'href="{link}"' in SmtpSink.html(msg)
    assert CURP in SmtpSink.text(msg)
    assert LOGIN in SmtpSink.text(msg)

    t = token_attrs(slapd)
    assert t["icsoeTokenHash"] == sha256_hex(token)  # only the hash is stored
    assert t["icsoeTokenPurpose"] == "activation"
    assert t["icsoeStatus"] == "pending"
    expiry = datetime.datetime.strptime(t["icsoeTokenExpiry"], "%Y%m%d%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    assert before + 7200 - 2 <= expiry <= time.time() + 7200 + 2
    # valid_until in the mail is that expiry, in the default zone
    # (America/Mexico_City: UTC-6 since 2022, "CST")
    from zoneinfo import ZoneInfo
    local = datetime.datetime.fromtimestamp(expiry, ZoneInfo("America/Mexico_City"))
    assert local.strftime("%d/%m/%Y %H:%M CST") in SmtpSink.text(msg)
    # the token never appears anywhere but in the link
    assert token not in slapd.child.read_log()

    # a second link voids the first
    r2 = maildrv(conf, "issue", CURP, "activation", "mail")
    assert r2["status"] == "ok", r2
    assert token_of(r2["link"]) != token
    assert token_attrs(slapd)["icsoeTokenHash"] == sha256_hex(token_of(r2["link"]))
    assert SmtpSink.links(smtp.wait_for(2)[1]) == [r2["link"]]


def test_issue_reset_link_and_no_mail(tmp_path, slapd, smtp):
    add_capturist(slapd)
    conf = account_conf(tmp_path, slapd, smtp.url,
                        activation_url=ACT_URL + "?origen=correo")
    r = maildrv(conf, "issue", CURP, "reset", "mail")
    assert r["status"] == "ok", r
    assert r["link"].startswith(ACT_URL + "?origen=correo&t=")
    (msg,) = smtp.wait_for(1)
    assert msg["Subject"] == "Restablece tu contraseña de ICSOE"
    assert SmtpSink.links(msg) == [r["link"]]
    t = token_attrs(slapd)
    assert t["icsoeTokenPurpose"] == "reset"
    assert t["icsoeTokenHash"] == sha256_hex(token_of(r["link"]))

    r = maildrv(conf, "issue", CURP, "activation", "nomail")
    assert r["status"] == "ok", r
    assert token_attrs(slapd)["icsoeTokenHash"] == sha256_hex(token_of(r["link"]))
    time.sleep(0.3)
    assert smtp.count() == 1  # nothing more was mailed


def valid_until_in(msg):
    import re
    m = re.search(r"válido hasta el (\d\d/\d\d/\d{4} \d\d:\d\d) (\S+)",
                  SmtpSink.text(msg))
    assert m, SmtpSink.text(msg)
    return m.group(1), m.group(2)


@pytest.mark.parametrize("zone,abbr", [("America/New_York", "EST"), ("UTC", "UTC"),
                                       (None, "CST")])
def test_issue_valid_until_in_configured_zone(tmp_path, slapd, smtp, zone, abbr):
    """Issue 17, item 6: the "timezone" key (default America/Mexico_City)
    decides, whatever TZ the process has (Apache's is rarely set)."""
    import datetime
    from zoneinfo import ZoneInfo
    add_capturist(slapd)
    conf = account_conf(tmp_path, slapd, smtp.url, timezone=zone)
    argv = [util.built("tests/integration/maildrv"), "-c", conf, "issue", CURP,
            "activation", "mail"]
    env = dict(os.environ, TZ="Asia/Tokyo")
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30)
    assert "status=ok" in p.stdout, p.stdout + p.stderr
    (msg,) = smtp.wait_for(1)
    when, got_abbr = valid_until_in(msg)
    assert got_abbr == abbr
    t = token_attrs(slapd)
    expiry = datetime.datetime.strptime(t["icsoeTokenExpiry"], "%Y%m%d%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc)
    local = expiry.astimezone(ZoneInfo(zone or "America/Mexico_City"))
    assert when == local.strftime("%d/%m/%Y %H:%M")


def test_unknown_timezone_is_a_config_error(tmp_path, slapd, smtp):
    add_capturist(slapd)
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime"):
        conf = account_conf(tmp_path, slapd, smtp.url, timezone=bad)
        r = maildrv(conf, "issue", CURP, "activation", "mail")
        assert r["rc"] != 0 and r["status"] == "conf", r
        # the file and line, then the key
        assert r["error"].startswith(conf + ":") and "timezone" in r["error"], r
    assert smtp.count() == 0
    assert "icsoeTokenHash" not in token_attrs(slapd)


def test_issue_refused_before_anything_is_stored(tmp_path, slapd, smtp):
    add_capturist(slapd)
    add_capturist(slapd, curp="GOMP900215HDFMRD05", name="Pedro Gómez", email=None)
    cases = [
        (account_conf(tmp_path, slapd, None, name="a.conf"), CURP, "smtp_url"),
        (account_conf(tmp_path, slapd, smtp.url, name="b.conf", mail_from=None), CURP,
         "mail_from"),
        (account_conf(tmp_path, slapd, smtp.url, name="c.conf", activation_url=None), CURP,
         "activation_url"),
        (account_conf(tmp_path, slapd, smtp.url, name="d.conf"), "GOMP900215HDFMRD05",
         "email"),
    ]
    for conf, curp, word in cases:
        r = maildrv(conf, "issue", curp, "activation", "mail")
        assert r["status"] == "invalid input", r
        assert word in r["error"], r
        assert "icsoeTokenHash" not in token_attrs(slapd, curp)
    smtp.assert_quiet()


def test_issue_when_smtp_is_down(tmp_path, slapd):
    """The token stays stored (a resend voids it), the account is untouched,
    and the error says the mail was not sent."""
    add_capturist(slapd)
    conf = account_conf(tmp_path, slapd, f"smtp://127.0.0.1:{util.free_port()}",
                        smtp_timeout="2")
    r = maildrv(conf, "issue", CURP, "activation", "mail")
    assert r["status"] == "unavailable", r
    assert "not mailed" in r["error"] and "connect" in r["error"].lower(), r
    assert r["elapsed"] < 2 + 2
    t = token_attrs(slapd)
    assert t["icsoeStatus"] == "pending"
    assert t["icsoeTokenHash"] == sha256_hex(token_of(r["link"]))


def test_issue_recipient_refused(tmp_path, slapd):
    add_capturist(slapd)
    sink = SmtpSink(tmp_path / "refuse", refuse=True).start()
    try:
        conf = account_conf(tmp_path, slapd, sink.url)
        r = maildrv(conf, "issue", CURP, "reset", "mail")
        assert r["status"] == "unavailable", r
        assert "550 5.1.1 no such user" in r["error"], r
        sink.assert_quiet(0.2)
    finally:
        sink.stop()


def test_issue_unknown_capturist(tmp_path, slapd, smtp):
    conf = account_conf(tmp_path, slapd, smtp.url)
    r = maildrv(conf, "issue", CURP, "activation", "mail")
    assert r["status"] == "not found", r
    smtp.assert_quiet()


def test_notify_password_set(tmp_path, slapd, smtp):
    add_capturist(slapd)
    conf = account_conf(tmp_path, slapd, smtp.url)
    r = maildrv(conf, "notify", CURP)
    assert r["status"] == "ok", r
    (msg,) = smtp.wait_for(1)
    assert msg["Subject"] == "Tu contraseña de ICSOE fue registrada"
    assert msg["To"].addresses[0].addr_spec == TO
    text = SmtpSink.text(msg)
    assert "Hola, Ana López:" in text and CURP in text and LOGIN in text
    assert SmtpSink.links(msg) == []  # no token in this mail
    assert f'href="{LOGIN}"' in SmtpSink.html(msg)
