#!/usr/bin/env bash
# Installs Debian's Prometheus (the server and promtool) for tests/operations when either is
# missing: `apt-get update` then `apt-get install -y prometheus`, as root (CI runs as root), as
# scripts/ensure-chromium.sh does for Chromium. Idempotent and silent when both are there;
# tests/operations' `test` script runs it first.
#
# Debian's package ships a systemd unit that would start a Prometheus on :9090 scraping nothing
# of ours; the tests run their own (own config, own data dir, 127.0.0.1:9490). So the install runs
# under a policy-rc.d that refuses every service start (exit 101, Debian's "action forbidden"),
# the way image builds install daemons, and removes it afterwards (only if this script wrote it).
set -euo pipefail

PROMETHEUS=/usr/bin/prometheus
PROMTOOL=/usr/bin/promtool
if [ -x "$PROMETHEUS" ] && [ -x "$PROMTOOL" ]; then exit 0; fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-prometheus: $PROMETHEUS or $PROMTOOL is missing and this is not root; install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus" >&2
  echo "  (then 'sudo systemctl disable --now prometheus': the tests run their own on 127.0.0.1:9490)" >&2
  exit 1
fi

echo "ensure-prometheus: installing Debian's prometheus (apt-get) …" >&2
export DEBIAN_FRONTEND=noninteractive
# dpkg's maintainer scripts need the sbin tools (ldconfig, invoke-rc.d, …), which a test runner's PATH may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
POLICY=/usr/sbin/policy-rc.d
wrote_policy=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# written by puhui scripts/ensure-prometheus.sh for the install only\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"
  wrote_policy=1
fi
remove_policy() { if [ "$wrote_policy" -eq 1 ]; then rm -f "$POLICY"; fi; }
trap remove_policy EXIT
apt-get update -qq >&2
# --no-install-recommends: the recommended node exporter would be one more daemon nobody scrapes.
apt-get install -y -qq --no-install-recommends prometheus >&2
if [ ! -x "$PROMETHEUS" ] || [ ! -x "$PROMTOOL" ]; then
  echo "ensure-prometheus: apt-get installed prometheus but $PROMETHEUS or $PROMTOOL is still missing" >&2
  exit 1
fi
echo "ensure-prometheus: $("$PROMETHEUS" --version 2>&1 | head -n 1) installed" >&2
