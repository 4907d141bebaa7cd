#!/usr/bin/env bash
# Makes a local certificate authority and a server certificate signed by it, with openssl only.
#
#   ./ca_gen.sh [--force] [--days N] [NAME-OR-IP ...]
#
# Writes certs/ca.crt (give this to clients), certs/ca.key (keep it private), and
# certs/server.crt + certs/server.key (the server's). The server certificate is valid for
# localhost, 127.0.0.1, ::1 and every NAME-OR-IP given, such as the LAN address people use.
set -euo pipefail

force=0
days=825
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --days) shift; days="${1:?--days needs a number}" ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "ca_gen.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) names+=("$1") ;;
  esac
  shift
done

command -v openssl >/dev/null || { echo "ca_gen.sh: openssl is needed: sudo apt-get install -y openssl" >&2; exit 1; }
dir="$(cd "$(dirname "$0")" && pwd)/certs"
mkdir -p "$dir"
if [ "$force" -eq 0 ]; then
  for f in ca.crt ca.key server.crt server.key; do
    if [ -e "$dir/$f" ]; then
      echo "ca_gen.sh: $dir/$f exists; run with --force to replace the certificates" >&2
      exit 1
    fi
  done
fi

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for n in "${names[@]+"${names[@]}"}"; do
  if [[ "$n" =~ ^[0-9.]+$ || "$n" == *:* ]]; then san="$san,IP:$n"; else san="$san,DNS:$n"; fi
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
umask 077
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days "$days" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.crt" -subj "/CN=tlschat local CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -sha256 -nodes -keyout "$tmp/server.key" -out "$tmp/server.csr" \
  -subj "/CN=tlschat server" 2>/dev/null
cat > "$tmp/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
EXT
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days "$days" -sha256 -extfile "$tmp/ext.cnf" -out "$tmp/server.crt" 2>/dev/null
# PKCS#8 keys load everywhere native-tls runs.
openssl pkcs8 -topk8 -nocrypt -in "$tmp/server.key" -out "$tmp/server.pk8"
mv "$tmp/server.pk8" "$dir/server.key"
mv "$tmp/ca.key" "$tmp/server.crt" "$dir/"
umask 022
cp "$tmp/ca.crt" "$dir/ca.crt"
chmod 644 "$dir/ca.crt" "$dir/server.crt"

echo "Wrote $dir/ca.crt, ca.key, server.crt, server.key"
echo "Server names: $san"
echo "CA     $(openssl x509 -in "$dir/ca.crt" -noout -fingerprint -sha256)"
echo "Server $(openssl x509 -in "$dir/server.crt" -noout -fingerprint -sha256)"
echo "Give certs/ca.crt to your clients (client --ca FILE); keep certs/ca.key private."
