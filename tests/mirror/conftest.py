"""The multi-node stage (scripts/test.d/60-mirror) reuses the integration
harness (tests/integration/harness)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "integration"))
