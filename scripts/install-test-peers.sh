#!/usr/bin/env bash
# Installs, with apt-get, the programs vioplane's integration tests run against, when they are missing.
set -euo pipefail
need=()
command -v ip >/dev/null || need+=(iproute2)
# dpdk-dev (not the package dpdk) gives dpdk-testpmd and its vhost and virtio-user drivers.
command -v dpdk-testpmd >/dev/null || need+=(dpdk-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-test-peers: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi
