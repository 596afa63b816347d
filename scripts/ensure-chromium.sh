#!/usr/bin/env bash
# Installs Debian's Chromium, and the CJK fonts the zh-CN console needs to render its text, for the
# real-browser tests (tests/browser) when either is missing: `apt-get update` then
# `apt-get install -y chromium fonts-noto-cjk`, as root (CI runs as root). Idempotent and silent
# when both are there; tests/browser's `test` script runs it first.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
CJK_FONT=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
if [ -x "$CHROMIUM" ] && [ -f "$CJK_FONT" ]; then exit 0; fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: $CHROMIUM or $CJK_FONT is missing and this is not root; install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y chromium fonts-noto-cjk" >&2
  exit 1
fi

echo "ensure-chromium: installing Debian's chromium and fonts-noto-cjk (apt-get) …" >&2
export DEBIAN_FRONTEND=noninteractive
# dpkg's maintainer scripts need the sbin tools (ldconfig, …), which a test runner's PATH may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >&2
if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: apt-get installed chromium but $CHROMIUM is still missing" >&2
  exit 1
fi
echo "ensure-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed" >&2
