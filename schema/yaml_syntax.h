// INTERNAL to schema/: the checks a spec's text passes before yaml-cpp sees
// it. yaml-cpp 0.7's scanner loops and allocates without bound on a few bytes
// of malformed YAML (",a: b"; upstream issues #499 and #1040), so only text
// that a conforming YAML 1.2 parser (libfyaml, which passes the YAML test
// suite) accepts, within the limits below, reaches it.
//
// Contract: check_yaml_text() reads `text` once, in time and memory linear in
// its size, prints nothing, and either returns true (yaml-cpp may parse it) or
// adds exactly one positioned error to `diags` and returns false. The text is
// already known to be well-formed UTF-8 of at most kMaxSpecBytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "schema/diagnostic.h"

namespace edgecert::schema::detail {

// Collections inside collections: a spec needs about 6 levels.
inline constexpr int kMaxNestingDepth = 64;
// Scalars, lists and mappings in the document (keys count): a six-peer spec
// with every section filled in has a few hundred.
inline constexpr size_t kMaxYamlNodes = 10000;

// What the checks refuse, in order of the text:
//   - characters YAML does not allow (C0 controls but tab, line feed and
//     carriage return; DEL; C1 controls but U+0085), NUL named as such;
//   - a carriage return not followed by a line feed (a line break to YAML
//     1.2 and libfyaml, not to yaml-cpp, which loops on "#\rpp\n,");
//   - anything libfyaml reports as a syntax error (its message, positioned,
//     with a hint for the usual causes);
//   - nesting deeper than kMaxNestingDepth, more than kMaxYamlNodes nodes;
//   - anchors, aliases and tags: a spec needs none of them, and an alias
//     would let a few lines expand into millions of nodes in the decoder.
bool check_yaml_text(std::string_view text, const std::string& path, Diagnostics& diags);

}  // namespace edgecert::schema::detail

namespace edgecert::schema::detail {

// 1-based line and byte column of `offset` in `text`.
struct TextPos {
  int line = 1;
  int column = 1;
};
TextPos text_pos(std::string_view text, size_t offset);

}  // namespace edgecert::schema::detail
