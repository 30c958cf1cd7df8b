"""icsoe.conf for the test servers (slapd, and the SMTP sink when given)."""
import os


class IcsoeConf:
    """Writes DIR/icsoe.conf pointing at slapd (and smtp when it has .url),
    with the reader as binddn and the writer as writer_binddn.

    .path is the file; .write(**overrides) rewrites it with keys changed,
    added (any keyword, e.g. password_classes="digit") or removed (None).
    A list value for "uri" gives several "uri" values on one line."""

    def __init__(self, directory, slapd, smtp=None, **overrides):
        self.dir = os.fspath(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.path = os.path.join(self.dir, "icsoe.conf")
        self.slapd = slapd
        self.smtp = smtp
        self.keys = {
            "uri": slapd.uri,
            "base": slapd.base,
            "binddn": slapd.reader_dn,
            "bindpw_file": self._secret_file("bindpw", slapd.reader_pw),
            "writer_binddn": slapd.binddn,
            "writer_bindpw_file": self._secret_file("writerpw", slapd.bindpw),
            "timeout": "3",
        }
        if smtp is not None and getattr(smtp, "url", None):
            self.keys["smtp_url"] = smtp.url
        self.keys.update({
            "mail_from": "ICSOE <icsoe@icsoe.test>",
            "activation_url": "http://127.0.0.1/icsoe/activar",
            "site_name": "ICSOE",
        })
        self.write(**overrides)

    def _secret_file(self, name, secret):
        path = os.path.join(self.dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
        os.chmod(path, 0o600)
        return path

    def write(self, **overrides):
        for key, val in overrides.items():
            if val is None:
                self.keys.pop(key, None)
            else:
                self.keys[key] = val
        lines = ["# written by tests/integration/harness/conf.py"]
        for key, val in self.keys.items():
            if isinstance(val, (list, tuple)):
                val = " ".join(str(v) for v in val)
            lines.append(f"{key} {val}")
        with open(self.path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return self.path

    def __str__(self):
        return self.path

    def __fspath__(self):
        return self.path
