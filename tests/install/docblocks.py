"""The commands and snippets the documentation gives an administrator.

A fenced block preceded by a line "<!-- install-test: NAME -->" is what
the install test runs (sh) or inserts (apache), literally, so the docs
cannot drift from what is tested.  In a sh block written as a terminal
session ("$ command", then its output), only the "$ " lines and their
backslash continuations are commands."""
import os
import re

MARKER = re.compile(r"^\s*<!-- install-test: ([a-z0-9-]+) -->\s*$")
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")     # indented inside a list item too
DOCS = ("README.md", "docs/apache.md", "docs/icsoectl.md", "schema/README.md",
        "docs/install.md")


class DocError(Exception):
    pass


def _blocks_of(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    out = {}
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        i += 1
        if not m:
            continue
        name = m.group(1)
        if i >= len(lines) or not FENCE.match(lines[i]):
            raise DocError(f"{path}:{i}: marker '{name}' is not followed by a fenced block")
        indent, lang = FENCE.match(lines[i]).groups()
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith("```"):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line)
            i += 1
        if name in out:
            raise DocError(f"{path}: marker '{name}' used twice")
        out[name] = (lang, "\n".join(body) + "\n")
    return out


def load(top):
    """{name: (lang, text)} over every doc that exists."""
    blocks = {}
    for rel in DOCS:
        path = os.path.join(top, rel)
        if not os.path.exists(path):
            continue
        for name, b in _blocks_of(path).items():
            if name in blocks:
                raise DocError(f"marker '{name}' appears in two documents")
            blocks[name] = b
    return blocks


def commands(text):
    """The shell text of a block: as written, or only the "$ " lines (with
    their continuations) of a terminal-session block."""
    lines = text.splitlines()
    if not any(l.startswith("$ ") for l in lines):
        return text
    out = []
    cont = False
    for line in lines:
        if line.startswith("$ "):
            out.append(line[2:])
            cont = line.rstrip().endswith("\\")
        elif cont:
            out.append(line)
            cont = line.rstrip().endswith("\\")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    # docblocks.py TOPDIR NAME: print the commands of one sh block
    import sys
    lang, text = load(sys.argv[1])[sys.argv[2]]
    if lang != "sh":
        sys.exit(f"docblocks: block '{sys.argv[2]}' is not a sh block")
    sys.stdout.write(commands(text))
