#!/usr/bin/env bash
# Runs pytest from the project virtualenv. Exit code 5 ("no tests collected") counts as a
# failure: a suite that silently collects nothing must not pass.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
rc=$?
if [[ $rc -eq 5 ]]; then echo "hack/pytest.sh: pytest collected no tests in: $*" >&2; exit 1; fi
exit $rc
