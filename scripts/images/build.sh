#!/usr/bin/env bash
# Builds Flotilla's test images as OCI image layout tarballs from the static busybox on this
# machine, with no network: `ctr -n k8s.io images import` loads them and CRI then finds them as
# docker.io/flotilla/<name>:1.
#
#   scripts/images/build.sh OUTDIR
#
# OUTDIR/pause.tar    flotilla/pause:1    busybox + sleep; Cmd sleeps for ~68 years (the sandbox image)
# OUTDIR/busybox.tar  flotilla/busybox:1  busybox with every applet linked in /bin; Cmd sh
#
# The output is reproducible: every file has mtime 0, owner 0:0, a fixed mode and sorted entries,
# and the JSON documents are written byte for byte by this script, so equal inputs give equal
# digests on every machine with the same busybox.
set -euo pipefail

busybox_path=${BUSYBOX:-/bin/busybox}
# The applets the tests and users rely on; the build fails loudly if this busybox lacks one.
required_applets=(sh httpd nc wget nslookup sleep cat echo ls)
# The sandbox's only process sleeps for 2^31-1 seconds (about 68 years): "forever" for a pod.
pause_sleep_seconds=2147483647
image_path_env="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

die() { echo "images/build.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
out_dir=$1
[ -x "$busybox_path" ] || die "no executable busybox at $busybox_path (apt-get install busybox-static)"
if command -v file >/dev/null && ! file -L "$busybox_path" | grep -q "statically linked"; then
  die "$busybox_path is not statically linked; install busybox-static"
fi
case "$(uname -m)" in
  x86_64) architecture=amd64 ;;
  aarch64) architecture=arm64 ;;
  armv7l) architecture=arm ;;
  *) die "unsupported machine $(uname -m)" ;;
esac

work_dir=$(mktemp -d)
trap 'rm -rf "$work_dir"' EXIT

# Deterministic tar: sorted names, fixed mtime/owner, no atime/ctime, GNU format (no pax headers).
deterministic_tar() {
  local archive=$1 dir=$2
  tar --create --file "$archive" --directory "$dir" --format=gnu --sort=name --mtime=@0 \
    --owner=0 --group=0 --numeric-owner --no-acls --no-xattrs --no-selinux .
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
size_of() { stat -c %s "$1"; }

# make_rootfs DIR APPLET... : /bin/busybox plus one symlink per applet, /etc with root and nobody.
make_rootfs() {
  local root=$1
  shift
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/var/www"
  install -m 0755 "$busybox_path" "$root/bin/busybox"
  local applet
  for applet in "$@"; do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
  chmod 0644 "$root/etc/passwd" "$root/etc/group"
  chmod 0755 "$root" "$root/bin" "$root/etc" "$root/root" "$root/var" "$root/var/www"
  chmod 1777 "$root/tmp"
}

# write_blob LAYOUT FILE : moves FILE into LAYOUT/blobs/sha256/<digest>; prints the digest.
write_blob() {
  local layout=$1 file=$2 digest
  digest=$(sha256_of "$file")
  mv "$file" "$layout/blobs/sha256/$digest"
  echo "$digest"
}

# build_image NAME CMD_JSON APPLET... : writes $out_dir/NAME.tar for docker.io/flotilla/NAME:1.
build_image() {
  local name=$1 cmd_json=$2
  shift 2
  local root="$work_dir/$name-rootfs" layout="$work_dir/$name-layout"
  make_rootfs "$root" "$@"
  mkdir -p "$layout/blobs/sha256"

  deterministic_tar "$work_dir/$name-layer.tar" "$root"
  local layer_size layer_digest
  layer_size=$(size_of "$work_dir/$name-layer.tar")
  layer_digest=$(write_blob "$layout" "$work_dir/$name-layer.tar")

  # An uncompressed layer's diff_id equals its digest.
  printf '{"architecture":"%s","config":{"Cmd":%s,"Env":["%s"],"WorkingDir":"/"},"created":"1970-01-01T00:00:00Z","history":[{"created":"1970-01-01T00:00:00Z","created_by":"scripts/images/build.sh"}],"os":"linux","rootfs":{"diff_ids":["sha256:%s"],"type":"layers"}}' \
    "$architecture" "$cmd_json" "$image_path_env" "$layer_digest" >"$work_dir/$name-config.json"
  local config_size config_digest
  config_size=$(size_of "$work_dir/$name-config.json")
  config_digest=$(write_blob "$layout" "$work_dir/$name-config.json")

  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
    "$config_digest" "$config_size" "$layer_digest" "$layer_size" >"$work_dir/$name-manifest.json"
  local manifest_size manifest_digest
  manifest_size=$(size_of "$work_dir/$name-manifest.json")
  manifest_digest=$(write_blob "$layout" "$work_dir/$name-manifest.json")

  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"io.containerd.image.name":"docker.io/flotilla/%s:1","org.opencontainers.image.ref.name":"1"}}]}' \
    "$manifest_digest" "$manifest_size" "$name" >"$layout/index.json"
  chmod -R u=rwX,go=rX "$layout"

  deterministic_tar "$out_dir/$name.tar" "$layout"
  echo "images/build.sh: $out_dir/$name.tar docker.io/flotilla/$name:1 manifest sha256:$manifest_digest"
}

mapfile -t all_applets < <("$busybox_path" --list)
declare -A have_applet=()
for applet in "${all_applets[@]}"; do have_applet[$applet]=1; done
# A lookup table, not `printf | grep -q`: grep -q exits at the first match and, under pipefail,
# printf's SIGPIPE would make a present applet look missing.
for applet in "${required_applets[@]}"; do
  [ -n "${have_applet[$applet]:-}" ] || die "$busybox_path has no applet $applet"
done

mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
build_image pause "[\"sleep\",\"$pause_sleep_seconds\"]" sleep
build_image busybox '["sh"]' "${all_applets[@]}"
