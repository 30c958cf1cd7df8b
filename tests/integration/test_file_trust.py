"""Files that steer a root process are trusted only when nobody else can
write them (issue 13, defect 6).  pam_icsoe runs in root's PAM stacks and
Apache reads its files as root: a group- or world-writable icsoe.conf let a
local user point uri at their own server; a secret owned by someone else
could be swapped.  Rule (lib/fileperm.h): a regular file owned by root or
by the user running the program, writable by nobody else; secrets also
closed to others (group read allowed: Debian's 0640 root:<group>)."""
import os
import subprocess

import pytest

from harness import dirdrv
from harness.pam import PamEnv, add_capturist, curp
from test_mail import TO, maildrv, template_vars, write_conf, write_override

URI = "ldap://127.0.0.1:1/"
BASE = "dc=icsoe,dc=test"
NOBODY = 65534
CURP = curp("GOPJ800101HDFRRN0")
PW = "caballo correcto bateria 7"


def give_away(path, uid=NOBODY):
    """chown path to another user (sudo when not root)."""
    if os.geteuid() == 0:
        os.chown(path, uid, -1)
    else:
        subprocess.run(["sudo", "-n", "chown", str(uid), str(path)], check=True)


def write(tmp_path, text, name="icsoe.conf", mode=0o644):
    p = tmp_path / name
    p.write_text(text)
    os.chmod(p, mode)
    return str(p)


def secret(tmp_path, mode=0o600, name="bindpw"):
    p = tmp_path / name
    p.write_text("s3cret-service-password\n")
    os.chmod(p, mode)
    return str(p)


def check(path):
    return dirdrv.run(path, "conf-check")


def refused(path, fragment):
    r = check(path)
    assert r.status == "invalid_input", r.stdout
    assert fragment in r["error"], r["error"]
    assert "s3cret" not in r.stdout
    return r["error"]


@pytest.mark.parametrize("mode", [0o664, 0o646, 0o666, 0o620])
def test_config_writable_by_others_is_refused(tmp_path, mode):
    path = write(tmp_path, f"uri {URI}\nbase {BASE}\n", mode=mode)
    assert refused(path, "writable by group or others") == \
        f"{path}: writable by group or others (chmod go-w)"
    os.chmod(path, 0o644)
    assert check(path).status == "ok"


def test_config_owned_by_another_user_is_refused(tmp_path):
    path = write(tmp_path, f"uri {URI}\nbase {BASE}\n")
    give_away(path)
    refused(path, f"{path}: owned by uid {NOBODY}, not by root or the user running this")


@pytest.mark.parametrize("mode,fragment", [
    (0o644, "accessible by others (chmod 600, or 640 root:GROUP)"),
    (0o604, "accessible by others"),
    (0o601, "accessible by others"),
    (0o660, "writable by group or others"),
    (0o620, "writable by group or others"),
    (0o650, "accessible by group (chmod 600)"),
])
def test_secret_modes(tmp_path, mode, fragment):
    pw = secret(tmp_path, mode=mode)
    path = write(tmp_path, f"uri {URI}\nbase {BASE}\nbinddn cn=x,{BASE}\nbindpw_file {pw}\n")
    assert refused(path, fragment).startswith(f"{path}:4: bindpw_file {pw}: ")


@pytest.mark.parametrize("mode", [0o640, 0o600, 0o440, 0o400])
def test_secret_debian_0640_with_a_group_is_accepted(tmp_path, mode):
    pw = secret(tmp_path, mode=mode)
    path = write(tmp_path, f"uri {URI}\nbase {BASE}\nbinddn cn=x,{BASE}\nbindpw_file {pw}\n")
    assert check(path).status == "ok"


@pytest.mark.parametrize("key", ["bindpw_file", "smtp_pass_file"])
def test_secret_owned_by_another_user_is_refused(tmp_path, key):
    # 0640 with our own group: an ordinary user can still open the file
    # (through the group bit), so it is the owner rule that refuses it,
    # not the kernel's "Permission denied".
    pw = secret(tmp_path, mode=0o640)
    give_away(pw)
    extra = f"binddn cn=x,{BASE}\n" if key == "bindpw_file" else \
        "smtp_url smtp://127.0.0.1:25\nsmtp_user icsoe\n"
    path = write(tmp_path, f"uri {URI}\nbase {BASE}\n{extra}{key} {pw}\n")
    refused(path, f"{key} {pw}: owned by uid {NOBODY}")


def test_blocklist_writable_or_foreign_is_refused(tmp_path):
    bl = tmp_path / "blocklist.txt"
    bl.write_text("password123456789\n")
    os.chmod(bl, 0o666)
    path = write(tmp_path, f"uri {URI}\nbase {BASE}\npassword_blocklist {bl}\n")
    refused(path, f"password_blocklist {bl}: writable by group or others")
    os.chmod(bl, 0o644)
    assert check(path).status == "ok"
    give_away(bl)
    refused(path, f"password_blocklist {bl}: owned by uid {NOBODY}")


def test_mail_template_writable_by_others_is_refused(tmp_path, smtp):
    d = tmp_path / "mailtpl"
    write_override(d, "activation", "Subject: Hola {{name}}\n\n{{link}}\n")
    conf = write_conf(tmp_path, smtp.url, mail_template_dir=str(d))
    os.chmod(d / "activation.txt", 0o646)
    r = maildrv(conf, "template", "activation", TO, "Ana", *template_vars())
    assert r["status"] != "ok"
    assert f"template {d}/activation.txt: writable by group or others" in r["error"], r
    smtp.assert_quiet(0.3)
    os.chmod(d / "activation.txt", 0o644)
    assert maildrv(conf, "template", "activation", TO, "Ana",
                   *template_vars())["status"] == "ok"


def test_pam_refuses_a_writable_config(tmp_path, slapd, icsoe_conf):
    """The attack itself: a local user who can write the config would point
    uri at a server that says yes.  pam_icsoe answers PAM_SERVICE_ERR and
    logs the file, asking nobody."""
    add_capturist(slapd, CURP, PW)
    env = PamEnv(tmp_path / "pam", icsoe_conf.path)
    assert env.pamdrv(CURP, "auth", answers=[PW]).code("auth") == "PAM_SUCCESS"
    os.chmod(icsoe_conf.path, 0o666)
    r = env.pamdrv(CURP, "auth", answers=[PW])
    assert r.code("auth") == "PAM_SERVICE_ERR"
    assert f"{icsoe_conf.path}: writable by group or others" in r.stderr
    assert r.prompts == []
