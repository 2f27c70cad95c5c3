#!/usr/bin/env bash
# JSON Schema agreement test.
#
# Usage: schema_agreement_test.sh PATH/TO/edgecert   (CTest passes the built
# binary; the working folder is the repository root).
#
# 1. Installs ajv-cli, ajv and js-yaml from npm into a cache folder next to the
#    binary (EDGECERT_NODE_TOOLS overrides it) unless they are already there.
#    A failed install FAILS the test: without a real validator nothing is shown.
# 2. Compiles schema/edgecert.schema.json with ajv-cli (draft 2020-12, strict).
# 3. Validates every examples/**/*.yaml whose kind is ExpresswayCluster against
#    the schema: each must be accepted.
# 4. Runs the corpus under tests/schema/corpus/ through both `edgecert validate`
#    and ajv:
#      good/*.yaml  edgecert: valid;   ajv: accept
#      warn/*.yaml  edgecert: valid (warnings only); ajv: accept
#      bad/*.yaml   edgecert: exit 1;  ajv: what the file's "# schema: accept|
#                   reject" header says. Structural faults (unknown key, wrong
#                   type, bad enum, pattern) are "reject"; cross-field and
#                   file-system rules only edgecert knows are "accept".
#
# YAML is read with js-yaml 4 (YAML 1.2 core schema, duplicate keys are an
# error), which is what editors using yaml-language-server see as well; a file
# js-yaml cannot parse counts as rejected.
set -uo pipefail

fail() {
  echo "schema_agreement_test: FAIL: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || fail "usage: $0 PATH/TO/edgecert"
edgecert=$1
[[ -x $edgecert ]] || fail "edgecert binary '$edgecert' is not executable"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
schema=$root/schema/edgecert.schema.json
[[ -f $schema ]] || fail "missing $schema"
command -v node >/dev/null || fail "node is not installed (needed for ajv)"
command -v npm >/dev/null || fail "npm is not installed (needed to install ajv)"

tools=${EDGECERT_NODE_TOOLS:-$(cd "$(dirname "$edgecert")" && pwd)/npm-tools}
packages=(ajv-cli@5.0.0 ajv@8.20.0 js-yaml@4.3.2)
if [[ ! -f $tools/node_modules/ajv-cli/package.json || ! -f $tools/node_modules/js-yaml/package.json ||
  ! -f $tools/node_modules/ajv/dist/2020.js ]]; then
  echo "installing ${packages[*]} into $tools ..."
  mkdir -p "$tools" || fail "cannot create $tools"
  if ! npm install --prefix "$tools" --no-audit --no-fund --no-save "${packages[@]}" >"$tools/npm-install.log" 2>&1; then
    cat "$tools/npm-install.log" >&2
    fail "npm install of ${packages[*]} failed (log above, also in $tools/npm-install.log); the schema cannot be checked without ajv"
  fi
fi

# --- 2. the schema itself ----------------------------------------------------
"$tools/node_modules/.bin/ajv" compile --spec=draft2020 --strict=true -s "$schema" >/dev/null ||
  fail "ajv-cli does not accept $schema as a draft 2020-12 schema"

# --- 3 + 4. validate files -----------------------------------------------------
# The driver prints one line per file: PATH<TAB>accept|reject<TAB>first error.
mapfile -t examples < <(cd "$root" && find examples -name '*.yaml' 2>/dev/null | sort)
ajv_check() {
  EDGECERT_TOOLS=$tools EDGECERT_SCHEMA=$schema node - "$@" <<'JS'
const path = require("path");
const fs = require("fs");
const mod = (m) => require(path.join(process.env.EDGECERT_TOOLS, "node_modules", m));
const Ajv2020 = mod("ajv/dist/2020").default;
const yaml = mod("js-yaml");
const ajv = new Ajv2020({ allErrors: false, strict: true });
const validate = ajv.compile(JSON.parse(fs.readFileSync(process.env.EDGECERT_SCHEMA, "utf8")));
for (const file of process.argv.slice(2)) {
  let verdict = "accept", why = "";
  try {
    const data = yaml.load(fs.readFileSync(file, "utf8"));
    if (!validate(data)) {
      verdict = "reject";
      const e = validate.errors[0];
      why = `${e.instancePath || "/"} ${e.message}`;
    }
  } catch (err) {
    verdict = "reject";
    why = "YAML: " + String(err.message).split("\n")[0];
  }
  console.log(`${file}\t${verdict}\t${why}`);
}
JS
}

failures=0
checked=0
problem() {
  echo "MISMATCH: $*" >&2
  failures=$((failures + 1))
}

# Examples (written by hand for users): only ExpresswayCluster documents.
example_files=()
for f in "${examples[@]}"; do
  grep -Eq '^kind:[[:space:]]*ExpresswayCluster[[:space:]]*$' "$root/$f" && example_files+=("$root/$f")
done
if ((${#example_files[@]} > 0)); then
  while IFS=$'\t' read -r file verdict why; do
    checked=$((checked + 1))
    [[ $verdict == accept ]] || problem "${file#"$root"/}: example rejected by the JSON Schema: $why"
  done < <(ajv_check "${example_files[@]}")
fi
echo "examples: ${#example_files[@]} checked against the schema"

corpus=$root/tests/schema/corpus
mapfile -t good < <(find "$corpus/good" -name '*.yaml' | sort)
mapfile -t warn < <(find "$corpus/warn" -name '*.yaml' 2>/dev/null | sort)
mapfile -t bad < <(find "$corpus/bad" -name '*.yaml' | sort)
((${#good[@]} > 0)) || fail "no files in $corpus/good"
((${#bad[@]} > 0)) || fail "no files in $corpus/bad"
declare -A ajv_verdict ajv_why
while IFS=$'\t' read -r file verdict why; do
  ajv_verdict[$file]=$verdict
  ajv_why[$file]=$why
done < <(ajv_check "${good[@]}" "${warn[@]}" "${bad[@]}")

for f in "${good[@]}" "${warn[@]}"; do
  checked=$((checked + 1))
  rel=${f#"$root"/}
  out=$("$edgecert" validate "$f" 2>&1) || problem "$rel: edgecert rejects a good or warn file: $out"
  [[ ${ajv_verdict[$f]:-missing} == accept ]] || problem "$rel: ajv rejects a good or warn file: ${ajv_why[$f]:-}"
done

for f in "${bad[@]}"; do
  checked=$((checked + 1))
  rel=${f#"$root"/}
  want=$(sed -n 's/^# schema: *\(accept\|reject\) *$/\1/p' "$f" | head -n1)
  [[ -n $want ]] || {
    problem "$rel: no '# schema: accept|reject' header"
    continue
  }
  "$edgecert" validate "$f" >/dev/null 2>&1
  status=$?
  [[ $status -eq 1 ]] || problem "$rel: edgecert validate exited $status, expected 1"
  got=${ajv_verdict[$f]:-missing}
  if [[ $got != "$want" ]]; then
    problem "$rel: ajv says '$got', header says '$want'${ajv_why[$f]:+ (ajv: ${ajv_why[$f]})}"
  fi
done

echo "schema agreement: $checked files checked, $failures mismatches"
((failures == 0)) || fail "$failures mismatches between edgecert, ajv and the corpus headers"
echo "PASS"
