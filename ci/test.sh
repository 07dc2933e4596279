#!/usr/bin/env bash
# ci/test.sh — set up the machine, then run the whole suite: host unit tests, then the boot tests
# (every example on every machine in targets/machines/, under QEMU TCG). Exits non-zero if any
# step failed; `cargo xtask test` prints a summary ending in `steps: N passed, N failed`.
#
# Arguments are passed to `cargo xtask test` (e.g. `--host-only`, `-- microvm::`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
exec cargo xtask test "$@"
