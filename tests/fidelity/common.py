"""What the three fidelity checks share: the sandbox's URL from the command
line, a tally of named checks, the sandbox's credentials and the summary.

Each check is run as `python3 tests/fidelity/X.py BASE_URL`, so this folder is
on sys.path and `import common` finds this file.
"""

import sys

import requests

base = sys.argv[1].rstrip("/")
failures = []
_passed = 0


def check(name, cond, detail=""):
    global _passed
    if cond:
        _passed += 1
    else:
        failures.append(f"{name}: {detail}")
        print(f"FAIL {name}: {detail}")


def credentials():
    """What the sandbox says a tenant would be given."""
    return requests.get(f"{base}/_sandbox/credentials").json()


def finish():
    """Prints the tally and exits non-zero if any check failed."""
    print(f"{_passed} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)
