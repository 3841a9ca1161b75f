#!/bin/sh
# Pull of a ~5 MiB gadget image from a loopback docker-registry: sonde image
# pull against skopeo copy of the same image (issue 10: the pull must be
# limited by the disk, not by Sonde). Also the push both ways. Each tool
# runs RUNS times (default 3) into an empty store or layout; the output is
# one line per run with the wall time in ms.
#   bench/registry_pull.sh BUILD_DIR
set -eu
build=${1:?usage: registry_pull.sh BUILD_DIR}
sonde=$build/sonde
runs=${RUNS:-3}
tmp=$(mktemp -d /tmp/sonde-bench-registry.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
cat >"$tmp/config.yml" <<CFG
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $tmp/data }, delete: { enabled: true } }
http: { addr: $host }
CFG
env -u REGISTRY_AUTH_FILE docker-registry serve "$tmp/config.yml" >"$tmp/registry.log" 2>&1 &
pid=$!
until curl -sf "http://$host/v2/" >/dev/null; do sleep 0.05; done

# the image: an index, one amd64 manifest, gadget.yaml and a 5 MiB layer
python3 - "$tmp/layout" <<'PY'
import hashlib, json, os, sys
out = sys.argv[1]
os.makedirs(out + "/blobs/sha256")
def blob(data, mt, **extra):
    d = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return dict(mediaType=mt, digest="sha256:" + d, size=len(data), **extra)
cfg = blob(b"name: bench\n", "application/vnd.gadget.config.v1+yaml")
layer = blob(os.urandom(5 << 20), "application/vnd.gadget.ebpf.program.v1+binary")
man = blob(json.dumps(dict(schemaVersion=2, mediaType="application/vnd.oci.image.manifest.v1+json",
                           artifactType="application/vnd.gadget.v1+binary", config=cfg,
                           layers=[layer])).encode(), "application/vnd.oci.image.manifest.v1+json",
           platform=dict(architecture="amd64", os="linux"))
idx = blob(json.dumps(dict(schemaVersion=2, mediaType="application/vnd.oci.image.index.v1+json",
                           manifests=[man])).encode(), "application/vnd.oci.image.index.v1+json",
           annotations={"org.opencontainers.image.ref.name": "v1"})
json.dump(dict(schemaVersion=2, manifests=[idx]), open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$tmp/layout:v1" "docker://$host/bench/img:v1"

ms() { echo $(($(date +%s%N) / 1000000)); }
sync
for i in $(seq "$runs"); do
	rm -rf "$tmp/store" "$tmp/oci"
	t0=$(ms)
	"$sonde" image pull "$host/bench/img:v1" --store "$tmp/store" --insecure-registries "$host" -q >/dev/null
	t1=$(ms)
	skopeo copy -q --all --preserve-digests --src-tls-verify=false "docker://$host/bench/img:v1" "oci:$tmp/oci:v1"
	t2=$(ms)
	echo "pull run $i: sonde $((t1 - t0)) ms, skopeo $((t2 - t1)) ms"
done
# push into fresh repositories (nothing to skip or mount)
for i in $(seq "$runs"); do
	"$sonde" image tag "$host/bench/img:v1" "$host/bench/sonde$i:v1" --store "$tmp/store" >/dev/null
	t0=$(ms)
	"$sonde" image push "$host/bench/sonde$i:v1" --store "$tmp/store" --insecure-registries "$host" -q >/dev/null
	t1=$(ms)
	skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$tmp/oci:v1" "docker://$host/bench/skopeo$i:v1"
	t2=$(ms)
	echo "push run $i: sonde $((t1 - t0)) ms, skopeo $((t2 - t1)) ms"
done
du -sh "$tmp/store/blobs" | awk '{print "image size in the store: " $1}'
