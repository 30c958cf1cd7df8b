"""Unix identities for capturists (issue 18): icsoectl capturist posix and
contractor posix against a real slapd loaded with schema/ (nis included).

What could go wrong and is checked here: two administrators enabling
capturists at the same moment get the same uidNumber; a number some entry
already carries is handed out again; group memberships drift from the
contractors a capturist works for; a disabled identity leaves numbers or
memberships behind; the feature does anything while it is not configured."""
import concurrent.futures

import pytest

from test_icsoectl import (CURP_A, CURP_B, CURP_D, RFC_1, RFC_2, add_capturist,
                           add_contractor, curp, icsoectl, write_conf)

UNIX = {"unix_uid_min": "200000", "unix_uid_max": "200999",
        "unix_gid_min": "300000", "unix_gid_max": "300099",
        "unix_home": "/home/icsoe", "unix_shell": "/bin/bash"}


@pytest.fixture
def conf(tmp_path, slapd, smtp):
    return write_conf(tmp_path, slapd, smtp.url, **UNIX)


def posix_of(slapd, c):
    e = slapd.get(slapd.capturist_dn(c), ["objectClass", "uidNumber", "gidNumber",
                                          "homeDirectory", "loginShell"])
    return e


def group(slapd, name):
    res = slapd.search(f"(&(objectClass=posixGroup)(cn={name}))",
                       ["gidNumber", "memberUid", "icsoeContractorRFC"],
                       base=f"ou=grupos,{slapd.base}")
    return res[0] if res else None


def setup_accounts(conf, curps=(CURP_A,), contractors=(RFC_1,)):
    for r in contractors:
        add_contractor(conf, r)
    for c in curps:
        res = add_capturist(conf, c, contractors=contractors)
        assert res.rc == 0, res


def test_enable_gives_a_unix_identity(conf, slapd, smtp):
    setup_accounts(conf)
    res = icsoectl("--json", "capturist", "posix", "enable", CURP_A, conf=conf)
    assert res.rc == 0, res
    out = res.json()
    assert out["uid"] == 200000 and out["gid"] == 300000
    e = posix_of(slapd, CURP_A)
    assert "posixAccount" in e["objectClass"]
    assert e["uidNumber"] == ["200000"] and e["gidNumber"] == ["300000"]
    assert e["homeDirectory"] == [f"/home/icsoe/{CURP_A}"]
    assert e["loginShell"] == ["/bin/bash"]
    # the site group (unix_group, default "capturistas") was created with it
    assert group(slapd, "capturistas")["gidNumber"] == ["300000"]
    # a second enable is refused and changes nothing
    res = icsoectl("capturist", "posix", "enable", CURP_A, conf=conf)
    assert res.rc == 2 and "already has a Unix identity (uid 200000)" in res.err
    assert posix_of(slapd, CURP_A)["uidNumber"] == ["200000"]


def test_off_by_default(tmp_path, slapd, smtp):
    conf = write_conf(tmp_path, slapd, smtp.url)
    setup_accounts(conf)
    res = icsoectl("capturist", "posix", "enable", CURP_A, conf=conf)
    assert res.rc == 1 and "Unix identities are off" in res.err, res
    assert "posixAccount" not in posix_of(slapd, CURP_A)["objectClass"]
    assert slapd.search("(objectClass=posixGroup)") == []


@pytest.mark.parametrize("keys,msg", [
    ({"unix_uid_min": "200000"}, "must be set together"),
    ({**UNIX, "unix_uid_min": "201000"}, "greater than"),
    ({**UNIX, "unix_uid_min": "0"}, None),
    ({**UNIX, "unix_home": "home"}, "absolute"),
    ({**UNIX, "unix_group": "Capturistas"}, "not a portable group name"),
])
def test_bad_unix_keys_are_config_errors(tmp_path, slapd, smtp, keys, msg):
    conf = write_conf(tmp_path, slapd, smtp.url, **keys)
    res = icsoectl("capturist", "posix", "enable", CURP_A, conf=conf)
    assert res.rc == 4, res
    assert "icsoe.conf:" in res.err and (msg is None or msg in res.err), res.err


def test_two_concurrent_enables_never_share_a_uid(tmp_path, slapd, smtp, conf):
    """The id pool is advanced by an atomic delete-old/add-new Modify: of
    eight icsoectl processes started together each gets its own number."""
    curps = [curp(f"GOMC8001{d:02d}HDFRRR0") for d in range(1, 9)]
    setup_accounts(conf, curps)
    with concurrent.futures.ThreadPoolExecutor(len(curps)) as ex:
        results = list(ex.map(lambda c: icsoectl("--json", "capturist", "posix", "enable",
                                                 c, conf=conf), curps))
    assert all(r.rc == 0 for r in results), results
    uids = sorted(r.json()["uid"] for r in results)
    assert uids == list(range(200000, 200008))
    stored = sorted(int(posix_of(slapd, c)["uidNumber"][0]) for c in curps)
    assert stored == uids
    pool = slapd.get(f"cn=icsoe-idpool,ou=grupos,{slapd.base}")
    assert pool["uidNumber"] == ["200008"]
    # one site group, whoever created it
    assert len(slapd.search("(cn=capturistas)", base=f"ou=grupos,{slapd.base}")) == 1


def test_a_number_already_in_use_is_skipped(conf, slapd, smtp):
    setup_accounts(conf, (CURP_A, CURP_B))
    # somebody set uidNumber 200000 by hand on another entry
    slapd.modify(slapd.capturist_dn(CURP_B), [
        (0, "objectClass", [b"posixAccount"]), (0, "uidNumber", [b"200000"]),
        (0, "gidNumber", [b"1"]), (0, "homeDirectory", [b"/x"])])
    res = icsoectl("--json", "capturist", "posix", "enable", CURP_A, conf=conf)
    assert res.rc == 0, res
    assert res.json()["uid"] == 200001


def test_range_exhausted_is_a_clear_error(tmp_path, slapd, smtp):
    conf = write_conf(tmp_path, slapd, smtp.url, **{**UNIX, "unix_uid_max": "200000"})
    setup_accounts(conf, (CURP_A, CURP_B))
    assert icsoectl("capturist", "posix", "enable", CURP_A, conf=conf).rc == 0
    res = icsoectl("capturist", "posix", "enable", CURP_B, conf=conf)
    assert res.rc == 2 and "no free uidNumber left in 200000-200000" in res.err, res
    assert "posixAccount" not in posix_of(slapd, CURP_B)["objectClass"]


def test_disable_removes_identity_and_memberships(conf, slapd, smtp):
    setup_accounts(conf)
    assert icsoectl("contractor", "posix", "enable", RFC_1, "--group", "ctr-eku",
                    conf=conf).rc == 0
    assert icsoectl("capturist", "posix", "enable", CURP_A, conf=conf).rc == 0
    assert group(slapd, "ctr-eku")["memberUid"] == [CURP_A]
    res = icsoectl("capturist", "posix", "disable", CURP_A, conf=conf)
    assert res.rc == 0, res
    e = posix_of(slapd, CURP_A)
    assert "posixAccount" not in e["objectClass"] and "uidNumber" not in e
    assert "memberUid" not in group(slapd, "ctr-eku")
    res = icsoectl("capturist", "posix", "disable", CURP_A, conf=conf)
    assert res.rc == 2 and "has no Unix identity" in res.err
    # enabling again gives a new number (numbers are never reused)
    res = icsoectl("--json", "capturist", "posix", "enable", CURP_A, conf=conf)
    assert res.json()["uid"] == 200001


def test_contractor_group_follows_grants(conf, slapd, smtp):
    setup_accounts(conf, (CURP_A, CURP_B), (RFC_1,))
    add_contractor(conf, RFC_2)
    for c in (CURP_A, CURP_B):
        assert icsoectl("capturist", "posix", "enable", c, conf=conf).rc == 0
    # members at creation: the capturists of RFC_1 with a Unix identity
    res = icsoectl("--json", "contractor", "posix", "enable", RFC_1, "--group", "ctr-eku",
                   conf=conf)
    assert res.rc == 0, res
    g1 = group(slapd, "ctr-eku")
    assert sorted(g1["memberUid"]) == sorted([CURP_A, CURP_B])
    assert g1["icsoeContractorRFC"] == [RFC_1]
    assert int(g1["gidNumber"][0]) == res.json()["gid"] != 300000  # not the site group
    assert icsoectl("contractor", "posix", "enable", RFC_2, "--group", "ctr-xyz",
                    conf=conf).rc == 0
    assert "memberUid" not in group(slapd, "ctr-xyz")
    # grant and revoke move the membership
    assert icsoectl("capturist", "grant", CURP_A, RFC_2, conf=conf).rc == 0
    assert group(slapd, "ctr-xyz")["memberUid"] == [CURP_A]
    assert icsoectl("capturist", "revoke", CURP_A, RFC_1, conf=conf).rc == 0
    assert group(slapd, "ctr-eku")["memberUid"] == [CURP_B]
    # removal leaves every group
    assert icsoectl("capturist", "remove", CURP_B, conf=conf).rc == 0
    assert "memberUid" not in group(slapd, "ctr-eku")
    # a second group for the same contractor, or a taken name, is refused
    res = icsoectl("contractor", "posix", "enable", RFC_1, "--group", "otra", conf=conf)
    assert res.rc == 2 and "already has a Unix group" in res.err
    res = icsoectl("contractor", "posix", "disable", RFC_1, conf=conf)
    assert res.rc == 0 and group(slapd, "ctr-eku") is None
    res = icsoectl("contractor", "posix", "disable", RFC_1, conf=conf)
    assert res.rc == 2 and "has no Unix group" in res.err
    # removing a contractor removes its group (no orphan gid left to reuse)
    assert icsoectl("contractor", "remove", "--force", RFC_2, conf=conf).rc == 0
    assert group(slapd, "ctr-xyz") is None


@pytest.mark.parametrize("args,msg", [
    (["capturist", "posix", "start", CURP_A], "expected 'enable'"),
    (["capturist", "posix", "enable"], "expected 2 arguments"),
    (["contractor", "posix", "enable", RFC_1], "needs --group"),
    (["contractor", "posix", "enable", RFC_1, "--group", "Root;x"], "invalid group name"),
    (["contractor", "posix", "disable", RFC_1, "--group", "x"], "only for enable"),
])
def test_usage_errors_write_nothing(conf, slapd, smtp, args, msg):
    setup_accounts(conf)
    res = icsoectl(*args, conf=conf)
    assert res.rc == 1 and msg in res.err, res
    assert slapd.search("(objectClass=posixGroup)") == []
    assert "posixAccount" not in posix_of(slapd, CURP_A)["objectClass"]


def test_unknown_accounts(conf, slapd, smtp):
    res = icsoectl("capturist", "posix", "enable", CURP_D, conf=conf)
    assert res.rc == 2, res
    res = icsoectl("contractor", "posix", "enable", RFC_2, "--group", "g", conf=conf)
    assert res.rc == 2 and "does not exist" in res.err, res
    assert slapd.search("(objectClass=posixGroup)") == []


def show(conf, c, *flags):
    res = icsoectl(*flags, "capturist", "show", c, conf=conf)
    assert res.rc == 0, res
    return res


def test_show_and_list_display_the_unix_identity(conf, slapd, smtp):
    """capturist show (text and --json) and list --json carry the Unix
    identity read with the entry, and the contractor groups; "none"/null
    without one, and nothing stale after disable."""
    setup_accounts(conf, (CURP_A, CURP_B), (RFC_1, RFC_2))
    assert "unix:" in show(conf, CURP_A).out
    assert show(conf, CURP_A, "--json").json()["unix"] is None
    lines = {l.split(":", 1)[0].strip(): l.split(":", 1)[1].strip()
             for l in show(conf, CURP_A).out.splitlines() if ":" in l}
    assert lines["unix"] == "none" and lines["unix groups"] == "none"
    for rfc_, name in ((RFC_1, "ctr-eku"), (RFC_2, "ctr-xyz")):
        assert icsoectl("contractor", "posix", "enable", rfc_, "--group", name,
                        conf=conf).rc == 0
    assert icsoectl("capturist", "posix", "enable", CURP_A, conf=conf).rc == 0
    # the contractor groups took 300000 and 300001; the site group is next
    assert group(slapd, "capturistas")["gidNumber"] == ["300002"]
    u = show(conf, CURP_A, "--json").json()["unix"]
    assert u == {"uid": 200000, "gid": 300002, "home": f"/home/icsoe/{CURP_A}",
                 "shell": "/bin/bash", "groups": ["ctr-eku", "ctr-xyz"]}, u
    text = show(conf, CURP_A).out
    assert f"uid 200000, gid 300002, home /home/icsoe/{CURP_A}, shell /bin/bash" in text
    assert "ctr-eku, ctr-xyz" in text, text
    # the groups shown follow the memberships (revoke leaves ctr-xyz)
    assert icsoectl("capturist", "revoke", CURP_A, RFC_2, conf=conf).rc == 0
    assert show(conf, CURP_A, "--json").json()["unix"]["groups"] == ["ctr-eku"]
    # list --json: the identity of each entry, no per-capturist group search
    res = icsoectl("--json", "capturist", "list", conf=conf)
    assert res.rc == 0, res
    by = {x["curp"]: x["unix"] for x in res.json()}
    assert by[CURP_B] is None
    assert by[CURP_A] == {"uid": 200000, "gid": 300002, "home": f"/home/icsoe/{CURP_A}",
                          "shell": "/bin/bash"}
    # disabled: none again
    assert icsoectl("capturist", "posix", "disable", CURP_A, conf=conf).rc == 0
    assert show(conf, CURP_A, "--json").json()["unix"] is None
    lines = {l.split(":", 1)[0].strip(): l.split(":", 1)[1].strip()
             for l in show(conf, CURP_A).out.splitlines() if ":" in l}
    assert lines["unix"] == "none" and lines["unix groups"] == "none"
