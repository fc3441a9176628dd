#!/usr/bin/env bash
# Installs the Debian packages minicnn needs, if any is missing. Sourced by the other scripts;
# usable on its own: `bash scripts/install_deps.sh [extra-package ...]`.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

minicnn_install_deps() {
  local packages=(cmake g++ make libeigen3-dev doctest-dev libbenchmark-dev zlib1g-dev libstb-dev "$@")
  local missing=()
  local package
  for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "minicnn: installing Debian packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo="sudo"
    else
      echo "minicnn: missing packages (${missing[*]}) and not root; install them and retry." >&2
      return 1
    fi
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  minicnn_install_deps "$@"
fi
