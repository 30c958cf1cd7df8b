"""A test PKI whose certificates look like SAT's e.firma (FIEL) and CSD.

SAT's subject layout (what mod_icsoe and `icsoectl efirma show` read):
  x500UniqueIdentifier (2.5.4.45)  "RFC" or "RFC / RFC-of-representative"
  serialNumber (2.5.4.5)           "CURP" or " / CURP-of-representative"
  OU                               only on a CSD (sello digital)
Keys and certificates are made with python3-cryptography (OpenSSL
underneath) so a test can pick any validity window or a malformed subject;
`openssl_fiel` makes one with the openssl command line, as NOTES-CLIENT-CERT
does, to prove both producers parse the same."""
import datetime
import os
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UID = x509.ObjectIdentifier("2.5.4.45")
NOW = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
DAY = datetime.timedelta(days=1)


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class Identity:
    """A certificate and its key on disk: .crt (PEM), .cer (DER), .key."""

    def __init__(self, directory, label, cert, key):
        self.label = label
        self.cert = cert
        self.crt = _write(os.path.join(directory, f"{label}.crt"),
                          cert.public_bytes(serialization.Encoding.PEM))
        self.cer = _write(os.path.join(directory, f"{label}.cer"),
                          cert.public_bytes(serialization.Encoding.DER))
        self.key = _write(os.path.join(directory, f"{label}.key"), _pem_key(key))
        hexa = format(cert.serial_number, "X")
        self.serial = hexa if len(hexa) % 2 == 0 else "0" + hexa  # whole bytes

    @property
    def pair(self):
        """requests' cert= argument."""
        return (self.crt, self.key)


def sat_subject(name, rfc, rep_rfc=None, curp=None, ou=None, extra=()):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, name),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, name)]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    uid = rfc if rep_rfc is None else f"{rfc} / {rep_rfc}"
    attrs.append(x509.NameAttribute(UID, uid))
    if curp is not None:
        serial = curp if rep_rfc is None else f" / {curp}"
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    attrs.extend(extra)
    return x509.Name(attrs)


class CA:
    def __init__(self, directory, cn="AC de pruebas ICSOE SAT"):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.key = _key()
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                               x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                                  "Servicio de Administracion Tributaria")])
        self.cert = (x509.CertificateBuilder()
                     .subject_name(self.name).issuer_name(self.name)
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(NOW - 2 * DAY).not_valid_after(NOW + 3650 * DAY)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                                  False, False), critical=True)
                     .sign(self.key, hashes.SHA256()))
        tag = cn.replace(" ", "_")
        self.crt = _write(os.path.join(self.dir, f"ca-{tag}.crt"),
                          self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, label, subject, not_before=None, not_after=None, server=False,
              sans=()):
        key = _key()
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.name)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(not_before or NOW - DAY)
             .not_valid_after(not_after or NOW + 365 * DAY))
        if server:
            b = b.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                                critical=False)
        else:
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                critical=False)
        return Identity(self.dir, label, b.sign(self.key, hashes.SHA256()), key)

    def crl(self, label, revoked=()):
        """A CRL (PEM) listing the given Identities as revoked."""
        b = (x509.CertificateRevocationListBuilder().issuer_name(self.name)
             .last_update(NOW - DAY).next_update(NOW + 30 * DAY))
        for ident in revoked:
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(ident.cert.serial_number)
                .revocation_date(NOW - DAY).build())
        crl = b.sign(self.key, hashes.SHA256())
        return _write(os.path.join(self.dir, f"{label}.crl"),
                      crl.public_bytes(serialization.Encoding.PEM))

    def server(self, label="server"):
        import ipaddress
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        return self.issue(label, subject, server=True,
                          sans=[x509.DNSName("localhost"),
                                x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])

    def fiel(self, label, name, rfc, rep_rfc=None, curp=None, **kw):
        return self.issue(label, sat_subject(name, rfc, rep_rfc, curp), **kw)

    def csd(self, label, name, rfc, rep_rfc=None, curp=None, **kw):
        ou = f"CSD01_{rfc}"
        return self.issue(label, sat_subject(name, rfc, rep_rfc, curp, ou=ou), **kw)


def openssl_fiel(directory, label, name, rfc, rep_rfc, curp, days=30):
    """A self-signed FIEL look-alike made by the openssl command line with
    the -subj escaping of NOTES-CLIENT-CERT ('/' inside a value is '\\/')."""
    crt = os.path.join(str(directory), f"{label}.crt")
    key = os.path.join(str(directory), f"{label}.key")
    subj = (f"/CN={name}/O={name}/x500UniqueIdentifier={rfc} \\/ {rep_rfc}"
            f"/serialNumber= \\/ {curp}")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                    "-days", str(days), "-subj", subj], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    der = os.path.join(str(directory), f"{label}.cer")
    subprocess.run(["openssl", "x509", "-in", crt, "-outform", "DER", "-out", der], check=True)
    return crt, der, key


def contractor_vhost(port, pki_dir, ca_crt, verify="require"):
    """Listen + the HTTPS virtual host of the contractor's page, the
    e.firma asked for at the handshake (mod_ssl), as the demo, the e2e and
    the integration tests run it.  The caller adds the global
    "SSLSessionCache none" once."""
    return f"""
Listen 127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
    ServerName 127.0.0.1
    SSLEngine on
    SSLCertificateFile {pki_dir}/server.crt
    SSLCertificateKeyFile {pki_dir}/server.key
    SSLCACertificateFile {ca_crt}
    SSLVerifyClient {verify}
    SSLVerifyDepth 2
    <Location /icsoe/capturistas>
        SetHandler icsoe-capturists
    </Location>
    <Location /icsoe/icsoe.css>
        SetHandler icsoe-css
    </Location>
</VirtualHost>
"""
