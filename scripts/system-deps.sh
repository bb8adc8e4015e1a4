#!/usr/bin/env bash
# Debian packages milchak needs: Chromium and a Korean font for the browser tests and charts,
# FreeType/Qhull headers for the Rasa virtualenv's matplotlib build. Installs only what is missing.
set -euo pipefail
wanted=(chromium fonts-nanum libfreetype-dev libqhull-dev pkg-config)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "==> installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
