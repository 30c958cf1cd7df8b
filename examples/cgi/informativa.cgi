#!/usr/bin/python3
"""Sample downstream application (CGI) behind "AuthType ICSOE".

mod_icsoe hands the signed-in capturist and the chosen contractor to CGI
programs as environment variables:

    REMOTE_USER, ICSOE_CURP      the capturist's CURP
    ICSOE_CAPTURISTA_NOMBRE      the capturist's name (UTF-8)
    ICSOE_CONTRATISTA_RFC        the chosen contractor's RFC
    ICSOE_CONTRATISTA_NOMBRE     the contractor's name (UTF-8)

This page shows them (HTML-escaped: names may contain '&', '<', accents).
"?format=json" answers the same values as JSON, for tests and scripts.

Install, e.g.:
    ScriptAlias /cgi/ /usr/lib/cgi-bin/icsoe/
    <Location /cgi/>
        AuthType ICSOE
        Require icsoe-contratista
    </Location>
"""
import html
import json
import os
import sys

FIELDS = [
    ("REMOTE_USER", "Usuario (REMOTE_USER)"),
    ("ICSOE_CURP", "CURP del capturista"),
    ("ICSOE_CAPTURISTA_NOMBRE", "Nombre del capturista"),
    ("ICSOE_CONTRATISTA_RFC", "RFC del contratista"),
    ("ICSOE_CONTRATISTA_NOMBRE", "Contratista"),
]


def env(name):
    """An environment value as text (Apache passes the UTF-8 bytes)."""
    raw = os.environb.get(name.encode())
    return None if raw is None else raw.decode("utf-8", "replace")


def out(body, content_type):
    data = body.encode("utf-8")
    sys.stdout.buffer.write(
        f"Content-Type: {content_type}\r\nCache-Control: no-store\r\n"
        f"Content-Length: {len(data)}\r\n\r\n".encode("ascii") + data)


def main():
    values = {name: env(name) for name, _ in FIELDS}
    if os.environ.get("QUERY_STRING") == "format=json":
        # the identity headers as the CGI sees them too (HTTP_X_ICSOE_*)
        values["headers"] = {k.decode(): v.decode("utf-8", "replace")
                             for k, v in os.environb.items()
                             if k.upper().startswith(b"HTTP_X_ICSOE")}
        out(json.dumps(values, ensure_ascii=False), "application/json; charset=utf-8")
        return
    rows = "\n".join(
        f"<tr><th scope=\"row\">{html.escape(label)}</th>"
        f"<td>{html.escape(values[name]) if values[name] is not None else '<em>(sin valor)</em>'}</td></tr>"
        for name, label in FIELDS)
    nombre = values["ICSOE_CONTRATISTA_NOMBRE"] or ""
    out(f"""<!DOCTYPE html>
<html lang="es-MX">
<head><meta charset="utf-8"><title>Registro de informativa</title></head>
<body>
<h1>Registro de informativa</h1>
<p>Estás registrando la informativa de <strong>{html.escape(nombre)}</strong>.</p>
<table>
{rows}
</table>
</body>
</html>
""", "text/html; charset=utf-8")


if __name__ == "__main__":
    main()
