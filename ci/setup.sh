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
#   - device-tree-compiler (dtc): per-run device trees (Xen arm64 dom0less), and the arm64 foreign
#     architecture in dpkg (root), so `apt-get download PKG:arm64` works. Machine assets (Xen,
#     AAVMF firmware, Pi DTBs) need no root: xtask fetches them into target/assets/ on first use.
#   - gcc and gcc-aarch64-linux-gnu: static Linux builds of the thread benchmark's C twin, which
#     the baseline VM runs (`cargo xtask bench`).
#   - mtools (FAT images without root: `cargo xtask sdcard` / `disk`), and the bookworm
#     non-free-firmware component (its own sources file) for the Pi boot firmware, raspi-firmware,
#     which `cargo xtask sdcard` fetches with apt-get download.
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

# --- Small host tools (baseline initramfs, dtc, mtools) and apt sources -------------------------
need_pkgs=()
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
command -v cpio >/dev/null 2>&1 || need_pkgs+=(cpio)
command -v xz >/dev/null 2>&1 || need_pkgs+=(xz-utils)
command -v dtc >/dev/null 2>&1 || need_pkgs+=(device-tree-compiler)
command -v mcopy >/dev/null 2>&1 || need_pkgs+=(mtools)
# The HTTP benchmark's load generator (cargo xtask bench http).
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk)
# C compilers for static Linux programs: the thread benchmark's Linux twin (and C apps later).
command -v gcc >/dev/null 2>&1 || need_pkgs+=(gcc libc6-dev)
command -v g++ >/dev/null 2>&1 || need_pkgs+=(g++)
if [ "$(uname -m)" = x86_64 ]; then
    command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need_pkgs+=(gcc-aarch64-linux-gnu)
    # C++ applications (libc-shim's rivet-c++): the cross g++ and its prebuilt libstdc++.a; the
    # arm64 glibc headers the shim's C is compiled against.
    command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || need_pkgs+=(g++-aarch64-linux-gnu)
    [ -d /usr/aarch64-linux-gnu/include ] || need_pkgs+=(libc6-dev-arm64-cross)
fi
nonfree=/etc/apt/sources.list.d/non-free-firmware.sources
if [ -r /etc/os-release ] && grep -q 'VERSION_CODENAME=bookworm' /etc/os-release && [ ! -f "$nonfree" ]; then
    log "adding bookworm non-free-firmware (raspi-firmware for cargo xtask sdcard)"
    $SUDO tee "$nonfree" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt_updated=0
    lists_changed=1
fi
# arm64 packages (Xen, Pi DTBs, the arm64 Linux baseline) are fetched with apt-get download.
if [ "$(dpkg --print-architecture)" != arm64 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    log "dpkg --add-architecture arm64"
    $SUDO dpkg --add-architecture arm64
    apt_updated=0
    lists_changed=1
fi
if [ "${#need_pkgs[@]}" -gt 0 ]; then
    apt_update
    log "installing ${need_pkgs[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
# New sources or architectures: refresh the lists once (if the install above has not).
if [ "${lists_changed:-0}" = 1 ]; then apt_update; fi

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
