#!/usr/bin/env bash
# Regenerates docs/screenshot.png: the real server, the GTK client as "alice", and two
# people on the terminal client (`chat`) talking to her, all under a private Xvfb display.
#
#   client/screenshot.sh            (from anywhere; needs xvfb-run, xdotool, imagemagick)
#
# Set CARGO_TARGET_DIR as usual to choose where cargo builds; NO_BUILD=1 uses what is built.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ "${TLSCHAT_SCREENSHOT_INNER:-}" != 1 ]]; then
    if [[ "${NO_BUILD:-}" != 1 ]]; then
        cargo build --quiet --bin server --bin chat
        cargo build --quiet -p tlschat-client --bin client
    fi
    export TLSCHAT_SCREENSHOT_INNER=1
    # -r: no key auto-repeat, which on a busy machine turns "bob" into "bbbbob" as xdotool types.
    exec xvfb-run -a -s '-screen 0 1280x800x24 -r' "$0" "$@"
fi

bin="${CARGO_TARGET_DIR:-$root/target}/debug"
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# A light theme and fixed fonts make the picture the same on every machine.
export GTK_THEME=Adwaita LANG=C.UTF-8 TZ=Europe/Paris

"$bin/server" --listen 127.0.0.1:0 --no-persist 2>"$work/server.log" &
pids+=($!)
for _ in $(seq 50); do
    port="$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/server.log" | head -1 | cut -d: -f2 || true)"
    [[ -n "$port" ]] && break
    sleep 0.1
done
server="127.0.0.1:$port"

# Each participant reads its lines from a script: "sleep N" pauses, anything else is said.
participant() {
    local nick="$1"
    shift
    {
        for line in "$@"; do
            case "$line" in
                "sleep "*) sleep "${line#sleep }" ;;
                *) printf '%s\n' "$line" ;;
            esac
        done
        sleep 30
    } | "$bin/chat" --server "$server" --nickname "$nick" >/dev/null 2>&1 &
    pids+=($!)
}

participant carol "sleep 0.3" "has anyone tried the new GTK client yet?"
participant bob "sleep 0.6" "not yet, is it any good?" \
    "sleep 2.5" \
    "morning alice! did the certificate rotation go through?" \
    "sleep 3.5" \
    "great, the notes are at https://example.org/tlschat/rotation" \
    "/me puts the kettle on" \
    "sleep 1.5" \
    "/msg alice can you review my patch after lunch?"

sleep 1.5
"$bin/client" --server "$server" --nickname alice --connect 2>"$work/client.log" &
pids+=($!)
window="$(xdotool search --sync --onlyvisible --name "tlschat: alice @")"

sleep 1.5
xdotool windowfocus --sync "$window"
xdotool type --delay 25 "yes, the new fingerprint is in the padlock popover"
xdotool key Return
participant dave "sleep 1" "hi all, back in an hour" "sleep 0.5" "/quit"
sleep 4
xdotool type --delay 25 "sure bob, 2pm works"
xdotool key Return
sleep 1
xdotool type --delay 25 "thanks car"
xdotool key Tab
sleep 1.5

mkdir -p docs
import -window "$window" docs/screenshot.png
echo "wrote $root/docs/screenshot.png"
