#!/usr/bin/env bash
# Builds differential.c for the host (glibc) and for TRIPLE (the shim, through rivet-cc), boots
# the image, and compares the two outputs line by line. Usage: run.sh [TRIPLE] (default
# x86_64-unknown-none). Honours CARGO_TARGET_DIR like rivet-cc and cargo xtask do.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
triple=${1:-x86_64-unknown-none}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/host" "$here/differential.c" -lm
"$work/host" > "$work/host.out"
"$root/libc-shim/bin/rivet-cc" --target "$triple" -O2 -o "$work/image.elf" "$here/differential.c"
(cd "$root" && timeout 600 cargo xtask run --target "$triple" --image "$work/image.elf") > "$work/target.log" 2>&1 || true
# The program's lines are the ones that start with a one-letter tag and a space.
grep -aE '^[a-z] ' "$work/target.log" | tr -d '\r' > "$work/target.out"
# The reference is the host's x86_64 glibc. An invalid operation's NaN is the CPU's default NaN:
# negative on x86_64, positive on aarch64 (where glibc prints "nan" too), so the sign of NaN is
# compared on x86_64 only.
case "$triple" in
    aarch64-*) sed -i 's/-nan/nan/g' "$work/host.out" "$work/target.out" ;;
esac
if diff -u "$work/host.out" "$work/target.out" > "$work/diff"; then
    echo "libc-shim differential on $triple: $(wc -l < "$work/host.out") lines identical to glibc"
else
    head -40 "$work/diff"
    echo "libc-shim differential on $triple: $(grep -c '^[-+][a-z] ' "$work/diff") differing lines"
    exit 1
fi
