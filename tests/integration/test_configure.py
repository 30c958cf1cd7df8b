"""configure for distributions (issue 12): cmocka only for the unit tests
(without it the build goes on and "make check" says the unit tests were
skipped), and --disable-werror for compilers newer than CI's while -Werror
stays the default.  Runs the real configure in a temporary directory, with
a pkg-config search path that has every .pc file of this machine but
cmocka's."""
import glob
import os
import shutil
import subprocess

import pytest

from harness import util


def pc_dirs():
    r = subprocess.run(["pkg-config", "--variable", "pc_path", "pkg-config"],
                       capture_output=True, text=True, check=True)
    return [d for d in r.stdout.strip().split(":") if os.path.isdir(d)]


@pytest.fixture
def no_cmocka_pc(tmp_path):
    pcdir = tmp_path / "pc"
    pcdir.mkdir()
    for d in pc_dirs():
        for pc in glob.glob(os.path.join(d, "*.pc")):
            if os.path.basename(pc) != "cmocka.pc" and not (pcdir / os.path.basename(pc)).exists():
                shutil.copy(pc, pcdir)
    return str(pcdir)


def configure(builddir, *args, env=None):
    if not os.path.exists(util.src("configure")):
        pytest.skip("no configure in the source tree (out-of-tree autoreconf)")
    os.makedirs(builddir, exist_ok=True)
    return subprocess.run([util.src("configure"), "-q", *args], cwd=builddir,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def makevar(builddir, name):
    for line in open(os.path.join(builddir, "Makefile")):
        if line.startswith(name + " ="):
            return line.split("=", 1)[1].strip()
    return None


def test_without_cmocka_and_with_disable_werror(tmp_path, no_cmocka_pc):
    b = str(tmp_path / "b")
    r = configure(b, "--disable-werror", env={"PKG_CONFIG_LIBDIR": no_cmocka_pc})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "cmocka not found: the unit tests will be skipped" in r.stderr
    assert "-Werror" not in makevar(b, "WARN_CFLAGS")
    assert "-Wall" in makevar(b, "WARN_CFLAGS")
    # the unit tests are out of TESTS and make check says so
    tests = subprocess.run(["make", "-s", "--no-print-directory", "-f", "Makefile",
                            "-f", "-", "printtests"], cwd=b, input="printtests:\n\t@echo $(TESTS)\n",
                           capture_output=True, text=True, timeout=120,
                           env={k: v for k, v in os.environ.items()
                                if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}).stdout
    assert "tests/fuzz/fuzz_curp" in tests and "tests/unit/" not in tests, tests
    r = subprocess.run(["make", "-n", "check-local"], cwd=b, capture_output=True,
                       text=True, timeout=120)
    assert "unit tests (tests/unit) were SKIPPED" in r.stdout


def test_werror_is_the_default(tmp_path):
    b = str(tmp_path / "b")
    r = configure(b)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "-Werror" in makevar(b, "WARN_CFLAGS")
