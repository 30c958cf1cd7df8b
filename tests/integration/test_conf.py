"""The configuration file parser (lib/conf.c) through dirdrv conf-check:
defaults, every key, and every error naming the file and the line."""
import os

import pytest

from harness import dirdrv

URI = "ldap://127.0.0.1:1"
BASE = "dc=icsoe,dc=test"


@pytest.fixture
def secret(tmp_path):
    def make(content="s3cret-service-password\n", mode=0o600, name="bindpw"):
        p = tmp_path / name
        p.write_text(content)
        p.chmod(mode)
        return str(p)
    return make


@pytest.fixture
def write(tmp_path):
    def make(text, name="icsoe.conf"):
        p = tmp_path / name
        p.write_bytes(text.encode() if isinstance(text, str) else text)
        return str(p)
    return make


def check(path):
    return dirdrv.run(path, "conf-check")


def error(path, line, fragment):
    r = check(path)
    assert r.status == "invalid_input" and r.returncode == 1, r.stdout
    assert r["error"].startswith(f"{path}:{line}: "), r["error"]
    assert fragment in r["error"], r["error"]
    return r["error"]


def test_minimal_file_gets_the_documented_defaults(write):
    r = check(write(f"# comment\n\nuri {URI}\n  base   {BASE}  \n"))
    assert r.status == "ok", r.stdout
    assert (r["base"], r["uris"], r["timeout"], r["min"], r["max"], r["classes"]) == (
        BASE, URI, "5", "15", "128", "0")
    assert (r["token_lifetime"], r["reset_token_lifetime"], r["recover_interval"]) == (
        str(72 * 3600), "3600", "900")
    assert (r["tls_reqcert"], r["ldap_starttls"], r["smtp_starttls"], r["smtp_timeout"]) == (
        "0", "0", "2", "10")
    assert r["name"] == "ICSOE" and r["blocklist"] == "none"
    assert (r["server_timeout"], r["server_down_time"], r["failback_interval"]) == (
        "2", "30", "30")


@pytest.mark.parametrize("extra,expected", [
    ("smtp_url smtp://mail.icsoe.test\n", "2"),          # another host: required
    ("smtp_url smtp://203.0.113.9:587\n", "2"),
    ("smtp_url smtp://127.evil.test\n", "2"),
    ("smtp_url smtp://127.0.0.1.evil.test:25\n", "2"),
    ("smtp_url smtp://127.0.0.1:25\n", "0"),             # this host: nobody on the path
    ("smtp_url smtp://localhost\n", "0"),
    ("smtp_url smtp://[::1]:2525\n", "0"),
    ("smtp_url smtp://127.0.0.1:25\nsmtp_user icsoe\nsmtp_pass_file @SECRET@\n", "2"),
    ("smtp_url smtp://mail.icsoe.test\nsmtp_starttls try\n", "1"),   # explicit only
    ("smtp_url smtp://mail.icsoe.test\nsmtp_starttls no\n", "0"),
    ("smtp_url smtps://mail.icsoe.test\nsmtp_user icsoe\nsmtp_pass_file @SECRET@\n"
     "smtp_starttls no\n", "0"),                       # implicit TLS
])
def test_smtp_starttls_is_required_unless_loopback_or_explicit(write, secret, extra, expected):
    """SMTP downgrade (issue 13, defect 4): an attacker on the path strips
    STARTTLS and reads the links and the SMTP AUTH password.  "try" was the
    default; now STARTTLS is required for every other host and whenever
    smtp_user is set, and "try" must be written."""
    extra = extra.replace("@SECRET@", secret("smtp-pass", name="smtppw"))
    r = check(write(f"uri {URI}\nbase {BASE}\n{extra}"))
    assert r.status == "ok", r.stdout
    assert r["smtp_starttls"] == expected


@pytest.mark.parametrize("mode", ["try", "no"])
def test_smtp_auth_in_clear_to_another_host_is_refused(write, secret, mode):
    path = write(f"uri {URI}\nbase {BASE}\nsmtp_url smtp://mail.icsoe.test:587\n"
                 f"smtp_user icsoe\nsmtp_pass_file {secret('smtp-pass', name='smtppw')}\n"
                 f"smtp_starttls {mode}\n")
    error(path, 6, "smtp_user over smtp:// to another host needs smtp_starttls required")


def test_failover_keys_are_validated(write):
    head = f"uri {URI} ldap://127.0.0.2/\nbase {BASE}\n"
    r = check(write(head + "timeout 4\nserver_timeout 3\nserver_down_time 5\n"
                    "failback_interval 7\n"))
    assert (r["server_timeout"], r["server_down_time"], r["failback_interval"]) == (
        "3", "5", "7"), r.stdout
    # one server may not use up the whole call: the next uri would never be tried
    error(write(head + "timeout 3\nserver_timeout 4\n"), 4,
          "server_timeout 4 is greater than timeout 3")
    error(write(head + "server_down_time 0\n"), 3, "server_down_time")
    error(write(head + "failback_interval 3601\n"), 3, "failback_interval")
    error(write(head + "server_timeout x\n"), 3, "server_timeout")
    # a short timeout alone lowers the default server_timeout with it
    r = check(write(head + "timeout 1\n"))
    assert (r["timeout"], r["server_timeout"]) == ("1", "1"), r.stdout


def test_every_key(write, secret, tmp_path):
    bl = tmp_path / "blocklist.txt"
    bl.write_text("password123456789\nqwertyuiopasdfgh\n")
    cacert = tmp_path / "ca.pem"
    cacert.write_text("x")
    path = write(f"""\
uri ldap://127.0.0.1:1 ldaps://ldap2.icsoe.test
uri ldapi://%2Frun%2Fslapd%2Fldapi
base {BASE}
binddn cn=icsoe-service,{BASE}
bindpw_file {secret()}
timeout 7
tls_reqcert allow
tls_cacertfile {cacert}
ldap_starttls required
smtp_url smtps://mail.icsoe.test:465
smtp_user icsoe
smtp_pass_file {secret("smtp-pass", name="smtppw")}
smtp_starttls no
smtp_timeout 20
mail_from ICSOE <icsoe@icsoe.test>
mail_template_dir /etc/icsoe/mail
activation_url https://icsoe.test/icsoe/activar?x=1
token_lifetime 86400
reset_token_lifetime 1800
recover_interval 60
site_name ICSOE Pruebas
password_min_length 20
password_max_length 256
password_classes lower, upper,digit,symbol
password_blocklist {bl}
""")
    r = check(path)
    assert r.status == "ok", r.stdout
    assert r["nuri"] == "3"
    assert r["uris"] == "ldap://127.0.0.1:1,ldaps://ldap2.icsoe.test,ldapi://%2Frun%2Fslapd%2Fldapi"
    assert r["bindpw_len"] == str(len("s3cret-service-password"))  # newline stripped
    assert r["smtp_pass_len"] == str(len("smtp-pass"))
    assert (r["timeout"], r["tls_reqcert"], r["ldap_starttls"], r["smtp_starttls"]) == (
        "7", "3", "2", "0")
    assert (r["min"], r["max"], r["classes"], r["blocklist"]) == ("20", "256", "15", "loaded")
    assert r["name"] == "ICSOE Pruebas"
    assert r["login_url"] == "https://icsoe.test/icsoe/ingresar"


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.conf")
    r = check(path)
    assert r.status == "invalid_input"
    assert r["error"] == f"{path}: No such file or directory"


def test_unknown_keyword(write):
    path = write(f"uri {URI}\nbase {BASE}\nurii {URI}\n")
    error(path, 3, "unknown keyword 'urii'")


@pytest.mark.parametrize("value,fragment", [
    ("abc", "'abc' is not an integer"), ("5x", "'5x' is not an integer"),
    ("+5", "'+5' is not an integer"), (" 0x10", "'0x10' is not an integer"),
    ("99999999999999999999", "'99999999999999999999' is not an integer"), ("0", "0 is out of range (1..300)"),
    ("301", "301 is out of range (1..300)"), ("-1", "-1 is out of range"),
])
def test_bad_integers(write, value, fragment):
    path = write(f"uri {URI}\nbase {BASE}\ntimeout {value}\n")
    error(path, 3, "timeout: " + fragment)


def test_missing_value(write):
    error(write(f"uri {URI}\nbase\n"), 2, "base: missing value")


def test_duplicate_keyword(write):
    path = write(f"uri {URI}\nbase {BASE}\n# again\nbase dc=other\n")
    error(path, 4, "duplicate keyword 'base' (first set on line 2)")
    error(write(f"uri {URI}\nbase {BASE}\ntimeout 3\ntimeout 3\n"), 4,
          "duplicate keyword 'timeout'")


def test_overlong_line_rejects_the_file(write):
    ok = write(f"uri {URI}\nbase {BASE}\n#{'x' * 4095}\n")
    assert check(ok).status == "ok"
    path = write(f"uri {URI}\nbase {BASE}\n#{'x' * 4096}\n")
    error(path, 3, "line longer than 4096 bytes")
    path = write(f"uri {URI}\nbase {BASE}\nsite_name {'x' * 5000}\n")
    error(path, 3, "line longer than 4096 bytes")


def test_nul_and_control_characters(write):
    error(write(f"uri {URI}\nbase {BASE}\nsite_name a\0b\n".encode()), 3, "NUL byte")
    error(write(f"uri {URI}\nbase {BASE}\nsite_name a\x1bb\n"), 3, "control character")


def test_crlf_line_endings_are_accepted(write):
    assert check(write(f"uri {URI}\r\nbase {BASE}\r\n")).status == "ok"


@pytest.mark.parametrize("missing", ["uri", "base"])
def test_missing_required_keyword(write, missing):
    lines = {"uri": f"uri {URI}", "base": f"base {BASE}"}
    del lines[missing]
    path = write("# only one of the two\n" + "\n".join(lines.values()) + "\n")
    error(path, 2, f"missing required keyword '{missing}'")


def test_uri_values(write):
    path = write("uri " + " ".join(f"ldap://h{i}.test" for i in range(5)) + "\n"
                 f"uri ldap://h5.test ldap://h6.test\nuri ldap://h7.test\nbase {BASE}\n")
    r = check(path)
    assert r.status == "ok" and r["nuri"] == "8"
    path = write("uri " + " ".join(f"ldap://h{i}.test" for i in range(8)) +
                 f"\nbase {BASE}\nuri ldap://h9.test\n")
    error(path, 3, "more than 8 URIs")
    error(write(f"base {BASE}\nuri ldap://ok.test http://web.test\n"), 2,
          "'http://web.test' is not an ldap://")
    error(write(f"base {BASE}\nuri ldap://bad host\n"), 2, "'host' is not an ldap://")


@pytest.mark.parametrize("line,fragment", [
    ("tls_reqcert sometimes", "tls_reqcert: unknown value 'sometimes'"),
    ("ldap_starttls yes", "ldap_starttls: unknown value 'yes'"),
    ("smtp_url http://mail.test", "smtp_url: 'http://mail.test' must start with smtp://"),
    ("activation_url ftp://x/activar", "activation_url: 'ftp://x/activar' must start with"),
    ("password_classes lower,bogus", "password_classes: expected a comma list"),
    ("password_classes lower,", "trailing comma"),
    ("password_min_length 7", "7 is out of range (8..128)"),
    ("password_max_length 2000", "2000 is out of range (64..1024)"),
    ("token_lifetime 10", "10 is out of range"),
    # issue 17: the mail keys
    ("smtp_helo vm_01", "smtp_helo: 'vm_01' is not a host name"),
    ("smtp_helo -icsoe.test", "is not a host name"),
    ("smtp_helo [192.0.2.1", "is not a host name"),
    ("smtp_tls_cacertfile certs/ca.pem", "smtp_tls_cacertfile certs/ca.pem: must be an absolute"),
    ("timezone Mars/Olympus_Mons", "timezone: unknown time zone 'Mars/Olympus_Mons'"),
    ("timezone ../../etc/passwd", "timezone: '../../etc/passwd' is not a time zone name"),
])
def test_bad_values(write, line, fragment):
    error(write(f"uri {URI}\nbase {BASE}\n{line}\n"), 3, fragment)


def test_password_classes_none(write):
    r = check(write(f"uri {URI}\nbase {BASE}\npassword_classes none\n"))
    assert r.status == "ok" and r["classes"] == "0"
    r = check(write(f"uri {URI}\nbase {BASE}\npassword_classes digit\n"))
    assert r["classes"] == "4"


def test_min_length_above_max(write):
    path = write(f"uri {URI}\nbase {BASE}\npassword_min_length 100\npassword_max_length 64\n")
    error(path, 3, "password_min_length 100 is greater than password_max_length 64")


def test_binddn_needs_bindpw_file(write, secret):
    error(write(f"uri {URI}\nbase {BASE}\nbinddn cn=x,{BASE}\n"), 3,
          "binddn and bindpw_file must be set together")
    error(write(f"uri {URI}\nbase {BASE}\nbindpw_file {secret()}\n"), 3,
          "binddn and bindpw_file must be set together")


@pytest.mark.parametrize("mode,fragment", [
    (0o644, "accessible by others (chmod 600, or 640 root:GROUP)"),
    (0o604, "accessible by others (chmod 600, or 640 root:GROUP)"),
    (0o620, "writable by group or others (chmod go-w)"),
    (0o601, "accessible by others (chmod 600, or 640 root:GROUP)"),
])   # 0640 is accepted: test_file_trust.py
def test_secret_file_permissions(write, secret, mode, fragment):
    pw = secret(mode=mode)
    path = write(f"uri {URI}\nbase {BASE}\nbinddn cn=x,{BASE}\nbindpw_file {pw}\n")
    msg = error(path, 4, f"bindpw_file {pw}: {fragment}")
    assert "s3cret" not in msg
    os.chmod(pw, 0o400)
    assert check(path).status == "ok"


def test_secret_file_problems(write, secret, tmp_path):
    def conf_with(pwpath, key="bindpw_file"):
        return write(f"uri {URI}\nbase {BASE}\nbinddn cn=x,{BASE}\n{key} {pwpath}\n")
    error(conf_with(str(tmp_path / "missing")), 4, "No such file or directory")
    error(conf_with(str(tmp_path)), 4, "not a regular file")
    error(conf_with(secret("")), 4, "empty")
    error(conf_with(secret("\n")), 4, "empty")
    error(conf_with(secret("two\nlines\n")), 4, "must hold a single line")
    error(conf_with("relative/bindpw"), 4, "must be an absolute path")
    error(conf_with(secret("x" * 5000)), 4, "longer than 4096 bytes")
    error(conf_with(secret(mode=0o644, name="smtppw"), "smtp_pass_file"), 4,
          "smtp_pass_file")


def test_smtp_user_needs_pass_file(write):
    error(write(f"uri {URI}\nbase {BASE}\nsmtp_user icsoe\n"), 3,
          "smtp_user needs smtp_pass_file")


def test_blocklist_is_loaded_and_errors_name_the_line(write, tmp_path):
    missing = tmp_path / "none.txt"
    error(write(f"uri {URI}\nbase {BASE}\npassword_blocklist {missing}\n"), 3,
          f"password_blocklist {missing}")


def test_example_config_parses(tmp_path, secret):
    """conf/icsoe.conf.example documents every key: with its secret-file
    paths pointed at real files it must load as is."""
    from harness import util
    text = open(util.src("conf/icsoe.conf.example")).read()
    active = [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    keys_documented = {l.lstrip("# ").split(" ")[0] for l in text.splitlines()
                       if l.startswith("#") and " " in l.lstrip("# ")}
    for key in ("uri", "base", "binddn", "bindpw_file", "writer_binddn",
                "writer_bindpw_file", "timeout", "tls_reqcert",
                "tls_cacertfile", "ldap_starttls", "smtp_url", "smtp_user",
                "smtp_pass_file", "smtp_starttls", "smtp_timeout", "mail_from",
                "mail_template_dir", "activation_url", "login_url", "token_lifetime",
                "reset_token_lifetime", "recover_interval", "site_name",
                "password_min_length", "password_max_length", "password_classes",
                "password_blocklist"):
        assert key in keys_documented or any(l.startswith(key + " ") for l in active), key
    pw = secret()
    text = "\n".join(l.replace("/etc/icsoe/bindpw", pw) for l in active) + "\n"
    p = tmp_path / "example.conf"
    p.write_text(text)
    r = check(str(p))
    assert r.status == "ok", r.stdout


@pytest.mark.parametrize("key, value", [
    ("base", "not a dn"), ("base", "dc=icsoe,,dc=test"), ("base", "=x"),
    ("binddn", "icsoe-reader"), ("writer_binddn", "cn=w,,dc=x"),
])
def test_dn_syntax_is_checked_when_loading(write, secret, key, value):
    """A wrong base or binddn fails at load (so apache2ctl configtest and
    icsoectl check catch it), not as "Usuario o contraseña incorrectos"."""
    keys = {"uri": URI, "base": BASE}
    if key == "binddn":
        keys["bindpw_file"] = secret()
    if key == "writer_binddn":
        keys["writer_bindpw_file"] = secret(name="writerpw")
    keys[key] = value
    text = "".join(f"{k} {v}\n" for k, v in keys.items())
    line = list(keys).index(key) + 1
    error(write(text), line, f"{key}: '{value}' is not a valid LDAP DN")


@pytest.mark.parametrize("key, value", [
    ("uri", "ldap://127.0.0.1:99999"), ("uri", "ldap://127.0.0.1:0"),
    ("uri", "ldaps://[::1]:70000"), ("smtp_url", "smtp://127.0.0.1:65536"),
    ("smtp_url", "smtp://mail.example.org:"), ("activation_url", "https://x.example:0/a"),
])
def test_port_ranges_are_checked_when_loading(write, key, value):
    text = f"uri {URI}\nbase {BASE}\n" if key != "uri" else f"base {BASE}\n"
    text += f"{key} {value}\n"
    line = 3 if key != "uri" else 2
    error(write(text), line, "the port must be 1 to 65535")
