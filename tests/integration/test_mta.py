"""Mail through a real relay (issue 17): Debian's exim4 run privately
(harness/mta.py) with STARTTLS, SMTPS, AUTH PLAIN/LOGIN offered only inside
TLS, a certificate from a private CA made here, delivering to a Maildir.

The activation mail ("capturist add"), the "contraseña registrada" notice
(the password page in apache2) and the recovery mail all go through it.
What the relay itself saw is read from exim's own log: who authenticated,
over TLS or not, what it refused."""
import os
import re
import subprocess
import time
import urllib.parse

import pytest
import requests

from harness import util
from harness.conf import IcsoeConf
from harness.mta import BUSY, REFUSED, Exim
from harness.pam import add_capturist as add_entry, curp as make_curp

CURP_A = make_curp("GOPJ800101HDFMRN0")
RFC_1 = "AAA010101AA9"[:11]
NAME = "María Guadalupe Hernández Fernández"
GOOD_PW = "Tlacuache-Nopal-Volcan-2024"
OTHER_PW = "Ajolote Mezcal Huarache 77"
HELO = "icsoe.example.test"


def rfc(first):
    alphabet = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ"
    padded = " " + first
    total = sum(alphabet.index(ch) * (13 - i) for i, ch in enumerate(padded))
    r = total % 11
    return first + ("0" if r == 0 else ("A" if 11 - r == 10 else str(11 - r)))


RFC = rfc(RFC_1)


@pytest.fixture
def mta(tmp_path):
    m = Exim(tmp_path / "exim")
    m.start()
    yield m
    m.stop()


def relay_conf(tmp_path, slapd, mta, name="etc", url=None, **over):
    """icsoe.conf for slapd and the relay: AUTH, the private CA, STARTTLS
    required, an explicit EHLO name."""
    keys = dict(smtp_user=mta.user, smtp_pass_file=mta.pass_file,
                smtp_tls_cacertfile=mta.ca, smtp_starttls="required",
                smtp_helo=HELO, smtp_timeout="5")
    keys.update(over)
    c = IcsoeConf(tmp_path / name, slapd, mta, **keys)
    if url is not None:
        c.write(smtp_url=url)
    return c


def icsoectl(conf, *args):
    p = subprocess.run([util.built("tools/icsoectl"), "-c", os.fspath(conf), *args],
                       capture_output=True, text=True, timeout=60)
    return p


def add_contractor(conf):
    p = icsoectl(conf, "contractor", "add", "--rfc", RFC, "--name", "Servicios SA")
    assert p.returncode == 0, p.stderr


def add_capturist(conf, email="ana@icsoe.test", curp=CURP_A):
    return icsoectl(conf, "capturist", "add", "--curp", curp, "--name", NAME,
                    "--email", email, "--contractor", RFC)


def mail_state(conf, curp=CURP_A):
    p = icsoectl(conf, "--json", "capturist", "show", curp)
    assert p.returncode == 0, p.stderr
    import json
    return json.loads(p.stdout)["mail"]


def links(msg):
    text = msg.get_body(preferencelist=("plain",)).get_content()
    return re.findall(r"https?://[^\s<>\"]+[?&]t=[A-Za-z0-9_-]+", text)


def received_lines(log):
    """exim's "<=" lines: one per message it accepted."""
    return [ln for ln in log.splitlines() if " <= " in ln]


# ---------------------------------------------------------------- the flow

@pytest.mark.parametrize("mechanism,tls", [("PLAIN", "starttls"), ("LOGIN", "smtps")])
def test_all_three_mails_through_the_relay(tmp_path, slapd, apache, mechanism, tls):
    """Activation (icsoectl), "contraseña registrada" and recovery (the
    pages in apache2) reach the Maildir through exim, authenticated and
    encrypted, with the EHLO name from smtp_helo."""
    mta = Exim(tmp_path / "exim", mechanisms=(mechanism,))
    mta.start()
    try:
        conf = relay_conf(tmp_path, slapd, mta,
                          url=mta.smtps_url if tls == "smtps" else None)
        add_contractor(conf)
        p = add_capturist(conf)
        assert p.returncode == 0, p.stderr
        (msg,) = mta.wait_for(1)
        assert msg["Subject"] == "Crea tu contraseña de ICSOE"
        assert msg["To"].addresses[0].display_name == NAME
        assert msg["Message-ID"] and msg.get_content_type() == "multipart/alternative"
        (link,) = links(msg)
        assert mail_state(conf)["state"] == "sent"

        log = mta.log()
        (line,) = received_lines(log)
        assert f"A={mechanism.lower()}:{mta.user}" in line        # AUTH
        assert " X=TLS" in line and "P=esmtpsa" in line           # inside TLS
        assert f"H=({HELO})" in line                               # smtp_helo
        port = mta.smtps_port if tls == "smtps" else mta.port
        assert f"I=[127.0.0.1]:{port}" in line
        assert mta.password not in log

        # the password page: activation, then the notice
        a = apache(icsoe_conf_path=conf.path)
        s = requests.Session()
        u = urllib.parse.urlsplit(link)
        r = s.get(a.url(u.path + "?" + u.query), timeout=40)
        csrf = re.search(r'name="csrf" value="([^"]*)"', r.text).group(1)
        token = urllib.parse.parse_qs(u.query)["t"][0]
        r = s.post(a.url("/icsoe/activar"), data={
            "csrf": csrf, "t": token, "password": GOOD_PW, "password_confirm": GOOD_PW},
            timeout=20, allow_redirects=False)
        assert "Tu contraseña se actualizó correctamente" in r.text
        msgs = mta.wait_for(2)
        assert msgs[1]["Subject"].startswith("Tu contraseña de ICSOE")
        assert mail_state(conf)["kind"] == "password_set"

        # recovery
        r = s.get(a.url("/icsoe/recuperar"), timeout=40)
        csrf = re.search(r'name="csrf" value="([^"]*)"', r.text).group(1)
        r = s.post(a.url("/icsoe/recuperar"), timeout=20, data={
            "csrf": csrf, "curp": CURP_A, "email": "ana@icsoe.test"})
        assert r.status_code == 200
        msgs = mta.wait_for(3)
        assert msgs[2]["Subject"] == "Restablece tu contraseña de ICSOE"
        assert len(links(msgs[2])) == 1
        assert len(received_lines(mta.log())) == 3
        assert all(f"A={mechanism.lower()}:" in ln for ln in received_lines(mta.log()))
    finally:
        mta.stop()


# ---------------------------------------------------------------- TLS

def test_relay_with_private_ca_needs_smtp_tls_cacertfile(tmp_path, slapd, mta):
    """Issue 17, item 2: without smtp_tls_cacertfile the certificate is not
    trusted (it is not in the system store): a configuration error (exit 4),
    and the relay never sees AUTH or a message."""
    conf = relay_conf(tmp_path, slapd, mta, smtp_tls_cacertfile=None)
    add_contractor(conf)
    p = add_capturist(conf)
    assert p.returncode == 4, (p.returncode, p.stderr)
    assert "configuration error" in p.stderr and "smtp_tls_cacertfile" in p.stderr
    assert mail_state(conf)["state"] == "unsent"
    assert received_lines(mta.log()) == [] and mta.count() == 0
    assert " A=" not in mta.log()
    # with it, the mail goes (and resend --unsent finds it)
    conf.write(smtp_tls_cacertfile=mta.ca)
    p = icsoectl(conf, "capturist", "resend", "--unsent")
    assert p.returncode == 0, p.stderr
    mta.wait_for(1)
    assert mail_state(conf)["state"] == "sent"


def test_starttls_454_gets_neither_password_nor_link(tmp_path, slapd):
    """A relay whose STARTTLS answers 454 (it still offers AUTH in clear and
    takes mail without it): with smtp_starttls required nothing is sent at
    all: no AUTH, no MAIL, no link.  The control below (same relay, "try")
    shows the relay would have taken the link in clear."""
    mta = Exim(tmp_path / "exim", tls_broken=True)
    mta.start()
    try:
        # explicit "required", and the default when smtp_user is set
        conf = relay_conf(tmp_path, slapd, mta)
        default = relay_conf(tmp_path, slapd, mta, name="etc-default", smtp_starttls=None)
        add_contractor(conf)
        p = add_capturist(conf)
        assert p.returncode == 3, (p.returncode, p.stderr)   # temporary: 454
        assert "454" in p.stderr and "resend --unsent" in p.stderr
        p = icsoectl(default, "capturist", "resend", CURP_A)
        assert p.returncode == 3 and "454" in p.stderr, (p.returncode, p.stderr)
        log = mta.wait_log("TLS error")
        assert log.count("TLS error") >= 2
        assert received_lines(log) == [] and mta.count() == 0
        assert " A=" not in log and "authenticator" not in log
        assert mta.password not in log
        state = mail_state(conf)
        assert state["state"] == "unsent" and "454" in state["error"]

        # control: "try" without AUTH falls back to clear text, and the
        # relay takes the link: the assertions above can fail
        plain = relay_conf(tmp_path, slapd, mta, name="etc-try", smtp_starttls="try",
                           smtp_user=None, smtp_pass_file=None)
        p = icsoectl(plain, "capturist", "resend", CURP_A)
        assert p.returncode == 0, p.stderr
        (msg,) = mta.wait_for(1)
        assert len(links(msg)) == 1
        (line,) = received_lines(mta.log())
        assert " X=" not in line   # it came in clear
    finally:
        mta.stop()


# ---------------------------------------------------------------- refusals

def test_wrong_password_is_a_configuration_error(tmp_path, slapd, mta):
    """535 to AUTH: exit 4 (the documented configuration status), not the
    "resend later" of an outage; once the password is right, resend
    --unsent delivers."""
    bad = tmp_path / "bad_pass"
    fd = os.open(bad, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"not-the-password\n")
    os.close(fd)
    conf = relay_conf(tmp_path, slapd, mta, smtp_pass_file=str(bad))
    add_contractor(conf)
    p = add_capturist(conf)
    assert p.returncode == 4, (p.returncode, p.stderr)
    assert "535" in p.stderr and "configuration error" in p.stderr
    assert "not-the-password" not in p.stderr
    assert "authenticator failed" in mta.wait_log("authenticator failed")
    assert mta.count() == 0
    assert mail_state(conf)["state"] == "unsent"
    conf.write(smtp_pass_file=mta.pass_file)
    p = icsoectl(conf, "capturist", "resend", "--unsent")
    assert p.returncode == 0 and "1 sent" in p.stdout, (p.stdout, p.stderr)
    mta.wait_for(1)


def test_refused_and_busy_addresses(tmp_path, slapd, mta):
    """550 5.1.1 to RCPT: exit 1, the address must be corrected (set
    --email); 451 to RCPT: exit 3, a resend may work as it is."""
    conf = relay_conf(tmp_path, slapd, mta)
    add_contractor(conf)
    p = add_capturist(conf, email=f"{REFUSED}@icsoe.test")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "550" in p.stderr and f"capturist set {CURP_A} --email" in p.stderr
    assert mail_state(conf)["state"] == "refused"
    assert "rejected RCPT" in mta.wait_log("rejected RCPT")

    other = make_curp("LOMA850505MJCPRR0")
    p = add_capturist(conf, email=f"{BUSY}@icsoe.test", curp=other)
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert "451" in p.stderr and "resend --unsent" in p.stderr
    assert mail_state(conf, other)["state"] == "unsent"

    # correcting the refused address sends the link there
    p = icsoectl(conf, "capturist", "set", CURP_A, "--email", "ana@icsoe.test")
    assert p.returncode == 0, p.stderr
    (msg,) = mta.wait_for(1)
    assert msg["To"].addresses[0].addr_spec == "ana@icsoe.test"
    assert mail_state(conf)["state"] == "sent"


# ---------------------------------------------------------------- recovery

def test_failed_recovery_mail_does_not_use_up_the_rate_limit(tmp_path, slapd, mta, apache):
    """Issue 17, item 5: with the relay down the recovery mail fails; the
    capturist's retry a minute later (inside recover_interval) must be sent,
    and only then does the 15-minute limit apply."""
    conf = relay_conf(tmp_path, slapd, mta)
    add_entry(slapd, CURP_A, password=OTHER_PW, status="active", cn=NAME)
    email = f"{CURP_A.lower()}@example.test"
    a = apache(icsoe_conf_path=conf.path)
    s = requests.Session()

    def ask():
        r = s.get(a.url("/icsoe/recuperar"), timeout=40)
        m = re.search(r'name="csrf" value="([^"]*)"', r.text)
        assert m, (r.status_code, r.text[:3000])
        csrf = m.group(1)
        r = s.post(a.url("/icsoe/recuperar"), timeout=20, data={
            "csrf": csrf, "curp": CURP_A, "email": email})
        assert r.status_code == 200

    def last_recover():
        e = slapd.get(slapd.capturist_dn(CURP_A), ["icsoeLastRecover", "icsoeMailState"])
        return e.get("icsoeLastRecover"), e.get("icsoeMailState")

    mta.pause()
    ask()
    a.wait_log(f"event=recover-ignored curp={CURP_A} client=127.0.0.1 detail=mail-failed",
               timeout=40)
    assert last_recover() == (None, ["unsent"])
    mta.resume()
    ask()
    (msg,) = mta.wait_for(1)
    assert msg["Subject"] == "Restablece tu contraseña de ICSOE"
    a.wait_log(f"event=recover-sent curp={CURP_A}", timeout=40)
    claimed, state = last_recover()
    assert claimed is not None and state == ["sent"]
    # a delivered mail counts: the next request within the interval is dropped
    ask()
    a.wait_log("detail=rate-limited", timeout=40)
    time.sleep(0.5)
    assert mta.count() == 1


def test_unsent_password_notice_is_resent(tmp_path, slapd, mta, apache):
    """The "contraseña registrada" notice is recorded like the links: with
    the relay down it is unsent (the password is stored all the same), and
    resend --unsent sends it once the relay is back; a reset link that did
    not go is left to the capturist (resend --unsent skips it)."""
    conf = relay_conf(tmp_path, slapd, mta)
    add_contractor(conf)
    assert add_capturist(conf).returncode == 0
    (msg,) = mta.wait_for(1)
    (link,) = links(msg)
    a = apache(icsoe_conf_path=conf.path)
    s = requests.Session()
    u = urllib.parse.urlsplit(link)
    r = s.get(a.url(u.path + "?" + u.query), timeout=40)
    csrf = re.search(r'name="csrf" value="([^"]*)"', r.text).group(1)
    mta.pause()
    r = s.post(a.url("/icsoe/activar"), data={
        "csrf": csrf, "t": urllib.parse.parse_qs(u.query)["t"][0],
        "password": GOOD_PW, "password_confirm": GOOD_PW}, timeout=40)
    assert "Tu contraseña se actualizó correctamente" in r.text
    assert slapd.can_bind(slapd.capturist_dn(CURP_A), GOOD_PW)
    util.wait_until(lambda: mail_state(conf)["kind"] == "password_set", timeout=40,
                    what="the notice's delivery record")
    state = mail_state(conf)
    assert state["state"] == "unsent" and state["error"], state
    mta.resume()
    p = icsoectl(conf, "capturist", "resend", "--unsent")
    assert p.returncode == 0 and "password notice sent" in p.stdout, (p.stdout, p.stderr)
    msgs = mta.wait_for(2)
    assert msgs[1]["Subject"].startswith("Tu contraseña de ICSOE")
    assert links(msgs[1]) == []          # a notice, no link
    assert mail_state(conf)["state"] == "sent"
    # nothing is sent twice
    p = icsoectl(conf, "capturist", "resend", "--unsent")
    assert p.returncode == 0 and "0 sent" in p.stdout
    time.sleep(0.3)
    assert mta.count() == 2
