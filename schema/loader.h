// Loading a spec: YAML decoding + semantic validation in one call.
//
// Contract: every problem found is reported as a positioned Diagnostic (all of
// them, not just the first); `spec` is set only when there are no errors
// (warnings allowed). Nothing outside the Env's reads happens here: loading a
// spec never touches a node, never writes a file.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "providers/base/env.h"
#include "schema/diagnostic.h"
#include "schema/spec.h"

namespace edgecert::schema {

inline constexpr const char* kApiVersion = "edgecert/v1";
inline constexpr const char* kKind = "ExpresswayCluster";

// The largest spec text decoded: a cluster spec is a few kilobytes, and
// what yaml-cpp and the decoder do grows with the text.
inline constexpr size_t kMaxSpecBytes = 1024 * 1024;

struct LoadOptions {
  // Read and check referenced files (trusted CAs, CRL file, caBundle,
  // passwordFrom file existence). Off only for structure-only tests.
  bool check_files = true;
  // The folder a spec read from a git commit lives in (git_source.h's
  // "git:<commit>"), where nothing can be written: a folder edgecert writes
  // (an issuer's folders, the ACME webroot, a lock repository path) that
  // resolves into it is an error, and a certificate or CRL file named by
  // an absolute path (read from this machine, not from the commit) a
  // warning. "" = the spec is an ordinary file.
  std::string read_only_root;
};

struct LoadResult {
  std::optional<spec::Spec> spec;
  Diagnostics diagnostics;
  bool ok() const { return spec.has_value(); }
};

// Reads `path` through `env` and decodes it. A missing or unreadable file is a
// diagnostic at line 0, column 0.
LoadResult load_spec_file(const std::string& path, Env& env, const LoadOptions& options = {});

// Decodes `text` as if it were the file at `path` (relative paths in it
// resolve against path's folder). Text over kMaxSpecBytes, not UTF-8, with
// control characters, that is not YAML 1.2, nested deeper than 64 levels,
// with more than 10,000 nodes or with anchors, aliases or tags is refused
// with one positioned error before yaml-cpp parses it
// (schema/yaml_syntax.h).
LoadResult load_spec_text(const std::string& text, const std::string& path, Env& env,
                          const LoadOptions& options = {});

}  // namespace edgecert::schema
