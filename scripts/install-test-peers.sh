#!/usr/bin/env bash
# Installs, with apt-get, the programs vioplane's integration tests run against, when they are missing.
# Idempotent: when everything is present it only looks (no apt-get at all).
set -euo pipefail

# A program on the PATH or in the sbin directories a non-root PATH lacks.
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

# A kernel the QEMU guest tests can boot: some /boot/vmlinuz-VERSION with /lib/modules/VERSION/modules.dep
# (any VERSION: the guest boots it under TCG, so the running kernel's version does not matter).
have_guest_kernel() {
  local kernel
  for kernel in /boot/vmlinuz-*; do
    [ -r "$kernel" ] && [ -f "/lib/modules/${kernel#/boot/vmlinuz-}/modules.dep" ] && return 0
  done
  return 1
}

need=()
have ip || need+=(iproute2)
have ping || need+=(iputils-ping)
# dpdk-dev (not the package dpdk) gives dpdk-testpmd and its vhost and virtio-user drivers.
have dpdk-testpmd || need+=(dpdk-dev)
# The QEMU guest harness (platform tests, package io.vioplane.platform.testing.peers).
have qemu-system-x86_64 || need+=(qemu-system-x86)
if ! have_guest_kernel; then
  if [ "$(dpkg --print-architecture 2>/dev/null || true)" = amd64 ]; then
    need+=(linux-image-amd64)
  else
    echo "install-test-peers: no guest kernel in /boot and not an amd64 system: QEMU guest tests will skip" >&2
  fi
fi
have busybox || need+=(busybox-static)
# The VMM's guest programs (cpu-vmx-core/src/main/guest) are built with gcc and linked with ld.
have gcc || need+=(gcc)
have ld || need+=(binutils)
have modprobe || need+=(kmod)
have iperf3 || need+=(iperf3)
# The multiqueue guest tests change queue pairs inside the guest with ethtool -L (copied into its initramfs).
have ethtool || need+=(ethtool)
have xz || need+=(xz-utils)
have zstd || need+=(zstd)
# The block guest tests format and check ext4 (mkfs.ext4 goes into the guest, e2fsck runs on the host).
have mkfs.ext4 || need+=(e2fsprogs)
# Packet capture tests read exported files with Wireshark's command-line reader.
have tshark || need+=(tshark)
# The Prometheus exposition (`vioplane stat --format prometheus`, --metrics-listen) is checked by promtool.
have promtool || need+=(prometheus)

if [ ${#need[@]} -gt 0 ]; then
  echo "install-test-peers: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi
