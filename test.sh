#!/usr/bin/env bash
# Runs every test of tlschat: unit tests, end-to-end tests over real TLS sockets, and the GTK
# client under a virtual display (Xvfb). Installs the system packages it needs when run as
# root (or with passwordless sudo); otherwise says exactly what to install.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v cc >/dev/null || missing+=(build-essential)
command -v make >/dev/null || missing+=(make)
perl -MFindBin -e1 2>/dev/null || missing+=(perl)
command -v openssl >/dev/null || missing+=(openssl)
pkg-config --exists 'gtk4 >= 4.8' 2>/dev/null || missing+=(libgtk-4-dev)
command -v xvfb-run >/dev/null || missing+=(xvfb xauth)
command -v xdotool >/dev/null || missing+=(xdotool)
command -v tmux >/dev/null || missing+=(tmux)

if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  elif sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "test.sh: please run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# One virtual display for the whole run; GTK tests and the end-to-end GUI test share it.
exec xvfb-run -a -s '-screen 0 1280x800x24' cargo test --workspace "$@"
