#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those missing, only when we can (root + apt).
# Usage: scripts/sysdeps.sh [fonts] [chromium] [postgresql] [java]
set -euo pipefail
need=()
for what in "$@"; do
  case "$what" in
    fonts) fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei fontconfig) ;;
    chromium) command -v chromium >/dev/null 2>&1 || need+=(chromium) ;;
    postgresql) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql) ;;
    java) command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless) ;;
    *) echo "sysdeps: unknown item '$what'" >&2; exit 2 ;;
  esac
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "sysdeps: please install these system packages: ${need[*]}" >&2
  exit 0
fi
echo "sysdeps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
