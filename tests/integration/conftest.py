"""Fixtures for the integration tests.  Each server fixture is
function-scoped (a fresh server per test: they start in milliseconds) and
is always stopped.  The classes live in harness/."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from harness import util  # noqa: E402


@pytest.fixture
def slapd(tmp_path):
    """A private slapd loaded with schema/ (ppolicy, Argon2), see harness/slapd.py."""
    from harness.slapd import Slapd
    s = Slapd(tmp_path / "slapd")
    s.start()
    yield s
    s.stop()


@pytest.fixture
def smtp(tmp_path):
    """An SMTP sink (aiosmtpd) storing each message in a Maildir."""
    from harness.smtp import SmtpSink
    m = SmtpSink(tmp_path / "mail")
    m.start()
    yield m
    m.stop()


@pytest.fixture
def icsoe_conf(tmp_path, slapd, smtp):
    """An icsoe.conf for slapd + smtp; returns harness.conf.IcsoeConf."""
    from harness.conf import IcsoeConf
    return IcsoeConf(tmp_path / "etc", slapd, smtp)


@pytest.fixture
def apache(tmp_path):
    """Factory: apache(conf_snippet) starts a private apache2 with the built
    mod_icsoe; every instance started is stopped at the end."""
    from harness.apache import Apache
    started = []

    def start(**kw):
        a = Apache(tmp_path / f"apache{len(started)}", **kw)
        started.append(a)
        a.start()
        return a
    yield start
    for a in started:
        a.stop()
