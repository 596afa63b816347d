#!/usr/bin/env bash
# Scaffolds a workspace with the shape every Puhui package shares.
# Usage: scripts/new-package.sh libs/<name> | services/<name> "<description>"
set -euo pipefail
dir="$1"; description="${2:-}"
name="@puhui/$(basename "$dir")"
depth_prefix="../.."
mkdir -p "$dir/src" "$dir/test"
cat > "$dir/package.json" <<JSON
{
  "name": "$name",
  "version": "0.0.0",
  "private": true,
  "description": "$description",
  "main": "dist/index.js",
  "types": "dist/index.d.ts",
  "scripts": {
    "build": "tsc -p tsconfig.build.json",
    "typecheck": "tsc -p tsconfig.json --noEmit",
    "lint": "eslint . --max-warnings 0",
    "test": "jest"
  }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "$depth_prefix/tsconfig.base.json",
  "compilerOptions": { "baseUrl": "$depth_prefix", "noEmit": true },
  "include": ["src", "test", "bench"]
}
JSON
cat > "$dir/tsconfig.build.json" <<JSON
{
  "extends": "$depth_prefix/tsconfig.base.json",
  "compilerOptions": { "rootDir": "src", "outDir": "dist", "paths": {}, "types": ["node"] },
  "include": ["src"]
}
JSON
cat > "$dir/jest.config.cjs" <<JSON
module.exports = require('$depth_prefix/jest.base.cjs')(__dirname);
JSON
echo "created $dir ($name)"
