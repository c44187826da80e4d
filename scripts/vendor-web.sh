#!/usr/bin/env bash
# Copy the page's third-party files (uPlot's script and stylesheet) from npm into www/vendor/,
# so the page loads nothing from another origin. www/vendor/ is git-ignored.
#
#   bash scripts/vendor-web.sh
#
# Installs the npm packages first when they are missing (package-lock.json: npm ci).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

if [[ ! -f node_modules/uplot/package.json ]]; then
  if [[ -f package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
fi
mkdir -p www/vendor
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css www/vendor/
printf 'vendor-web: www/vendor/uPlot.iife.min.js and uPlot.min.css from uplot %s\n' \
  "$(node -p "require('./node_modules/uplot/package.json').version")"
