#!/usr/bin/env bash
# Builds @confluentinc/kafka-javascript (the Confluent client, librdkafka inside) into a scratch
# folder outside the monorepo, for the comparison in docs/decisions/0023-kafka-client.md:
#
#   bash libs/events/scripts/install-confluent-client.sh [folder]    # default /tmp/puhui-kafka-alt
#   PUHUI_KAFKA_CLIENT=confluent NODE_PATH=<folder>/node_modules npm test -w @puhui/events
#
# It is not a dependency of the monorepo, so `npm ci` neither builds nor needs it. Its install
# first tries a prebuilt binary from outside the npm registry (unreachable here) and then builds
# the librdkafka source it ships; the default build also downloads zlib, OpenSSL, zstd and curl
# sources (unreachable too), so the build is told to link the system's OpenSSL and zlib instead
# (CKJS_LINKING=dynamic; Debian's libssl-dev and zlib1g-dev). About 80 s on two cores.
set -euo pipefail

VERSION=1.10.1
folder=${1:-/tmp/puhui-kafka-alt}

for header in /usr/include/openssl/ssl.h /usr/include/zlib.h; do
  if [[ ! -f $header ]]; then
    echo "missing $header: apt-get install -y libssl-dev zlib1g-dev" >&2
    exit 1
  fi
done

mkdir -p "$folder"
cd "$folder"
[[ -f package.json ]] || echo '{ "name": "puhui-kafka-alt", "private": true, "version": "0.0.0" }' >package.json
started=$(date +%s)
CKJS_LINKING=dynamic nice -n 10 npm install --no-audit --no-fund "@confluentinc/kafka-javascript@$VERSION"
node -e "const k = require('@confluentinc/kafka-javascript'); console.log('librdkafka', k.librdkafkaVersion)"
echo "built in $(($(date +%s) - started)) s; use NODE_PATH=$folder/node_modules"
