#!/usr/bin/env bash
# Install Debian's chromium for the browser tests when it is missing. Playwright drives it at
# /usr/bin/chromium; its own browser download is not used (no internet beyond package registries).
# A CJK font comes along so the Chinese pages in screenshots are legible.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "chromium is missing and installing it needs root (apt-get install chromium)" >&2; exit 1; }
  SUDO="sudo"
fi
echo "installing Debian's chromium for the browser tests"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
/usr/bin/chromium --version
