"""Least privilege (issue 13): the reader service account (binddn) can
search but change nothing; the writer (writer_binddn) does every write;
a PAM host configured with the reader alone still authenticates and lets
a capturist change its password (which ends its other sessions)."""
import ldap
import ldap.modlist
import pytest
from ldap.controls import RequestControl

from harness import dirdrv
from harness.dirdrv import ok
from harness.conf import IcsoeConf

CURP = "GOMC800101HDFRRL09"
CURP2 = "PEMJ850505MJCRRN04"
RFC = "AAA010101AAA"
PW = "correct horse battery staple 1"
PW2 = "another long passphrase 2024"
RELAX_OID = "1.3.6.1.4.1.4203.666.5.12"


@pytest.fixture
def conf(tmp_path, slapd):
    return IcsoeConf(tmp_path / "etc", slapd)


def populate(conf, slapd):
    """An active capturist with a pending reset token, a pending one, a
    contractor, and a lockout record: every kind of entry and attribute."""
    ok(dirdrv.run(conf, "contractor-add", RFC, "Contratista Uno"))
    ok(dirdrv.run(conf, "capturist-add", CURP, "Carlos Gómez Ruiz", "carlos@icsoe.test", RFC))
    tok = ok(dirdrv.run(conf, "token-store", CURP, "activation", "3600"))["token"]
    ok(dirdrv.run(conf, "token-consume", tok, "activation", input=PW + "\n"))
    ok(dirdrv.run(conf, "token-store", CURP, "reset", "3600"))
    ok(dirdrv.run(conf, "capturist-add", CURP2, "Juana Pérez", "juana@icsoe.test", RFC))
    assert dirdrv.run(conf, "verify", CURP, input="wrong password guess\n").status == \
        "invalid_credentials"


def bound(slapd, dn, pw):
    c = slapd._connect()
    c.simple_bind_s(dn, pw)
    return c


# a value of the right syntax for attributes an entry does not have yet
SAMPLES = {"userPassword": b"a reader-chosen password 1",
           "icsoeTokenHash": b"0" * 64, "icsoeEpoch": b"7", "icsoeStatus": b"active",
           "description": b"x", "pwdAccountLockedTime": b"20260101000000Z",
           "pwdFailureTime": b"20260101000000Z", "mail": b"x@icsoe.test",
           "pwdReset": b"TRUE"}


def every_entry(slapd):
    """(dn, {attr: [values]}) of the whole tree, operational attributes
    included, as the rootdn sees it."""
    res = slapd.root().search_s(slapd.base, ldap.SCOPE_SUBTREE, "(objectClass=*)",
                                ["*", "pwdAccountLockedTime", "pwdFailureTime",
                                 "pwdPolicySubentry", "pwdReset"])
    return [(dn, attrs) for dn, attrs in res if dn]


def test_reader_cannot_modify_any_attribute(conf, slapd):
    populate(conf, slapd)
    reader = bound(slapd, slapd.reader_dn, slapd.reader_pw)
    relax = RequestControl(RELAX_OID, True)
    tried = 0
    kinds, other = set(), set()
    entries = every_entry(slapd)
    assert len(entries) >= 9
    for dn, attrs in entries:
        for attr in sorted(set(attrs) | set(SAMPLES)):
            # a password slapd's quality module accepts (a stored, hashed
            # value would be refused by pwdCheckQuality 2 before the ACL)
            values = [SAMPLES[attr]] if attr == "userPassword" else \
                attrs.get(attr) or [SAMPLES[attr]]
            for op in (ldap.MOD_REPLACE, ldap.MOD_DELETE, ldap.MOD_ADD):
                mod = [(op, attr, values if op != ldap.MOD_DELETE else None)]
                for ctrls in (None, [relax]):
                    tried += 1
                    with pytest.raises(ldap.LDAPError) as exc:
                        reader.modify_ext_s(dn, mod, serverctrls=ctrls)
                    if isinstance(exc.value, ldap.CONSTRAINT_VIOLATION) and \
                            attr.startswith("pwd") and ctrls is None:
                        continue    # no-user-modification: refused to anybody
                    if not isinstance(exc.value, ldap.INSUFFICIENT_ACCESS):
                        other.add((attr, op, bool(ctrls), type(exc.value).__name__))
                    kinds.add(type(exc.value).__name__)
    assert tried > 500
    assert kinds == {"INSUFFICIENT_ACCESS"}, sorted(other)
    # nothing changed
    assert every_entry(slapd) == entries or \
        [(d, {k: v for k, v in a.items() if k not in ("pwdFailureTime",)})
         for d, a in every_entry(slapd)] == \
        [(d, {k: v for k, v in a.items() if k not in ("pwdFailureTime",)})
         for d, a in entries]


def test_reader_cannot_add_delete_rename_or_set_passwords(conf, slapd):
    populate(conf, slapd)
    reader = bound(slapd, slapd.reader_dn, slapd.reader_pw)
    new = {"objectClass": [b"icsoeContractor"], "icsoeRFC": [b"BBB020202BB1"], "o": [b"X"]}
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        reader.add_s(slapd.contractor_dn("BBB020202BB1"), ldap.modlist.addModlist(new))
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        reader.add_s(f"cn=intruso,{slapd.base}", [("objectClass", [b"organizationalRole"]),
                                                  ("cn", [b"intruso"])])
    for dn in (slapd.capturist_dn(CURP2), slapd.contractor_dn(RFC), slapd.decoy_dn,
               slapd.binddn):
        with pytest.raises(ldap.INSUFFICIENT_ACCESS):
            reader.delete_s(dn)
    with pytest.raises(ldap.INSUFFICIENT_ACCESS):
        reader.rename_s(slapd.capturist_dn(CURP2), f"uid={CURP}X")
    # Password Modify: of a capturist, of the writer, of the reader itself
    for dn in (slapd.capturist_dn(CURP), slapd.binddn, slapd.reader_dn):
        with pytest.raises(ldap.LDAPError) as exc:
            reader.passwd_s(dn, None, "a new password set by the reader 1")
        assert isinstance(exc.value, (ldap.INSUFFICIENT_ACCESS, ldap.UNWILLING_TO_PERFORM,
                                      ldap.CONSTRAINT_VIOLATION))
    assert slapd.can_bind(slapd.reader_dn, slapd.reader_pw)
    assert slapd.can_bind(slapd.capturist_dn(CURP), PW)
    # the reader cannot see token hashes (only the writer can)
    res = reader.search_s(slapd.capturist_dn(CURP), ldap.SCOPE_BASE, attrlist=["*"])
    assert "icsoeTokenHash" not in res[0][1] and "cn" in res[0][1]
    assert reader.search_s(slapd.base, ldap.SCOPE_SUBTREE, "(icsoeTokenHash=*)") == []


def test_writes_go_through_the_writer(conf, slapd):
    """With writer_binddn removed, binddn (the reader) is used for writes and
    slapd refuses them: proof that, with both set, libicsoe really sends
    writes on the writer's connection and not on the reader's."""
    populate(conf, slapd)
    reader_only = IcsoeConf(conf.dir + "-reader", slapd, writer_binddn=None,
                            writer_bindpw_file=None)
    for args in (("contractor-add", "BBB020202BB1", "Otro"),
                 ("capturist-add", "MASA900202MDFRNN01", "Ana Mar", "ana@icsoe.test", RFC),
                 ("lock", CURP), ("bump-epoch", CURP), ("grant", CURP2, RFC),
                 ("token-store", CURP2, "activation", "3600")):
        r = dirdrv.run(reader_only, *args)
        assert r.status not in ("ok", "exists"), (args, r.stdout)
        assert "Insufficient access" in r.stdout + r.stderr, (args, r.stdout, r.stderr)
    # and through the full configuration they work
    ok(dirdrv.run(conf, "bump-epoch", CURP))
    ok(dirdrv.run(conf, "contractor-add", "BBB020202BB1", "Otro"))


def test_pam_host_with_only_the_reader_authenticates_and_changes_passwords(conf, slapd):
    populate(conf, slapd)
    reader_only = IcsoeConf(conf.dir + "-reader", slapd, writer_binddn=None,
                            writer_bindpw_file=None)
    ok(dirdrv.run(reader_only, "verify", CURP, input=PW + "\n"))
    assert dirdrv.run(reader_only, "verify", "XEXX010101HNEXXXA4",
                      input=PW + "\n").status == "invalid_credentials"
    epoch = int(ok(dirdrv.run(reader_only, "capturist-get", CURP))["epoch"])
    ok(dirdrv.run(reader_only, "change-password", CURP, input=f"{PW}\n{PW2}\n"))
    # the capturist's own connection ended its other sessions
    assert int(ok(dirdrv.run(reader_only, "capturist-get", CURP))["epoch"]) == epoch + 1
    ok(dirdrv.run(reader_only, "verify", CURP, input=PW2 + "\n"))


def test_writer_config_keys_go_together(tmp_path, slapd):
    conf = IcsoeConf(tmp_path / "etc", slapd, writer_bindpw_file=None)
    r = dirdrv.run(conf, "capturist-get", CURP)
    assert r.returncode != 0
    assert "writer_binddn and writer_bindpw_file must be set together" in r.stdout + r.stderr
