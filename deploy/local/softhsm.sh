#!/usr/bin/env bash
# A throwaway SoftHSM2 token (Debian's softhsm2 package) in a directory of its own, without containers.
# Usage:
#   deploy/local/softhsm.sh init DIR [LABEL] [SO_PIN] [USER_PIN]
#       Creates DIR/softhsm2.conf (tokens in DIR/tokens) unless it exists, initialises a token labelled LABEL
#       (default "cmk-test") and prints shell-style KEY=VALUE lines on stdout:
#         SOFTHSM2_CONF, CMK_PKCS11_MODULE, CMK_PKCS11_TOKEN_LABEL, CMK_PKCS11_PIN
#       Run it again on the same DIR to add another token. PINs not given are generated for this run only:
#       they are printed once and written nowhere (the token keeps only their hashes).
#   deploy/local/softhsm.sh module        -> prints the path of libsofthsm2.so
#   deploy/local/softhsm.sh destroy DIR   -> removes DIR and every token in it
# When softhsm2 is missing it is installed with apt-get if we are root (a fresh CI machine); otherwise it fails.
# Use:  eval "$(deploy/local/softhsm.sh init /tmp/hsm)"
set -euo pipefail
cmd=${1:?init|module|destroy}

install_softhsm() {
  command -v softhsm2-util >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "softhsm2 not found: installing it with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q softhsm2 >&2 || { apt-get update -q >&2 && apt-get install -y -q softhsm2 >&2; }
  fi
  command -v softhsm2-util >/dev/null 2>&1 || {
    echo "SoftHSM2 not found (apt-get install softhsm2, as root)" >&2
    exit 3
  }
}

find_module() {
  local multiarch="" c
  command -v dpkg-architecture >/dev/null 2>&1 && multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || true)
  [ -z "$multiarch" ] && command -v gcc >/dev/null 2>&1 && multiarch=$(gcc -dumpmachine 2>/dev/null || true)
  for c in \
    /usr/lib/softhsm/libsofthsm2.so \
    ${multiarch:+/usr/lib/$multiarch/softhsm/libsofthsm2.so} \
    /usr/lib64/pkcs11/libsofthsm2.so \
    /usr/lib/pkcs11/libsofthsm2.so \
    /usr/local/lib/softhsm/libsofthsm2.so \
    /opt/homebrew/lib/softhsm/libsofthsm2.so; do
    if [ -f "$c" ]; then echo "$c"; return 0; fi
  done
  if command -v dpkg >/dev/null 2>&1; then
    c=$(dpkg -L libsofthsm2 softhsm2 2>/dev/null | grep -E '/libsofthsm2\.so$' | head -n1 || true)
    if [ -n "$c" ] && [ -f "$c" ]; then echo "$c"; return 0; fi
  fi
  echo "libsofthsm2.so not found (is the libsofthsm2 package installed?)" >&2
  return 1
}

random_pin() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }

case "$cmd" in
  init)
    dir=${2:?token directory}
    label=${3:-cmk-test}
    so_pin=${4:-$(random_pin)}
    pin=${5:-$(random_pin)}
    if [ ${#label} -gt 32 ]; then echo "token label longer than 32 characters: $label" >&2; exit 2; fi
    install_softhsm
    module=$(find_module)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    conf="$dir/softhsm2.conf"
    if [ ! -f "$conf" ]; then
      mkdir -p "$dir/tokens"
      chmod 700 "$dir" "$dir/tokens"
      cat >"$conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
    fi
    export SOFTHSM2_CONF="$conf"
    if softhsm2-util --show-slots 2>/dev/null | LABEL="$label" awk '
        $1 == "Label:" { sub(/^[[:space:]]*Label:[[:space:]]*/, ""); sub(/[[:space:]]+$/, ""); if ($0 == ENVIRON["LABEL"]) found = 1 }
        END { exit !found }'; then
      echo "a token labelled $label already exists in $dir" >&2
      exit 2
    fi
    # softhsm2-util's own chatter goes to stderr so stdout carries only KEY=VALUE lines.
    softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$pin" >&2
    printf '%s=%q\n' \
      SOFTHSM2_CONF "$conf" \
      CMK_PKCS11_MODULE "$module" \
      CMK_PKCS11_TOKEN_LABEL "$label" \
      CMK_PKCS11_PIN "$pin"
    ;;
  module)
    install_softhsm
    find_module
    ;;
  destroy)
    dir=${2:?token directory}
    [ -f "$dir/softhsm2.conf" ] || { echo "$dir does not look like a softhsm.sh directory" >&2; exit 2; }
    rm -rf "$dir"
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
