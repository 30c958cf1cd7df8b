#!/usr/bin/python3
"""Sample downstream application (proxied backend) behind "AuthType ICSOE".

mod_icsoe adds these request headers for a request that passed (the prefix
is ICSOEHeaderPrefix, default "X-ICSOE-"):

    X-ICSOE-CURP                 the capturist's CURP
    X-ICSOE-Capturista-Nombre    the capturist's name
    X-ICSOE-Contratista-RFC      the chosen contractor's RFC
    X-ICSOE-Contratista-Nombre   the contractor's name

Header values are ASCII: bytes of non-ASCII UTF-8 text (and '%' itself) are
percent-encoded, so a backend decodes them with urllib.parse.unquote().
Anything a client sends with that prefix was removed by mod_icsoe before
the request reached us.

    informativa_backend.py [--port 9000] [--prefix X-ICSOE-]

listens on 127.0.0.1 only.  GET shows an HTML page; "?format=json" answers
{"headers": {...as received...}, "identity": {...decoded...}} for tests.

    <Location /informativa/>
        AuthType ICSOE
        Require icsoe-contratista
        ProxyPass http://127.0.0.1:9000/
    </Location>
"""
import argparse
import html
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

FIELDS = [
    ("CURP", "CURP del capturista"),
    ("Capturista-Nombre", "Nombre del capturista"),
    ("Contratista-RFC", "RFC del contratista"),
    ("Contratista-Nombre", "Contratista"),
]


def make_handler(prefix):
    class Handler(BaseHTTPRequestHandler):
        server_version = "informativa/1"

        def identity(self):
            out = {}
            for suffix, _ in FIELDS:
                raw = self.headers.get(prefix + suffix)
                out[suffix] = None if raw is None else unquote(raw, errors="strict")
            return out

        def send(self, body, content_type):
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            ident = self.identity()
            if urlsplit(self.path).query == "format=json":
                # every header as received (repeated names joined), to show
                # that nothing a client forged got through
                received = {}
                for k, v in self.headers.items():
                    received.setdefault(k.lower(), []).append(v)
                self.send(json.dumps({"path": self.path, "headers": received,
                                      "identity": ident}, ensure_ascii=False),
                          "application/json; charset=utf-8")
                return
            rows = "\n".join(
                f"<tr><th scope=\"row\">{html.escape(label)}</th><td>"
                f"{html.escape(ident[s]) if ident[s] is not None else '<em>(sin valor)</em>'}"
                f"</td></tr>" for s, label in FIELDS)
            self.send(f"""<!DOCTYPE html>
<html lang="es-MX">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Registro de informativa</title>
<link rel="stylesheet" href="/icsoe/icsoe.css"></head>
<body>
<main>
<h1>Registro de informativa</h1>
<p>Contratista: <strong>{html.escape(ident["Contratista-Nombre"] or "")}</strong></p>
<table>
{rows}
</table>
<p><a href="/icsoe/contratista">Cambiar contratista</a> ·
<a href="/icsoe/inicio">Inicio (cerrar sesión)</a></p>
</main>
</body>
</html>
""", "text/html; charset=utf-8")

        def log_message(self, fmt, *args):
            pass

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--prefix", default="X-ICSOE-")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.prefix))
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
