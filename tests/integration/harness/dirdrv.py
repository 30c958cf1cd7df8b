"""Runs tests/integration/dirdrv (libicsoe's config and directory calls)."""
import subprocess
import time

from . import util


def path():
    return util.built("tests/integration/dirdrv")


def parse(line):
    """'status=ok a=1 name=Juan Pérez' -> dict; the last key (name, reason, escaped,
    error, message) takes the rest of the line."""
    out = {}
    rest = line.strip()
    while rest:
        key, _, rest = rest.partition("=")
        if key in ("name", "reason", "error", "message", "escaped"):
            out[key] = rest
            break
        val, _, rest = rest.partition(" ")
        out[key] = val
    return out


class Result(dict):
    def __init__(self, proc, elapsed):
        lines = proc.stdout.strip().splitlines()
        super().__init__(parse(lines[-1]) if lines else {})
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.returncode = proc.returncode
        self.elapsed = elapsed

    @property
    def status(self):
        return self.get("status")


def run(conf, *args, input=None, timeout=60):
    """dirdrv -c conf args...; returns a Result (dict of the output line
    plus .stdout, .stderr, .returncode, .elapsed)."""
    argv = [path()]
    if conf is not None:
        argv += ["-c", str(conf)]
    argv += [str(a) for a in args]
    t0 = time.monotonic()
    proc = subprocess.run(argv, input=input, capture_output=True, text=True,
                          timeout=timeout)
    return Result(proc, time.monotonic() - t0)


def ok(r):
    """r, after asserting dirdrv answered status=ok (its output otherwise)."""
    assert r.status == "ok", (r.stdout, r.stderr)
    return r


class Loop:
    """dirdrv verify-loop CURP: one verification per line written, in one
    process (to test reconnection)."""

    def __init__(self, conf, curp):
        self.proc = subprocess.Popen([path(), "-c", str(conf), "verify-loop", curp],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)

    def verify(self, password):
        self.proc.stdin.write(password + "\n")
        self.proc.stdin.flush()
        return parse(self.proc.stdout.readline())

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return err
