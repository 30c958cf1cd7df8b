"""No activation or recovery token in anything Apache logs (issue 13,
defect 3).  A link ?t=TOKEN that is still unspent is an account takeover
for whoever reads the logs: the access log (%r, %U%q, %{Referer}i...) and
the error log, even at LogLevel trace8, must never hold one."""
import re
import types

import pytest

from harness.pam import add_capturist
from test_mod_pages import (ACTIVATE, CURP_A, GOOD_PW, NAME_A, OTHER_PW, RECOVER,
                            Site, local, maildrv, store_token, token_of)

# Every request field mod_log_config can print that may carry a query.
ALL_FIELDS = ('LogFormat "r=%r u=%U q=%q U%q=%U%q ref=%{Referer}i f=%f '
              'uri=%{REQUEST_URI}e qs=%{QUERY_STRING}e redirect=%>U%>q" everything')


@pytest.fixture
def env(tmp_path, slapd, smtp, icsoe_conf):
    return types.SimpleNamespace(slapd=slapd, smtp=smtp, conf=icsoe_conf, tmp=tmp_path)


def trace_apache(apache, env):
    snippet = (f"LogLevel trace8\n{ALL_FIELDS}\n"
               "CustomLog @WORKDIR@/everything.log everything\n")
    return apache(icsoe_conf_path=env.conf.path, revalidate=0, conf_snippet=snippet)


def logs(a):
    with open(f"{a.workdir}/everything.log", encoding="utf-8", errors="replace") as f:
        everything = f.read()
    return a.access_log() + everything + a.error_log()


def assert_no_token(a, tokens):
    text = logs(a)
    assert "/icsoe/activar" in text     # the requests were logged at all
    for t in tokens:
        # also a prefix of it, in case a log line truncates the value
        assert t[:16] not in text, [l for l in text.splitlines() if t[:16] in l][:3]


def test_tokens_never_reach_the_logs_after_activation_and_recovery(env, apache):
    a = trace_apache(apache, env)
    site = Site(a)
    tokens = []

    # activation: the mailed link twice (GET), then the form (POST)
    add_capturist(env.slapd, CURP_A, status="pending", cn=NAME_A)
    before = env.smtp.count()
    maildrv(env, "issue", CURP_A, "activation", "mail")
    link = env.smtp.links(env.smtp.wait_for(before + 1)[-1])[0]
    tokens.append(token_of(link))
    site.get(local(link))
    r, csrf = site.form(local(link))
    r = site.post(ACTIVATE, {"csrf": csrf, "t": tokens[-1], "password": GOOD_PW,
                             "password_confirm": GOOD_PW})
    assert "Tu contraseña se actualizó correctamente" in r.text, r.text[:500]
    # the spent link again, and with the token elsewhere in the query
    site.get(local(link))
    site.get(f"{ACTIVATE}?x=1&t={tokens[-1]}&y=2")
    site.get(f"{ACTIVATE}?%74={tokens[-1]}")

    # recovery: ask, follow the reset link, set a new password
    _, c = site.form(RECOVER)
    before = env.smtp.count()
    site.post(RECOVER, {"csrf": c, "curp": CURP_A, "email": f"{CURP_A.lower()}@example.test"})
    link = env.smtp.links(env.smtp.wait_for(before + 1)[-1])[0]
    tokens.append(token_of(link))
    r, csrf = site.form(local(link))
    r = site.post(ACTIVATE, {"csrf": csrf, "t": tokens[-1], "password": OTHER_PW,
                             "password_confirm": OTHER_PW})
    assert "Tu contraseña se actualizó correctamente" in r.text, r.text[:500]

    # an expired token (the lookup-failure path) and a HEAD request
    tokens.append(store_token(env, CURP_A, purpose="reset", lifetime=-60))
    site.get(f"{ACTIVATE}?t={tokens[-1]}")
    site.s.head(a.url(f"{ACTIVATE}?t={tokens[-1]}"), timeout=20)

    a.stop()        # flush every log
    assert re.search(r"activar\?\S*REDACTED", logs(a)), logs(a)[-3000:]
    assert_no_token(a, tokens)


def test_token_redacted_wherever_the_page_is_mapped_and_other_queries_kept(env, apache):
    """The handler redacts too (a site may map icsoe-activate elsewhere
    than activation_url's path); other pages keep their query in the logs,
    and core's request-line trace is replaced, not lost."""
    snippet = (f"LogLevel trace8\n{ALL_FIELDS}\n"
               "CustomLog @WORKDIR@/everything.log everything\n"
               "<Location /otra/activacion>\n    SetHandler icsoe-activate\n</Location>\n")
    a = apache(icsoe_conf_path=env.conf.path, revalidate=0, conf_snippet=snippet)
    add_capturist(env.slapd, CURP_A, status="pending", cn=NAME_A)
    token = store_token(env, CURP_A)
    site = Site(a)
    r = site.get(f"/otra/activacion?t={token}")
    assert r.status_code == 200 and "Guardar Contraseña" in r.text
    site.s.get(a.url("/index.html?t=visible-en-el-log&x=1"), timeout=20)
    a.stop()
    text = logs(a)
    assert token[:16] not in text
    assert "/otra/activacion?REDACTED" in text
    assert "GET /index.html?t=visible-en-el-log&x=1 HTTP/1.1" in a.access_log()
    # core's trace5 request line is ours now, with no query at all
    assert "Request received from client: GET /index.html?REDACTED HTTP/1.1" in a.error_log()
