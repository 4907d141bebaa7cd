#!/usr/bin/env bash
# Runs one bench workload against tlschat's server, ngIRCd and InspIRCd, side by side.
#
#   tools/peers.sh [--runs K] [--servers "tlschat ngircd inspircd"] [--out DIR] -- BENCH ARGS...
#   tools/peers.sh --runs 3 -- --clients 100 --messages 100 --rate 20
#   tools/peers.sh --runs 3 -- --connections 2000 --connect-rate 200
#
# Every run starts a fresh server on 127.0.0.1 with TLS on a free port and our development
# certificate (certs/server.crt, valid for 127.0.0.1 and localhost), runs `bench` against
# it, and stops it by PID. Runs alternate between the servers (tlschat, ngircd, inspircd,
# tlschat, ...) so that a change in the machine's load hits all of them alike. Then it
# prints, per server, the median of each key figure over the runs, and a markdown table.
#
# The IRC servers come from Debian (installed with apt-get when missing, which needs
# root), each from a private configuration in a temporary directory, in the foreground,
# with flood and connection limits off so that they are measured, not throttled. The JSON
# report of every run is kept in --out (default: a new temporary directory).
set -euo pipefail

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}

RUNS=3
SERVERS="tlschat ngircd inspircd"
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) RUNS="${2:?--runs needs a number}"; shift 2 ;;
        --servers) SERVERS="${2:?--servers needs a list}"; shift 2 ;;
        --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        *) echo "peers.sh: unknown option '$1' (the bench's own options go after --)" >&2; exit 2 ;;
    esac
done
BENCH_ARGS=("$@")
if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then
    echo "peers.sh: --runs must be a whole number of at least 1" >&2
    exit 2
fi
for s in $SERVERS; do
    case "$s" in
        tlschat|ngircd|inspircd) ;;
        *) echo "peers.sh: unknown server '$s' (tlschat, ngircd or inspircd)" >&2; exit 2 ;;
    esac
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
BENCH="$TARGET/release/bench"

# --- what this needs -----------------------------------------------------------------------

need_packages=()
[[ " $SERVERS " == *" ngircd "* ]] && ! command -v ngircd >/dev/null && need_packages+=(ngircd)
[[ " $SERVERS " == *" inspircd "* ]] && ! command -v inspircd >/dev/null && need_packages+=(inspircd)
command -v jq >/dev/null || need_packages+=(jq)
if [[ ${#need_packages[@]} -gt 0 ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "peers.sh: ${need_packages[*]} missing; install them as root: apt-get install ${need_packages[*]}" >&2
        exit 1
    fi
    echo "peers.sh: installing ${need_packages[*]} from Debian" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_packages[@]}" >&2
    # The packages start system-wide daemons; those would share the machine with the runs.
    for unit in ngircd inspircd; do
        systemctl disable --now "$unit" >/dev/null 2>&1 || service "$unit" stop >/dev/null 2>&1 || true
    done
fi

echo "peers.sh: building the release server and bench" >&2
(cd "$REPO" && cargo build --release --bin server --bin bench >&2)

# Thousands of connections need thousands of descriptors, for the servers and the bench.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK="$(mktemp -d /tmp/tlschat-peers.XXXXXX)"
OUT="${OUT:-$WORK/results}"
mkdir -p "$OUT"
# ngIRCd drops root for "nobody"; it must still read its configuration and certificate.
chmod 755 "$WORK"
cp "$REPO/certs/server.crt" "$REPO/certs/server.key" "$WORK/"
chmod 644 "$WORK/server.crt" "$WORK/server.key"

SERVER_PID=""
# The last run's configurations and logs stay next to the reports, for a look afterwards.
cleanup() {
    stop_server
    rm -f "$WORK/server.crt" "$WORK/server.key"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- servers -------------------------------------------------------------------------------

# A TCP port on 127.0.0.1 that nothing listens on, below the ephemeral range so that no
# client connection holds it.
free_port() {
    local port low
    low="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
    for _ in $(seq 1 100); do
        port=$((10000 + RANDOM % (low - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    echo "peers.sh: found no free port" >&2
    exit 1
}

# Waits until PID listens on PORT, for up to 60 s (ngIRCd makes Diffie-Hellman parameters
# at start); fails if it exits first.
wait_listening() {
    local pid="$1" port="$2"
    for _ in $(seq 1 600); do
        kill -0 "$pid" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "peers.sh: the server did not listen on port $port within 60 s" >&2
    exit 1
}

stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_WRAPPER" 2>/dev/null || true
        SERVER_PID=""
    fi
}

write_ngircd_conf() {
    local dir="$1" port="$2"
    mkdir -p "$dir/include"
    cat >"$dir/ngircd.conf" <<EOF
# Written by tools/peers.sh: TLS only, on loopback, every limit off.
[Global]
Name = bench.ngircd
Info = tlschat bench peer
AdminInfo1 = tlschat bench
AdminInfo2 = loopback only
AdminEMail = bench@localhost
Listen = 127.0.0.1
# No plain-text port: TLS only.
Ports =
MotdPhrase = bench
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 31
MaxPenaltyTime = 0
IdleTimeout = 0
PingTimeout = 120
PongTimeout = 60
[Options]
DNS = no
Ident = no
PAM = no
MorePrivacy = no
IncludeDir = $dir/include
# User mode F ("relaxed flood protection") lifts the per-client command limit that
# MaxPenaltyTime does not; set by the server itself it needs no operator.
DefaultUserModes = F
[SSL]
CertFile = $WORK/server.crt
KeyFile = $WORK/server.key
Ports = $port
EOF
}

write_inspircd_conf() {
    local dir="$1" port="$2"
    mkdir -p "$dir"
    echo "bench" >"$dir/motd.txt"
    cat >"$dir/inspircd.conf" <<EOF
<config format="xml">
<server name="bench.inspircd" description="tlschat bench peer" network="bench">
<admin name="tlschat bench" nick="bench" email="bench@localhost">
<module name="ssl_gnutls">
<sslprofile name="bench" provider="gnutls" certfile="$WORK/server.crt" keyfile="$WORK/server.key" dhfile="" hash="sha256" requestclientcert="no">
<bind address="127.0.0.1" port="$port" type="clients" ssl="bench">
<connect name="bench" allow="*" maxchans="100" timeout="60" pingfreq="120"
         hardsendq="1M" softsendq="1M" recvq="1M" fakelag="no"
         threshold="1000000" commandrate="100000000" localmax="1000000" globalmax="1000000"
         limit="1000000" maxconnwarn="off" resolvehostnames="no" useident="no">
<performance netbuffersize="10240" somaxconn="4096" softlimit="100000" clonesonconnect="no" quietbursts="yes">
<limits maxnick="31" maxchan="64" maxident="11" maxhost="64" maxquit="255" maxtopic="307" maxkick="255" maxreal="128" maxaway="200">
<channels users="100" opers="100">
<pid file="$dir/inspircd.pid">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="$dir/inspircd.log">
<files motd="$dir/motd.txt">
<options defaultmodes="nt" syntaxhints="no" cyclehosts="no">
<whowas groupsize="0" maxgroups="0" maxkeep="0">
EOF
}

# Starts an IRC server; sets SERVER_PID and SERVER_PORT. Tries another port if the
# server cannot start on the first (another program may have taken it meanwhile).
start_irc() {
    local name="$1" dir="$WORK/$1"
    for _ in 1 2 3; do
        if start_irc_on "$name" "$(free_port)"; then
            return
        fi
        wait "$SERVER_WRAPPER" 2>/dev/null || true
        SERVER_PID=""
    done
    echo "peers.sh: $name did not start; its log:" >&2
    tail -n 20 "$dir/server.log" >&2
    exit 1
}

start_irc_on() {
    local name="$1" port="$2" dir="$WORK/$1" command
    rm -rf "$dir"
    case "$name" in
        ngircd)
            write_ngircd_conf "$dir" "$port"
            chmod -R a+rX "$dir"
            command=(ngircd --nodaemon --config "$dir/ngircd.conf")
            ;;
        inspircd)
            write_inspircd_conf "$dir" "$port"
            command=(inspircd --config "$dir/inspircd.conf" --nofork)
            [[ $(id -u) -eq 0 ]] && command+=(--runasroot)
            ;;
    esac
    # A wrapper shell waits for the server, so that how it ended goes to its log rather than
    # to this terminal (InspIRCd 3.15 may crash while unloading its modules at exit, after
    # the run), and no core file is left behind.
    (
        cd "$dir" && ulimit -c 0
        "${command[@]}" &
        echo $! >"$dir/server.pid"
        wait
    ) >"$dir/server.log" 2>&1 &
    SERVER_WRAPPER=$!
    for _ in $(seq 1 50); do
        [[ -s "$dir/server.pid" ]] && break
        sleep 0.1
    done
    SERVER_PID="$(cat "$dir/server.pid" 2>/dev/null || true)"
    SERVER_PORT="$port"
    wait_listening "$SERVER_PID" "$port"
}

# Runs bench once against SERVER (tlschat, ngircd or inspircd); keeps its JSON report.
run_once() {
    local name="$1" run="$2" report="$OUT/$1-$2.json" status=0
    echo "peers.sh: run $run of $RUNS: $name" >&2
    if [[ "$name" == tlschat ]]; then
        (cd "$REPO" && "$BENCH" --spawn-server "${BENCH_ARGS[@]}") >"$OUT/$name-$run.out" || status=$?
    else
        start_irc "$name"
        "$BENCH" --irc --server "127.0.0.1:$SERVER_PORT" --server-pid "$SERVER_PID" \
            "${BENCH_ARGS[@]}" >"$OUT/$name-$run.out" || status=$?
        stop_server
    fi
    grep -m1 '^{' "$OUT/$name-$run.out" >"$report" || echo '{"ok":false}' >"$report"
    sed -n '2,$p' "$OUT/$name-$run.out" >&2
    [[ $status -eq 0 ]] || echo "peers.sh: $name run $run found problems (exit $status)" >&2
}

for run in $(seq 1 "$RUNS"); do
    for name in $SERVERS; do
        run_once "$name" "$run"
    done
done

# --- medians -------------------------------------------------------------------------------

# The figures per mode: a label, then the jq path of the figure in a bench report.
LOAD_FIGURES=(
    "server CPU per delivery (us)|.server.cpu_us_per_delivery"
    "latency p50 (ms)|.latency_ms.p50"
    "latency p99 (ms)|.latency_ms.p99"
    "deliveries/s|.deliveries_per_sec"
    "server peak RSS (kB)|.server.peak_rss_kb"
)
CONNECTION_FIGURES=(
    "ramp (s)|.ramp_secs"
    "RSS per connection (kB)|.server.rss_kb_per_connection"
    "broadcast-to-all p50 (ms)|.latency_ms.p50"
    "broadcast-to-all p99 (ms)|.latency_ms.p99"
    "idle CPU in 10 s (s)|.server.idle_cpu_secs"
    "ramp CPU (s)|.server.ramp_cpu_secs"
)
if [[ " ${BENCH_ARGS[*]} " == *" --connections"* ]]; then
    FIGURES=("${CONNECTION_FIGURES[@]}")
else
    FIGURES=("${LOAD_FIGURES[@]}")
fi

MEDIAN='def median: map(select(. != null)) | sort
    | if length == 0 then null
      elif length % 2 == 1 then .[length / 2 | floor]
      else (.[length / 2 - 1] + .[length / 2]) / 2 end
    | if . == null then null else (. * 1000 | round) / 1000 end;'

versions="tlschat $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?')"
for s in ngircd inspircd; do
    [[ " $SERVERS " == *" $s "* ]] && versions+=", $s $(dpkg-query -W -f '${Version}' "$s" 2>/dev/null || echo '?')"
done
echo
echo "Medians of $RUNS runs: bench ${BENCH_ARGS[*]}"
echo "Servers: $versions"
header="| server | runs ok |"
rule="|---|---|"
for f in "${FIGURES[@]}"; do
    header+=" ${f%%|*} |"
    rule+="---|"
done
rows=()
for name in $SERVERS; do
    files=("$OUT/$name"-*.json)
    ok="$(jq -s '[.[] | select(.ok == true)] | length' "${files[@]}")"
    line="$name: $ok of ${#files[@]} runs ok (no loss, duplication, reordering or failure)"
    row="| $name | $ok / ${#files[@]} |"
    for f in "${FIGURES[@]}"; do
        value="$(jq -s "$MEDIAN [.[] | ${f#*|}] | median" "${files[@]}")"
        line+=$'\n'"  ${f%%|*}: $value"
        row+=" $value |"
    done
    echo "$line"
    rows+=("$row")
done
echo
echo "$header"
echo "$rule"
printf '%s\n' "${rows[@]}"
echo
echo "Reports of every run: $OUT"
