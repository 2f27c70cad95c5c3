// Shared by the loader tests: a minimal valid spec and the diagnostics as
// text for substring checks.
#pragma once

#include <string>

#include "schema/loader.h"

namespace edgecert::test {

// Valid as it is (check_files on or off); lines 13 on can extend spec:.
inline constexpr const char* kMinimalSpec = R"(apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: minimal
spec:
  product: expressway-e
  peers:
    - name: edge1
      fqdn: edge1.example.com
      endpoint: sim://edge1
  serverCertificate:
    issuer: {type: openssl-ca, directory: ca}
)";

// Every diagnostic as to_string() would print it, one a line, sorted.
inline std::string diagnostics_text(const Diagnostics& d) {
  std::string s;
  for (const auto& x : d.sorted()) s += x.to_string() + "\n";
  return s;
}
inline std::string diagnostics_text(const schema::LoadResult& r) {
  return diagnostics_text(r.diagnostics);
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace edgecert::test
