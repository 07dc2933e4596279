#!/usr/bin/env bash
# ci/boot.sh — set up the machine, then build and boot an example in QEMU (default: hello on
# x86_64/microvm). Arguments are those of `cargo xtask run`, e.g.
#   ci/boot.sh --target aarch64-unknown-none --example hello -- a "b c"
# Exits with the application's exit code (see `cargo xtask run --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
exec cargo xtask run "$@"
