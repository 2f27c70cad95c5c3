// Diagnostic: one positioned finding about an input file, compiler style.
//
// Rendered as `PATH:LINE:COL: error: MESSAGE` (or `warning:`). Lines and
// columns are 1-based; 0 means "the whole file". Tools and tests outside the
// repository parse this format, so it is a contract.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "providers/base/severity.h"

namespace edgecert {

struct Diagnostic {
  std::string path;
  int line = 0;
  int column = 0;
  Severity severity = Severity::kError;
  std::string message;

  std::string to_string() const;  // PATH:LINE:COL: error: MESSAGE
};

// Collects diagnostics while decoding/validating one or more files.
class Diagnostics {
 public:
  void error(const std::string& path, int line, int column, std::string message);
  void warning(const std::string& path, int line, int column, std::string message);
  void add(Diagnostic d);
  void append(const Diagnostics& other);

  bool has_errors() const;
  size_t error_count() const;
  size_t warning_count() const;
  bool empty() const { return items_.empty(); }

  // Sorted by (path, line, column) with exact duplicates removed; stable for
  // equal positions so related messages keep the order they were found in.
  std::vector<Diagnostic> sorted() const;
  const std::vector<Diagnostic>& items() const { return items_; }

 private:
  std::vector<Diagnostic> items_;
};

// {"path","line","column","severity","message"}
nlohmann::json diagnostic_to_json(const Diagnostic& d);

}  // namespace edgecert
