"""The e.firma parser (lib/efirma.c) through `icsoectl efirma show`, on
certificates generated at test time (harness/satpki.py): FIEL of a person
and of a company with its legal representative, CSD, expired, not yet
valid, and malformed files.  Exit 0 only for a FIEL valid now; 2 for a
well-formed certificate that cannot sign in; 1 for anything malformed."""
import os

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from harness import satpki
from test_icsoectl import CURP_A, CURP_B, RFC_1, RFC_3, bad_digit, icsoectl

NAME_CO = "EMPRESA DEMO SA DE CV"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return satpki.CA(tmp_path_factory.mktemp("satpki"))


def show(path):
    return icsoectl("efirma", "show", "--json", path)


def test_fiel_of_a_company_with_representative_der(ca):
    ident = ca.fiel("co", NAME_CO, RFC_1, rep_rfc=RFC_3, curp=CURP_A)
    r = show(ident.cer)
    assert r.rc == 0, r
    j = r.json()
    assert j["type"] == "FIEL"
    assert j["rfc"] == RFC_1
    assert j["representative_rfc"] == RFC_3
    assert j["curp"] == CURP_A
    assert j["name"] == NAME_CO
    assert j["serial"] == ident.serial
    assert "CN=AC de pruebas ICSOE SAT" in j["issuer"]
    assert j["usable"] == "usable"
    assert j["rfc_check_digit_warning"] is False


def test_fiel_of_a_person_pem_and_text_output(ca):
    ident = ca.fiel("person", "CARLA GOMEZ MARTINEZ", RFC_3, curp=CURP_B)
    r = show(ident.crt)
    assert r.rc == 0, r
    j = r.json()
    assert (j["rfc"], j["representative_rfc"], j["curp"]) == (RFC_3, None, CURP_B)
    r = icsoectl("efirma", "show", ident.crt)
    assert r.rc == 0, r
    assert "type:" in r.out and "FIEL" in r.out and RFC_3 in r.out


def test_fiel_made_by_the_openssl_command_line(tmp_path):
    crt, der, _ = satpki.openssl_fiel(tmp_path, "ossl", NAME_CO, RFC_1, RFC_3, CURP_A)
    for path in (crt, der):
        r = show(path)
        assert r.rc == 0, r
        j = r.json()
        assert (j["rfc"], j["representative_rfc"], j["curp"]) == (RFC_1, RFC_3, CURP_A)


def test_csd_is_refused_exit_2(ca):
    ident = ca.csd("csd", NAME_CO, RFC_1, rep_rfc=RFC_3, curp=CURP_A)
    r = show(ident.cer)
    assert r.rc == 2, r
    assert r.json()["type"] == "CSD"
    assert r.json()["usable"] == "csd"
    assert "cannot sign in: csd" in r.err


def test_expired_and_not_yet_valid_exit_2(ca):
    old = ca.fiel("old", NAME_CO, RFC_1, curp=None,
                  not_before=satpki.NOW - 400 * satpki.DAY,
                  not_after=satpki.NOW - satpki.DAY)
    new = ca.fiel("new", NAME_CO, RFC_1, not_before=satpki.NOW + 2 * satpki.DAY,
                  not_after=satpki.NOW + 400 * satpki.DAY)
    r = show(old.cer)
    assert r.rc == 2 and r.json()["usable"] == "expired", r
    r = show(new.cer)
    assert r.rc == 2 and r.json()["usable"] == "not-yet-valid", r


def test_rfc_check_digit_is_a_warning_not_a_refusal(ca):
    ident = ca.fiel("digit", NAME_CO, bad_digit(RFC_1))
    r = show(ident.cer)
    assert r.rc == 0, r
    assert r.json()["rfc_check_digit_warning"] is True
    assert "check digit" in r.err


def _malformed(ca, label, attrs):
    return ca.issue(label, x509.Name(attrs))


CN = x509.NameAttribute(NameOID.COMMON_NAME, NAME_CO)


@pytest.mark.parametrize("label,attrs,reason", [
    ("no-rfc", [CN], "no-rfc"),
    ("bad-rfc", [CN, x509.NameAttribute(satpki.UID, "NOTANRFC")], "bad-rfc"),
    ("two-slashes", [CN, x509.NameAttribute(satpki.UID, f"{RFC_1} / {RFC_3} / {RFC_3}")],
     "bad-rfc"),
    ("bad-rep", [CN, x509.NameAttribute(satpki.UID, f"{RFC_1} / XXXX")],
     "bad-representative-rfc"),
    ("bad-curp", [CN, x509.NameAttribute(satpki.UID, RFC_1),
                  x509.NameAttribute(NameOID.SERIAL_NUMBER, " / " + bad_digit(CURP_A))],
     "bad-curp"),
    ("two-curps", [CN, x509.NameAttribute(satpki.UID, RFC_1),
                   x509.NameAttribute(NameOID.SERIAL_NUMBER, f"{CURP_A} / {CURP_B}")],
     "bad-curp"),
    ("dup-rfc", [CN, x509.NameAttribute(satpki.UID, RFC_1),
                 x509.NameAttribute(satpki.UID, RFC_3)], "bad-subject"),
    ("ldap-meta", [CN, x509.NameAttribute(satpki.UID, "*)(icsoeRFC=*")], "bad-rfc"),
    ("no-name", [x509.NameAttribute(satpki.UID, RFC_1)], "bad-subject"),
])
def test_malformed_subject_is_refused_exit_1(ca, label, attrs, reason):
    ident = _malformed(ca, label, attrs)
    r = show(ident.cer)
    assert r.rc == 1, r
    assert reason in r.err, r
    assert r.out == ""


def test_not_a_certificate(ca, tmp_path):
    good = ca.fiel("good", NAME_CO, RFC_1)
    der = open(good.cer, "rb").read()
    pem = open(good.crt, "rb").read()
    cases = {
        "garbage": b"\x30\x82\xff\xff" + b"A" * 100,
        "der-trailing": der + b"\x00",
        "der-truncated": der[:-1],
        "pem-trailing-text": pem + b"and more\n",
        "pem-two-certs": pem + pem,
        "pem-key": open(good.key, "rb").read(),
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        r = show(p)
        assert r.rc == 1, (name, r)
        assert "not-a-certificate" in r.err, (name, r)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    r = show(empty)
    assert r.rc == 1 and "empty" in r.err, r
    big = tmp_path / "big"
    big.write_bytes(b"0" * 20000)
    r = show(big)
    assert r.rc == 1 and "larger than" in r.err, r
    r = show(tmp_path / "missing.cer")
    assert r.rc == 1, r
    # blanks around one PEM block are fine (mod_ssl's SSL_CLIENT_CERT has a newline)
    p = tmp_path / "pem-blanks"
    p.write_bytes(b"\n  " + pem + b"\n\n")
    assert show(p).rc == 0
    assert os.path.getsize(good.cer) > 0
