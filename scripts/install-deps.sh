#!/bin/sh
# Installs the Debian packages Sonde needs to build and test; only what is missing.
#   --vm  also what scripts/run-in-vm.sh needs to run the tests under Debian's stock kernel in qemu
#         (make check-kernels): kept out of the plain build, it is ~300 MB.
set -eu

PACKAGES="build-essential cmake pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
libyaml-dev libjansson-dev libpcre2-dev libpcap-dev libclang-rt-dev libgrpc-dev libssl-dev libprotobuf-c-dev protobuf-c-compiler
runc crun podman busybox-static containerd tcpdump
libcurl4-openssl-dev clang-19 llvm-19 skopeo docker-registry apache2-utils openssl
iptables"
if [ "${1:-}" = "--vm" ]; then
	PACKAGES="$PACKAGES qemu-system-x86 linux-image-amd64 cpio"
fi

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
