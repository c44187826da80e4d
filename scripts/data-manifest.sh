#!/usr/bin/env bash
# Write DIR/manifest.json for the four Fashion-MNIST files in DIR: name, size in bytes and the
# SHA-256 of each .gz as served. The page checks every download against it and keeps the
# files in the browser's Cache API under that SHA-256 (www/data.js).
#
#   bash scripts/data-manifest.sh www/data
set -euo pipefail

DIR=${1:?usage: data-manifest.sh DIR}
NAMES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

entries=()
for name in "${NAMES[@]}"; do
  file="$DIR/$name.gz"
  [[ -f $file ]] || { echo "data-manifest: $file is missing (bash scripts/setup-data.sh)" >&2; exit 1; }
  sha=$(sha256sum -- "$file" | cut -d' ' -f1)
  entries+=("    {\"name\": \"$name.gz\", \"bytes\": $(stat -c %s -- "$file"), \"sha256\": \"$sha\"}")
done
{
  printf '{\n  "dataset": "fashion-mnist",\n  "files": [\n'
  (IFS=$'\n'; printf '%s' "${entries[*]}" | sed '$!s/$/,/')
  printf '\n  ]\n}\n'
} > "$DIR/manifest.json.part"
mv -f -- "$DIR/manifest.json.part" "$DIR/manifest.json"
