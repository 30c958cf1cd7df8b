"""The references name everything the code accepts (issue 12): every Apache
directive of mod_icsoe in mod_icsoe(8), docs/apache.md and the commented
defaults of mods-available/icsoe.conf; every icsoe.conf key in
icsoe.conf(5) and conf/icsoe.conf.example.  A directive or key added
without its documentation fails here."""
import re

from harness import util


def read(rel):
    return open(util.src(rel), encoding="utf-8").read()


def directives():
    src = read("mod_icsoe/config.c")
    names = set(re.findall(r'"(ICSOE[A-Za-z]+)"', src))
    assert "ICSOESessionKeyFile" in names and "ICSOECookieSecure" in names
    return sorted(names)


def conf_keys():
    src = read("lib/conf.c")
    table = src[src.index("conf_keys[] = {"):]
    table = table[:table.index("};")]
    keys = re.findall(r'\{\s*"([a-z_]+)"', table)
    assert "uri" in keys and "bindpw_file" in keys
    return keys


def test_every_directive_is_in_the_man_page_and_docs():
    man = read("man/mod_icsoe.8").replace("\\-", "-")
    apache_md = read("docs/apache.md")
    for d in directives():
        assert d in man, f"{d} missing from man/mod_icsoe.8"
        assert f"`{d}`" in apache_md, f"{d} missing from docs/apache.md"


def test_mods_available_file_lists_every_directive_commented():
    conf = read("conf/apache2/icsoe.conf")
    for d in directives():
        assert re.search(rf"^\s*#{d}\s", conf, re.M), \
            f"{d} has no commented default in conf/apache2/icsoe.conf"


def test_every_conf_key_is_in_icsoe_conf_5_and_the_example():
    man = read("man/icsoe.conf.5").replace("\\-", "-")
    example = read("conf/icsoe.conf.example")
    for k in conf_keys():
        assert re.search(rf"\b{k}\b", man), f"{k} missing from man/icsoe.conf.5"
        assert re.search(rf"^#?{k}\s", example, re.M), \
            f"{k} missing from conf/icsoe.conf.example"
