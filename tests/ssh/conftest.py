"""The ssh stage's pytest set-up (scripts/test.d/55-ssh): the integration
harness (private slapd, icsoe.conf writer) is reused from tests/integration."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
