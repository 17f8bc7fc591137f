#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install every build and test dependency of berth from Debian 12's archive.
# Idempotent: when everything is present it only runs dpkg-query and exits.
set -euo pipefail

PACKAGES=(
        # build
        meson ninja-build pkg-config gcc libc6-dev
        libsystemd-dev libseccomp-dev libnl-3-dev libnl-route-3-dev
        libmount-dev libglib2.0-dev libnftables-dev
        # host tier and benchmarks
        busybox-static iproute2 nftables util-linux procps
        crun runc bubblewrap systemd-container
        # system and vm tiers: testbed rootfs, qemu, kernel
        debootstrap qemu-system-x86 qemu-utils linux-image-amd64 e2fsprogs
        cpio zstd xz-utils python3
)

missing=()
for p in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
                missing+=("$p")
        fi
done

if [ ${#missing[@]} -eq 0 ]; then
        echo "install-deps: all ${#PACKAGES[@]} packages present"
        exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
