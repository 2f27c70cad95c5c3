#!/usr/bin/env bash
# The layering rule as a test: every `#include "..."` in product code must
# point at the including file's own layer or at one the layer may use.
#
# The layers and what each may use are read from the `layers` block of
# docs/ARCHITECTURE.md, so the page and the check cannot drift apart. Also
# checked: every product folder belongs to a layer, and every layer's DEPS in
# CMakeLists.txt are layers it may use (the build is the second fence).
# Usage: layering_test.sh [ignored...]; run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."

doc=docs/ARCHITECTURE.md
# Block lines: LAYER FOLDER [MAY-USE...]
table=$(awk '/^```text layers$/{on=1; next} on && /^```/{exit} on && NF && $1 !~ /^#/' "$doc")
if [ -z "$table" ]; then
  echo "layering: no \`\`\`text layers block in $doc" >&2
  exit 1
fi

declare -A folder_layer allowed
while read -r layer folder uses; do
  folder_layer[$folder]=$layer
  allowed[$layer]=" $layer $uses "
done <<<"$table"

layer_of() {  # PATH -> layer of its folder, or empty
  local dir
  dir=$(dirname "$1")
  while [ "$dir" != "." ] && [ -n "$dir" ]; do
    if [ -n "${folder_layer[$dir]:-}" ]; then
      echo "${folder_layer[$dir]}"
      return
    fi
    dir=$(dirname "$dir")
  done
}

fail=0
checked=0
while IFS= read -r file; do
  from=$(layer_of "$file")
  if [ -z "$from" ]; then
    echo "layering: $file is in no layer of $doc" >&2
    fail=1
    continue
  fi
  while IFS=: read -r line target; do
    checked=$((checked + 1))
    to=$(layer_of "$target")
    if [ -z "$to" ]; then
      echo "$file:$line: includes \"$target\", which is in no layer" >&2
      fail=1
    elif [[ "${allowed[$from]}" != *" $to "* ]]; then
      echo "$file:$line: layer '$from' includes \"$target\" of layer '$to'" \
        "(allowed: ${allowed[$from]# $from })" >&2
      fail=1
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" |
    sed -E 's/^([0-9]+):[^"]*"([^"]+)".*/\1:\2/')
done < <(find providers schema reconciler -type f \( -name '*.h' -o -name '*.cpp' \) | sort)

# The build's fence: each edgecert_<layer> library may link only layers it may use.
while read -r lib deps; do
  layer=${lib#edgecert_}
  [ -n "${allowed[$layer]:-}" ] || { echo "layering: CMake library $lib has no layer" >&2; fail=1; continue; }
  for dep in $deps; do
    d=${dep#edgecert_}
    if [[ "${allowed[$layer]}" != *" $d "* ]]; then
      echo "CMakeLists.txt: $lib links $dep, which layer '$layer' may not use" >&2
      fail=1
    fi
  done
done < <(tr '\n' ' ' <CMakeLists.txt | grep -o 'edgecert_layer([^)]*)' |
  sed -E 's/edgecert_layer\(([a-z_]+) .*DEPS ([^A-Z]*)( LIBS.*)?\)/\1 \2/; s/edgecert_layer\(([a-z_]+) DIRS [^ ]+( LIBS.*)?\)$/\1/')

if [ "$fail" -ne 0 ]; then
  echo "layering: FAILED (see docs/ARCHITECTURE.md, 'Layers')" >&2
  exit 1
fi
echo "layering: $checked includes in ${#folder_layer[@]} layers follow docs/ARCHITECTURE.md"
