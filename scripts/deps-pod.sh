#!/bin/sh
# Debian packages the pod runtime uses: ip (iproute2) programs the default network,
# nsenter (util-linux) enters a pod's namespaces. Both are in a standard Debian install.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends iproute2 util-linux
