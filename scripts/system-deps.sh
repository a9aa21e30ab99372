#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Lianhu needs, only where missing.
#   scripts/system-deps.sh run    what the server needs (audio tools, speech synthesis)
#   scripts/system-deps.sh test   plus what the tests drive (browser, SIP phone, SIP tester) and check
#                                 (systemd-analyze for the units, Caddy for the proxy, pg_dump for backups)
set -euo pipefail
profile=${1:-run}
need=(python3 python3-venv ffmpeg espeak-ng sox)
[ "$profile" = test ] && need+=(chromium fonts-wqy-microhei baresip-core sip-tester systemd caddy postgresql-client)

missing=()
for pkg in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# The machine's own python3 (for example pyenv's) counts as present.
if command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=("${missing[@]/python3-venv}"); missing=("${missing[@]/python3}")
fi
pkgs=$(printf '%s\n' "${missing[@]}" | grep -v '^$' || true)
[ -z "$pkgs" ] && exit 0
echo "Installing system packages: $(echo $pkgs)"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# An old or empty package list finds nothing: refresh it when older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
  $sudo apt-get update -qq
fi
$sudo apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
