"""Readable copies of every message the demo's SMTP sink receives.

The sink (tests/integration/harness/smtp.py, aiosmtpd's Mailbox handler)
stores messages in a Maildir, which is awkward to read by hand.  MailExporter
watches that Maildir and writes each new message twice into a folder:

    001-crea-tu-contrasena-de-icsoe.eml    the message as delivered (open it
                                           with any mail client)
    001-crea-tu-contrasena-de-icsoe.html   its HTML part (or the text part in
                                           <pre>) with From/To/Date/Subject
                                           on top: open it in a browser

Files are written to a temporary name and renamed, so a reader never sees
half a message."""
import email
import email.policy
import html
import os
import re
import threading
import unicodedata


def slug(text, limit=48):
    """ASCII file-name part from a (Spanish) subject."""
    text = unicodedata.normalize("NFKD", text or "mensaje")
    text = text.encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return (text[:limit].rstrip("-")) or "mensaje"


def _part(msg, kind):
    part = msg.get_body(preferencelist=(kind,))
    return None if part is None else part.get_content()


def render_html(msg):
    """A standalone HTML page: the envelope headers, then the HTML body (or
    the text body, escaped)."""
    head = "".join(
        f"<tr><th scope=\"row\">{name}</th><td>{html.escape(str(msg.get(name, '')))}</td></tr>\n"
        for name in ("From", "To", "Date", "Subject"))
    body = _part(msg, "html")
    if body is None:
        body = f"<pre>{html.escape(_part(msg, 'plain') or '')}</pre>"
    else:
        # keep the message's own document body; drop its <html>/<head>
        m = re.search(r"<body[^>]*>(.*)</body>", body, re.S | re.I)
        body = m.group(1) if m else body
    subject = html.escape(str(msg.get("Subject", "")))
    return f"""<!DOCTYPE html>
<html lang="es-MX">
<head><meta charset="utf-8"><title>{subject}</title></head>
<body>
<table>
{head}</table>
<hr>
{body}
</body>
</html>
"""


def _write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class MailExporter:
    """Copies new messages of an harness.smtp.SmtpSink into outdir, from a
    background thread (poll every `interval` seconds) or on export_new()."""

    def __init__(self, sink, outdir, interval=0.2):
        self.sink = sink
        self.outdir = os.fspath(outdir)
        self.interval = interval
        self.done = 0
        self.files = []          # [(eml_path, html_path, subject)]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        os.makedirs(self.outdir, exist_ok=True)

    def export_new(self):
        """Write the messages that arrived since the last call; returns the
        (eml, html, subject) triples written now."""
        with self._lock:
            raws = self.sink.raw_messages()
            written = []
            for raw in raws[self.done:]:
                self.done += 1
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                subject = str(msg.get("Subject", ""))
                base = os.path.join(self.outdir, f"{self.done:03d}-{slug(subject)}")
                _write(base + ".eml", raw)
                _write(base + ".html", render_html(msg).encode("utf-8"))
                written.append((base + ".eml", base + ".html", subject))
            self.files.extend(written)
            return written

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self.export_new()
            except OSError:
                pass   # the sink is stopping; the final export_new() reports

    def start(self):
        self._thread = threading.Thread(target=self._run, name="mail-export",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
