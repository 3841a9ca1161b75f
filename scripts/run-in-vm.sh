#!/bin/bash
# Runs a command as root under another kernel: Debian's stock kernel (linux-image-amd64: 6.1 LTS on
# Debian 12, with kprobes, fentry and the BPF LSM) booted in qemu, with this machine's whole file
# system as its root (a read-only 9p share with a tmpfs overlay on top: the host is never written).
# Without KVM qemu emulates (TCG): a boot takes ~10 s and code runs several times slower.
#
# usage: scripts/run-in-vm.sh [-k KERNEL_VERSION] [-m MiB] [-c CPUS] [-t SECONDS] [-o OUTDIR] -- CMD [ARGS...]
#   CMD runs in the current directory (the same path inside the VM) with /proc, /sys, /dev, tracefs,
#   debugfs, securityfs, bpffs and cgroup2 mounted, and tmpfs on /tmp, /var/tmp, /run and the
#   podman and containerd stores (/var/lib/containers, /var/lib/containerd, empty in the VM): container
#   runtimes put overlayfs upper directories there, which an overlayfs root cannot hold (a current
#   directory under one of them is brought back over it). OUTDIR is shared read-write at the same path. The kernel is the newest in /boot that is not the running one.
#   Prints CMD's output; exits with its status (124: timed out, 125: the VM did not run it).
# Needs: qemu-system-x86, linux-image-amd64, busybox-static, cpio (scripts/install-deps.sh --vm).
set -eu
KVER=""; MEM=4096; CPUS=2; TMO=600; OUT=""
while getopts "k:m:c:t:o:" o; do
	case $o in
	k) KVER=$OPTARG ;; m) MEM=$OPTARG ;; c) CPUS=$OPTARG ;; t) TMO=$OPTARG ;;
	o) OUT=$(readlink -f "$OPTARG") ;; *) exit 2 ;;
	esac
done
shift $((OPTIND - 1)); [[ ${1:-} == -- ]] && shift
(($#)) || { echo "usage: $0 [-k KVER] [-m MiB] [-c CPUS] [-t SEC] [-o OUTDIR] -- CMD..." >&2; exit 2; }
[[ -n $KVER ]] || KVER=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's#.*/vmlinuz-##' | grep -v "^$(uname -r)$" | sort -V | tail -n 1)
[[ -n $KVER && -f /boot/vmlinuz-$KVER ]] || { echo "run-in-vm: no guest kernel in /boot (apt-get install linux-image-amd64)" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "run-in-vm: no qemu (apt-get install qemu-system-x86)" >&2; exit 2; }
[[ -x /bin/busybox ]] || { echo "run-in-vm: no /bin/busybox (apt-get install busybox-static)" >&2; exit 2; }
# The VM mounts a tmpfs on /tmp, /var/tmp and /run. A working directory under one of them (a clone
# made in /tmp, as CI may do) is brought back over it: its first directory below that mount point,
# as an overlay of the host's copy (writable in the VM, the host untouched).
KEEP=
for t in /var/tmp /tmp /run; do
	if [[ $PWD == "$t"/* ]]; then
		rest=${PWD#"$t"/}
		KEEP=$t/${rest%%/*}
		break
	fi
done

W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
M=/lib/modules/$KVER/kernel
mkdir -p "$W/r/bin" "$W/r/mods" "$W/r/proc" "$W/r/sys" "$W/r/mnt" "$W/r/up" "$W/r/new"
cp /bin/busybox "$W/r/bin/"
for c in sh mount insmod chroot mkdir cat echo sleep; do ln -s busybox "$W/r/bin/$c"; done
# What the initramfs needs to reach the root: virtio, 9p and overlayfs. Everything else loads later
# from the root's own /lib/modules (modprobe works there).
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev \
	drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci fs/netfs/netfs fs/fscache/fscache \
	net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p fs/overlayfs/overlay; do
	f=$(ls $M/$m.ko* 2>/dev/null | head -n 1) || true
	[[ -n $f ]] && cp "$f" "$W/r/mods/"
done
printf '%q ' "$@" >"$W/r/cmd"; echo >>"$W/r/cmd"
# KEEP and OUTDIR are mounted after the tmpfs mounts, so they may lie under /tmp.
cat >"$W/r/init" <<INIT
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay; do
  [ -f /mods/\$m.ko ] && insmod /mods/\$m.ko 2>/dev/null
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 host /mnt || { echo "vm: cannot mount the host root"; echo o >/proc/sysrq-trigger; sleep 9; }
mount -t tmpfs up /up; mkdir -p /up/u /up/w
mount -t overlay overlay -o lowerdir=/mnt,upperdir=/up/u,workdir=/up/w /new || { echo "vm: overlay failed"; echo o >/proc/sysrq-trigger; sleep 9; }
for d in proc sys dev; do mount --rbind /\$d /new/\$d 2>/dev/null || mount -t \$d \$d /new/\$d; done
mount -t devtmpfs dev /new/dev 2>/dev/null
mkdir -p /new/dev/pts /new/dev/shm; mount -t devpts devpts /new/dev/pts; mount -t tmpfs shm /new/dev/shm
mount -t tracefs nodev /new/sys/kernel/tracing; mount -t debugfs nodev /new/sys/kernel/debug
mount -t securityfs nodev /new/sys/kernel/security; mount -t bpf bpf /new/sys/fs/bpf
mount -t cgroup2 none /new/sys/fs/cgroup 2>/dev/null
for d in run tmp var/tmp; do mount -t tmpfs -o mode=1777 \$(echo \$d | tr / _) /new/\$d; done
for d in var/lib/containers var/lib/containerd; do mkdir -p /new/\$d; mount -t tmpfs -o mode=0711 \$(echo \$d | tr / _) /new/\$d; done
[ -n "$KEEP" ] && mkdir -p /up/k/u /up/k/w "/new$KEEP" && mount -t overlay overlay -o "lowerdir=/mnt$KEEP,upperdir=/up/k/u,workdir=/up/k/w" "/new$KEEP"
[ -n "$OUT" ] && mkdir -p "/new$OUT" && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out "/new$OUT"
cp /cmd /new/run/vm-cmd
echo; echo "vm: kernel \$(cat /proc/sys/kernel/osrelease)"
# a booted machine has loopback up; nothing in this init brings it up otherwise
chroot /new ip link set lo up
chroot /new /bin/bash -c "cd '$PWD' && . /run/vm-cmd; echo \"vm: exit \\\$?\""
echo o >/proc/sysrq-trigger; sleep 9
INIT
chmod +x "$W/r/init"
(cd "$W/r" && find . | cpio -o -H newc 2>/dev/null | gzip >"$W/initrd.gz")
share=(-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap)
[[ -n $OUT ]] && share+=(-virtfs "local,path=$OUT,mount_tag=out,security_model=none,multidevs=remap")
# TCG unless told (SONDE_VM_ACCEL=kvm): a nested /dev/kvm may exist and hang instead of failing.
# Single-threaded TCG: with one host thread per vCPU (MTTCG) a 6.1 guest locked up in
# syscall_trace_enter while the other vCPU patched the tracepoint static keys (text_poke), in 1 of 3
# runs of test_ebpf_run; one thread for both vCPUs ran it 6 times in a row without, no slower here.
accel=(-accel "${SONDE_VM_ACCEL:-tcg,thread=single}")
# The command's output streams as it comes (a long suite is not silent for minutes): the serial
# console from the "vm: kernel" line on, without kernel messages and the exit marker.
set +e
: >"$W/log" # before tail opens it
timeout "$TMO" qemu-system-x86_64 "${accel[@]}" -cpu max -smp "$CPUS" -m "$MEM" -kernel "/boot/vmlinuz-$KVER" \
	-initrd "$W/initrd.gz" -append "console=ttyS0 panic=-1 softlockup_panic=1 loglevel=${SONDE_VM_LOGLEVEL:-1}" "${share[@]}" \
	-nographic -no-reboot </dev/null >>"$W/log" 2>&1 &
qemu=$!
tail -n +1 -f --pid=$qemu "$W/log" | sed -u -n 's/\r$//; /vm: kernel/,$p' | sed -u 's/^.*vm: kernel/vm: kernel/' |
	grep -av --line-buffered -e '^\[ *[0-9.]*\]' -e '^vm: exit'
wait $qemu
rc=$?
set -e
((rc == 124)) && { echo "run-in-vm: timed out after $TMO s" >&2; exit 124; }
st=$(grep -a '^vm: exit' "$W/log" | tr -d '\r' | awk '{print $3}' | tail -n 1)
if [[ -z $st ]]; then
	# a kernel that died says why from its first BUG/panic line on; else the last lines
	echo "run-in-vm: the command did not finish; the console:" >&2
	if grep -aqE 'BUG:|Kernel panic|Oops' "$W/log"; then
		tr -d '\r' <"$W/log" | sed -n '/BUG:\|Kernel panic\|Oops/,$p' | head -n 120 >&2
	else
		tr -d '\r' <"$W/log" | tail -n 20 >&2
	fi
	[[ -n ${SONDE_VM_CONSOLE_LOG:-} ]] && cp "$W/log" "$SONDE_VM_CONSOLE_LOG"
	exit 125
fi
exit "$st"
