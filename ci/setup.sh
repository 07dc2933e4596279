#!/usr/bin/env bash
# ci/setup.sh — install everything Rivet needs on a Debian 12 (bookworm) machine. Idempotent:
# every step checks before it acts, so running it again costs about a second.
#
# What it installs:
#   - QEMU 10 (qemu-system-x86 / qemu-system-arm) from bookworm-backports: QEMU 7.2 in bookworm lacks
#     machines later targets need (raspi4b) and has older microvm/virt quirks.
#   - the Rust bare-metal targets x86_64-unknown-none / aarch64-unknown-none and llvm-tools
#     (objcopy for the aarch64 flat Image) for the toolchain rust-toolchain.toml names.
#   - busybox-static, cpio, xz-utils: the Linux VM baseline `cargo xtask bench` measures against.
set -euo pipefail

log() { printf '[setup] %s\n' "$*" >&2; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

apt_updated=0
apt_update() {
    if [ "$apt_updated" = 0 ]; then
        log "apt-get update"
        $SUDO apt-get update -qq
        apt_updated=1
    fi
}

# --- QEMU 10 from bookworm-backports -------------------------------------------------------------
qemu_major() {
    command -v "$1" >/dev/null 2>&1 || { echo 0; return; }
    "$1" --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -n1
}
backports=/etc/apt/sources.list.d/backports.sources
if [ -r /etc/os-release ] && grep -q 'VERSION_CODENAME=bookworm' /etc/os-release && [ ! -f "$backports" ]; then
    log "adding bookworm-backports"
    $SUDO tee "$backports" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt_updated=0
fi
if [ "$(qemu_major qemu-system-x86_64)" -lt 10 ] || [ "$(qemu_major qemu-system-aarch64)" -lt 10 ]; then
    apt_update
    log "installing QEMU 10 from bookworm-backports"
    if grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports \
            qemu-system-x86 qemu-system-arm >/dev/null
    else
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-x86 qemu-system-arm >/dev/null
    fi
fi

# --- Small host tools: the Linux baseline initramfs ---------------------------------------------
need_pkgs=()
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
command -v cpio >/dev/null 2>&1 || need_pkgs+=(cpio)
command -v xz >/dev/null 2>&1 || need_pkgs+=(xz-utils)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
    apt_update
    log "installing ${need_pkgs[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# --- Rust ----------------------------------------------------------------------------------------
if ! command -v rustup >/dev/null 2>&1; then
    log "rustup is missing: install Rust from your distribution or rustup.rs first"
    exit 1
fi
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
installed_targets=$(rustup target list --installed)
for t in x86_64-unknown-none aarch64-unknown-none; do
    if ! grep -qx "$t" <<<"$installed_targets"; then
        log "rustup target add $t"
        rustup target add "$t" >/dev/null
    fi
done
if ! rustup component list --installed | grep -q '^llvm-tools'; then
    log "rustup component add llvm-tools"
    rustup component add llvm-tools >/dev/null
fi
log "ready: $(qemu-system-x86_64 --version | head -n1)"
