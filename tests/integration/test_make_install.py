"""The source install, run for real into a DESTDIR (issue 12).

"make install" must leave what "a2enmod icsoe" needs (mods-available's
icsoe.load generated from the configured module directory, icsoe.conf with
only commented defaults) and the pages snippet; "make uninstall" must refuse,
before removing anything, while a PAM stack still names pam_icsoe (removing
the module then locks every user out, root's su included).  The check reads
ICSOE_PAMD_DIR, pointed here at a fake pam.d."""
import os
import re
import subprocess

import pytest

from harness import util


def clean_env():
    """No flags of an outer "make check" (-w would print directories)."""
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}


def make(*args):
    return subprocess.run(["make", "-s", "-C", util.BUILDDIR, *args],
                          capture_output=True, text=True, timeout=600,
                          env=clean_env())


def makevar(name):
    r = subprocess.run(["make", "-s", "-C", util.BUILDDIR, "--no-print-directory",
                        "-f", "Makefile", "-f", "-", "printvar"],
                       input=f"printvar:\n\t@echo $({name})\n",
                       capture_output=True, text=True, timeout=60,
                       env=clean_env())
    return r.stdout.strip()


def tree(root):
    out = set()
    for d, _, files in os.walk(root):
        out.update(os.path.relpath(os.path.join(d, f), root) for f in files)
    return out


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    dest = tmp_path_factory.mktemp("destdir")
    r = make("install", f"DESTDIR={dest}")
    assert r.returncode == 0, r.stdout + r.stderr
    return str(dest)


def test_install_puts_a2enmod_files_in_mods_available(staged):
    mods = staged + makevar("apacheconfdir") + "/mods-available"
    load = open(os.path.join(mods, "icsoe.load")).read()
    moddir = makevar("apachemoddir")
    assert f"LoadModule icsoe_module {moddir}/mod_icsoe.so" in load
    assert os.path.exists(staged + moddir + "/mod_icsoe.so")
    conf = open(os.path.join(mods, "icsoe.conf")).read()
    # only commented defaults: no directive, no page, outside the IfModule
    live = [l.strip() for l in conf.splitlines()
            if l.strip() and not l.strip().startswith("#")]
    assert live == ["<IfModule icsoe_module>", "</IfModule>"]


def test_install_ships_the_pages_snippet_and_the_man_pages(staged):
    share = staged + makevar("icsoedatadir")
    pages = open(share + "/conf/apache2/icsoe-pages.conf").read()
    assert "SetHandler icsoe-login" in pages
    man = staged + makevar("mandir")
    for page in ("man8/icsoectl.8", "man8/pam_icsoe.8", "man8/mod_icsoe.8",
                 "man5/icsoe.conf.5"):
        assert os.path.exists(os.path.join(man, page)), page


def test_uninstall_refuses_while_common_pam_stack_names_pam_icsoe(staged, tmp_path):
    pamd = tmp_path / "pam.d"
    pamd.mkdir()
    (pamd / "common-auth").write_text(
        "auth [success=2 default=ignore] pam_unix.so nullok\n"
        "auth [success=1 default=ignore] pam_icsoe.so use_first_pass\n")
    (pamd / "common-account").write_text("account required pam_unix.so\n")
    before = tree(staged)
    r = make("uninstall", f"DESTDIR={staged}", f"ICSOE_PAMD_DIR={pamd}")
    assert r.returncode != 0
    assert "REFUSED" in r.stderr and str(pamd / "common-auth") in r.stderr
    assert "pam-auth-update --remove icsoe" in r.stderr
    assert tree(staged) == before  # nothing removed


def test_uninstall_ignores_a_commented_mention(tmp_path):
    pamd = tmp_path / "pam.d"
    pamd.mkdir()
    (pamd / "common-auth").write_text("# auth sufficient pam_icsoe.so\n")
    r = subprocess.run(["sh", util.src("scripts/uninstall-check"), str(pamd)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_uninstall_removes_everything_once_pam_no_longer_uses_it(tmp_path_factory):
    dest = str(tmp_path_factory.mktemp("destdir2"))
    assert make("install", f"DESTDIR={dest}").returncode == 0
    pamd = tmp_path_factory.mktemp("pamd")
    (pamd / "common-auth").write_text("auth required pam_unix.so\n")
    r = make("uninstall", f"DESTDIR={dest}", f"ICSOE_PAMD_DIR={pamd}")
    assert r.returncode == 0, r.stdout + r.stderr
    left = [f for f in tree(dest) if not re.search(r"\.(pyc)$", f)]
    assert left == [], left
