#!/bin/sh
# make-vmlinux-h.sh ARCH [OUT]: writes include/gadget/<ARCH>/vmlinux.h (or OUT)
# from the BTF of Debian's stock kernel for ARCH (amd64 | arm64).
#
# Which kernel, and why: without KERNEL_PKG, Debian 12 (bookworm)'s own LTS
# kernel, the package linux-image-6.1.0-<abi>-<arch> that bookworm's
# linux-image-<arch> metapackage currently depends on. `sonde image build`
# compiles every gadget against these headers, for every architecture (the
# build machine's included), so two machines build the same object and the
# same digest whatever kernel they run; CO-RE relocates field offsets for the
# kernel that loads it.
#
# The committed headers are bookworm's newer kernel instead:
#   KERNEL_PKG=linux-image-6.12.118+deb12-<arch> scripts/make-vmlinux-h.sh <arch>
# Upstream's gadgets guard fields of newer kernels with bpf_core_field_exists
# but still need them declared: against 6.1's types 82 of upstream's 84
# builds (42 gadgets x 2 architectures) compile (ttysnoop needs iov_iter's
# 6.4 fields), against 6.12's all 84 do. Upstream's own headers come from
# 6.15. The first line of each header names the package it came from. Set
# KERNEL_PKG to pin another kernel still in the archive (the -unsigned
# package gives the same BTF), MIRROR / SECURITY_MIRROR for another mirror.
#
# Only Debian's apt repositories are used, through a private apt
# configuration, state and cache in a temporary directory: the machine's apt
# sources, lists, dpkg architectures and cache are neither read nor changed.
# Needs apt-get, dpkg-deb, bpftool, od, and the decompressor the kernel image
# uses (xz for Debian's amd64 bzImage); no root needed.
#
# How the BTF is found:
#  - amd64: vmlinuz is a bzImage; the compressed vmlinux inside it is found by
#    its compression magic (as the kernel's scripts/extract-vmlinux does) and
#    decompressed into an ELF whose .BTF section is the BTF.
#  - arm64: vmlinuz is a raw Image (not ELF; gzip-compressed in unsigned
#    packages, plain in the EFI-signed ones): the BTF blob is found by its
#    header - magic 0xeB9F, version 1, flags 0, hdr_len 24 - and its size is
#    hdr_len + the end of the type or string section, whichever is last.
# Either way the blob is checked with `bpftool btf dump ... format raw` before
# `bpftool btf dump ... format c` turns it into vmlinux.h.
set -eu

usage() {
	echo "usage: $0 amd64|arm64 [OUT]" >&2
	exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	usage
fi
ARCH=$1
case "$ARCH" in
amd64 | arm64) ;;
*) usage ;;
esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${2:-$ROOT/include/gadget/$ARCH/vmlinux.h}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
BPFTOOL=${BPFTOOL:-$(command -v bpftool || echo /usr/sbin/bpftool)}

die() {
	echo "make-vmlinux-h.sh: $*" >&2
	exit 1
}

[ -x "$BPFTOOL" ] || die "bpftool not found (set BPFTOOL)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sonde-vmlinux.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

# ---- a private apt for ARCH: bookworm's main, updates and security ----
A=$WORK/apt
mkdir -p "$A/etc/apt.conf.d" "$A/etc/preferences.d" "$A/etc/sources.list.d" \
	"$A/etc/trusted.gpg.d" "$A/state/lists/partial" "$A/cache/archives/partial"
: >"$A/status"
cat >"$A/etc/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# Dir::Etc first: APT_CONFIG is read before the apt.conf.d parts, so the
# machine's parts (and their hooks) are not read at all.
cat >"$A/apt.conf" <<EOF
Dir::Etc "$A/etc";
Dir::State "$A/state";
Dir::State::status "$A/status";
Dir::Cache "$A/cache";
APT::Architecture "$ARCH";
APT::Architectures { "$ARCH"; };
Acquire::Languages "none";
APT::Sandbox::User "$(id -un)";
EOF
export APT_CONFIG="$A/apt.conf"
echo "apt-get update (private state in $A)" >&2
apt-get -q update >"$WORK/update.log" 2>&1 || {
	cat "$WORK/update.log" >&2
	die "apt-get update failed"
}

# ---- the kernel package ----
if [ -z "${KERNEL_PKG:-}" ]; then
	KERNEL_PKG=$(apt-cache depends "linux-image-$ARCH" |
		sed -n "s/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-$ARCH\)\$/\1/p" | head -n1)
	[ -n "$KERNEL_PKG" ] || die "linux-image-$ARCH depends on no linux-image-6.1.0-*-$ARCH"
fi
case "$KERNEL_PKG" in
linux-image-*-"$ARCH" | linux-image-*-"$ARCH"-unsigned) ;;
*) die "KERNEL_PKG=$KERNEL_PKG: expected linux-image-<version>-${ARCH}[-unsigned]" ;;
esac
echo "downloading $KERNEL_PKG ($ARCH)" >&2
(cd "$WORK" && apt-get -q download "$KERNEL_PKG" >"$WORK/download.log" 2>&1) || {
	cat "$WORK/download.log" >&2
	die "apt-get download $KERNEL_PKG failed"
}
DEB=$(ls "$WORK"/"$KERNEL_PKG"_*.deb)
VERSION=$(dpkg-deb -f "$DEB" Version)
dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$WORK" --wildcards './boot/vmlinuz-*'
VMLINUZ=$(ls "$WORK"/boot/vmlinuz-*)

# offsets (0-based) of a byte pattern (grep -P escapes) in a file
offsets() {
	LC_ALL=C grep -obUaP "$1" "$2" | cut -d: -f1 || true
}

# u32 little-endian at byte offset $2 of file $1 (both architectures are LE)
u32() {
	od -An -t u4 --endian=little -j "$2" -N 4 "$1" | tr -d ' '
}

is_elf() {
	[ "$(head -c 4 "$1" | od -An -t x1 | tr -d ' ')" = 7f454c46 ]
}

# ---- the kernel image, decompressed ----
KERNEL=$WORK/kernel
case "$ARCH" in
amd64)
	# bzImage: setup code, then the compressed vmlinux; try each known
	# compression at each place its magic occurs until one gives an ELF
	for c in '\xfd7zXZ\x00:xz -dc' '\x1f\x8b\x08:gzip -dc' '\x28\xb5\x2f\xfd:zstd -dcq' \
		'\x02\x21\x4c\x18:lz4 -dc' '\x5d\x00\x00\x00:xz -dc --format=lzma' \
		'BZh:bzip2 -dc'; do
		magic=${c%%:*}
		tool=${c#*:}
		command -v "${tool%% *}" >/dev/null || continue
		for off in $(offsets "$magic" "$VMLINUZ"); do
			tail -c +$((off + 1)) "$VMLINUZ" | $tool >"$KERNEL" 2>/dev/null || true
			is_elf "$KERNEL" && break 2
		done
	done
	is_elf "$KERNEL" || die "no compressed ELF vmlinux found in $VMLINUZ"
	;;
arm64)
	if [ "$(head -c 2 "$VMLINUZ" | od -An -t x1 | tr -d ' ')" = 1f8b ]; then
		gzip -dc "$VMLINUZ" >"$KERNEL"
	else
		cp "$VMLINUZ" "$KERNEL"
	fi
	;;
esac

# ---- the BTF blob ----
BTF=$WORK/vmlinux.btf
if is_elf "$KERNEL"; then
	objcopy -O binary --only-section=.BTF "$KERNEL" "$BTF" 2>/dev/null ||
		llvm-objcopy -O binary --only-section=.BTF "$KERNEL" "$BTF"
	[ -s "$BTF" ] || die "$VMLINUZ: the kernel has no .BTF section"
else
	size=$(wc -c <"$KERNEL")
	for off in $(offsets '\x9f\xeb\x01\x00\x18\x00\x00\x00' "$KERNEL"); do
		type_off=$(u32 "$KERNEL" $((off + 8)))
		type_len=$(u32 "$KERNEL" $((off + 12)))
		str_off=$(u32 "$KERNEL" $((off + 16)))
		str_len=$(u32 "$KERNEL" $((off + 20)))
		end=$((type_off + type_len))
		[ $((str_off + str_len)) -gt $end ] && end=$((str_off + str_len))
		len=$((24 + end))
		# a plausible header (both sections non-empty, inside the image);
		# bpftool then checks the whole blob
		if [ "$type_len" -eq 0 ] || [ "$str_len" -eq 0 ] || [ $((off + len)) -gt "$size" ]; then
			continue
		fi
		tail -c +$((off + 1)) "$KERNEL" | head -c "$len" >"$BTF"
		"$BPFTOOL" btf dump file "$BTF" format raw >/dev/null 2>&1 && break
		rm -f "$BTF"
	done
	[ -s "$BTF" ] || die "$VMLINUZ: no BTF blob (magic 0xeB9F) found in the image"
fi
"$BPFTOOL" btf dump file "$BTF" format raw | head -n 3 >&2 ||
	die "bpftool does not read the BTF cut from $VMLINUZ"
ntypes=$("$BPFTOOL" btf dump file "$BTF" format raw | grep -c '^\[')
[ "$ntypes" -gt 10000 ] || die "BTF of $VMLINUZ has only $ntypes types: not a kernel's"

# ---- vmlinux.h ----
mkdir -p "$(dirname "$OUT")"
{
	echo "/* Generated by scripts/make-vmlinux-h.sh from Debian's $KERNEL_PKG $VERSION ($ARCH), $ntypes BTF types, $("$BPFTOOL" version | sed -n "1s|^.*/||p"). Do not edit. */"
	"$BPFTOOL" btf dump file "$BTF" format c
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT ($(wc -c <"$OUT") bytes) from $KERNEL_PKG $VERSION" >&2
