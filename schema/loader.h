// Loading a spec: YAML decoding + semantic validation in one call.
//
// Contract: every problem found is reported as a positioned Diagnostic (all of
// them, not just the first); `spec` is set only when there are no errors
// (warnings allowed). Nothing outside the Env's reads happens here: loading a
// spec never touches a node, never writes a file.
#pragma once

#include <optional>
#include <string>

#include "providers/base/env.h"
#include "schema/diagnostic.h"
#include "schema/spec.h"

namespace edgecert::schema {

inline constexpr const char* kApiVersion = "edgecert/v1";
inline constexpr const char* kKind = "ExpresswayCluster";

struct LoadOptions {
  // Read and check referenced files (trusted CAs, CRL file, caBundle,
  // passwordFrom file existence). Off only for structure-only tests.
  bool check_files = true;
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
// resolve against path's folder).
LoadResult load_spec_text(const std::string& text, const std::string& path, Env& env,
                          const LoadOptions& options = {});

}  // namespace edgecert::schema
