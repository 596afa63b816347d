#!/usr/bin/env bash
# Scaffolds a workspace with the shape every Puhui package shares (scripts/templates/).
# Usage: scripts/new-package.sh libs/<name> | services/<name> ["<description>"] [--no-install]
# A service comes out booting, answering /healthz with a passing test, and in the registry of
# services (libs/config/src/services.json) on the next free port; scripts/new-package.mjs says how.
# --no-install skips the `npm install` that links the workspace and records it in package-lock.json.
set -euo pipefail
exec node "$(dirname "$0")/new-package.mjs" "$@"
