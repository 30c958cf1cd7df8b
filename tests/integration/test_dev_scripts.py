"""The developer commands behave for an ordinary user with sudo as for root
(issue 19): scripts/deps passes DEBIAN_FRONTEND through sudo and shows
apt's output, scripts/demo refuses to run under sudo and explains a state
directory it cannot wipe (never a traceback), and scripts/test-failures
names the failing tests with their logs, never the passing ones.

scripts/deps is run against stand-ins for dpkg-query, id, sudo and apt-get
placed first on PATH: the real ones would install packages.  The stand-in
sudo resets the environment as sudo's env_reset does."""
import os
import shutil
import subprocess
import tempfile

import pytest

from harness import util

DEPS = util.src("scripts/deps")
DEMO = util.src("scripts/demo")
DEMO_PY = util.src("scripts/demo.py")
FAILURES = util.src("scripts/test-failures")


def stub(bindir, name, body):
    path = os.path.join(bindir, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o755)


@pytest.fixture
def fake_apt(tmp_path):
    """A PATH where every package is missing, the user is uid 1000 with
    sudo, and apt-get records its arguments and DEBIAN_FRONTEND."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "apt-calls"
    fail = tmp_path / "apt-fail"    # if it exists: the package install fails
    stub(bindir, "dpkg-query", "exit 1\n")
    stub(bindir, "id", '[ "$1" = -u ] && { echo 1000; exit 0; }\nexec /usr/bin/id "$@"\n')
    # sudo's env_reset: only what the command line sets survives
    stub(bindir, "sudo", 'exec /usr/bin/env -i PATH="$PATH" "$@"\n')
    stub(bindir, "apt-get",
         f'echo "frontend=${{DEBIAN_FRONTEND:-unset}} args=$*" >> {calls}\n'
         'echo "Get:1 http://deb.debian.org/debian bookworm/main fake 1.0"\n'
         f'case " $* " in *" install "*) [ -e {fail} ] && {{\n'
         f'  echo "E: Unable to locate package $(cat {fail})" >&2; exit 100; }} ;; esac\n'
         "exit 0\n")
    return bindir, calls, fail


def run_deps(bindir, *args):
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "LANG": "C"}
    return subprocess.run([DEPS, *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_deps_passes_the_frontend_through_sudo_and_shows_apt(fake_apt):
    bindir, calls, fail = fake_apt
    r = run_deps(bindir, "build")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = calls.read_text().splitlines()
    assert len(lines) == 2, lines
    update, install = lines
    for line in lines:
        # without `env DEBIAN_FRONTEND=...` after sudo this is "unset", and
        # slapd's debconf would wait for an answer nobody sees
        assert line.startswith("frontend=noninteractive "), line
        assert "-o DPkg::Lock::Timeout=600" in line, line
    assert " update" in update
    assert " install -y" in install and " libcmocka-dev" in install
    # apt's progress reaches the user, not /dev/null
    assert r.stdout.count("Get:1 http://deb.debian.org") == 2
    assert "scripts/deps: installed:" in r.stdout


def test_deps_shows_apt_errors_and_fails(fake_apt):
    bindir, calls, fail = fake_apt
    fail.write_text("libcmocka-dev")
    r = run_deps(bindir, "build")
    assert r.returncode != 0
    assert "E: Unable to locate package libcmocka-dev" in r.stderr
    assert "scripts/deps: FAILED: apt-get install" in r.stderr
    assert "scripts/deps: installed:" not in r.stdout


def test_deps_without_sudo_says_what_to_do(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    stub(bindir, "dpkg-query", "exit 1\n")
    stub(bindir, "id", "echo 1000\n")
    os.symlink(shutil.which("grep", path="/usr/bin:/bin"), bindir / "grep")
    r = subprocess.run([DEPS, "build"], capture_output=True, text=True,
                       env={"PATH": str(bindir)}, timeout=60)
    assert r.returncode == 1
    assert "sudo is not installed" in r.stderr
    assert "apt-get install sudo build-essential" in r.stderr


# ---- scripts/demo under sudo ----

def test_demo_refuses_to_run_under_sudo(tmp_path):
    """Under sudo, _build and _demo would end up owned by root; the demo
    says so in one line and touches nothing."""
    build, state = tmp_path / "build", tmp_path / "state"
    args = [DEMO, "--check", "--state", str(state)]
    if os.geteuid() == 0:
        # what sudo leaves in the environment of the command it runs
        env = dict(os.environ, SUDO_USER="icsoe-someone", SUDO_UID="1000",
                   ICSOE_BUILDDIR=str(build))
        r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    else:
        if subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode != 0:
            pytest.skip("needs root or passwordless sudo")
        r = subprocess.run(["sudo", "-n", "env", f"ICSOE_BUILDDIR={build}", *args],
                           capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    assert "do not run it with sudo" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert not build.exists() and not state.exists()


def test_demo_explains_a_state_it_cannot_wipe():
    """A state directory with files the user cannot remove (what
    `sudo scripts/demo` left) gets a one-line explanation, no traceback,
    and is left as it was."""
    # a world-traversable place: as root the demo runs as nobody
    top = tempfile.mkdtemp(prefix="icsoe-demo-state-")
    os.chmod(top, 0o755)
    state = os.path.join(top, "state")
    locked = os.path.join(state, "etc")
    os.makedirs(locked)
    for name, text in ((".icsoe-demo", "marker\n"), ("etc/bindpw", "secret\n")):
        with open(os.path.join(state, name), "w") as f:
            f.write(text)
    cmd = ["/usr/bin/python3", DEMO_PY, "--check", "--state", state]
    try:
        if os.geteuid() == 0:
            # the real trap: files of another user (root), run as someone else
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                   "--reset-env"] + cmd
        else:
            os.chmod(locked, 0o500)  # nothing inside can be removed
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           cwd="/")
        assert r.returncode == 1, r.stdout + r.stderr
        assert "Traceback" not in r.stdout + r.stderr
        assert r.stderr.count("\n") == 1, r.stderr
        assert f"demo: cannot prepare {state}: Permission denied" in r.stderr
        assert f"sudo rm -rf {state}" in r.stderr
        assert os.path.exists(os.path.join(locked, "bindpw"))
    finally:
        os.chmod(locked, 0o755)
        shutil.rmtree(top)


# ---- scripts/test-failures ----

def write_trs(build, name, result, log):
    base = os.path.join(build, name)
    os.makedirs(os.path.dirname(base), exist_ok=True)
    with open(base + ".trs", "w") as f:
        f.write(f":test-result: {result}\n:global-test-result: {result}\n"
                ":recheck: no\n:copy-in-global-log: no\n")
    with open(base + ".log", "w") as f:
        f.write(log)


def test_failure_report_names_failing_tests_with_their_logs(tmp_path):
    build = tmp_path / "build"
    write_trs(build, "tests/unit/test_aaa", "PASS", "LOG-OF-A-PASSING-TEST\n")
    write_trs(build, "tests/unit/test_bbb", "FAIL",
              "[ RUN      ] test_key_files\n[  FAILED  ] test_key_files\n")
    write_trs(build, "tests/fuzz/fuzz_zzz", "PASS", "LOG-OF-A-PASSING-FUZZ\n")
    # a real pytest JUnit report: one passing and one failing test
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_sample.py").write_text(
        "def test_fine():\n    assert True\n\n"
        "def test_broken():\n    assert 1 + 1 == 3, 'SUMA-MAL'\n")
    xml = build / "tests" / "integration" / "results.xml"
    # its own --basetemp: pytest would otherwise chmod 0700 the shared
    # /tmp/pytest-of-USER that Apache (as www-data) is traversing right now
    subprocess.run(["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    f"--basetemp={tmp_path / 'inner'}", f"--junitxml={xml}", str(suite)],
                   capture_output=True, cwd=tmp_path)
    assert xml.exists()
    r = subprocess.run([FAILURES, str(build)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "failing tests: 1 unit, 1 integration" in out
    assert "FAIL: tests/unit/test_bbb" in out
    assert "[  FAILED  ] test_key_files" in out
    assert "test_sample::test_broken" in out and "SUMA-MAL" in out
    assert "LOG-OF-A-PASSING" not in out
    assert "test_fine" not in out and "test_aaa" not in out


def test_failure_report_without_failing_tests_points_to_make(tmp_path):
    write_trs(tmp_path, "tests/unit/test_aaa", "PASS", "fine\n")
    r = subprocess.run([FAILURES, str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "no failing test found" in r.stdout and "fine" not in r.stdout
