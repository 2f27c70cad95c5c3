// Diagnostic: one positioned finding about an input file, compiler style.
//
// Rendered as `PATH:LINE:COL: error: MESSAGE` (or `warning:`). Lines and
// columns are 1-based; 0 means "the whole file". Tools and tests outside the
// repository parse this format, so it is a contract.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
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

// Bounds on what a hostile input can make edgecert print: a 50 MB value or
// 200,000 unknown keys must not become 50 MB of stderr.
inline constexpr size_t kMaxShownValueBytes = 80;   // a value quoted in a message
inline constexpr size_t kMaxMessageBytes = 2048;    // one message, whatever it quotes
inline constexpr size_t kMaxShownDiagnostics = 50;  // per Diagnostics collection

// `value` as quoted in a message: at most kMaxShownValueBytes bytes (cut on a
// UTF-8 character boundary), then "... (N bytes)"; line breaks and tabs are
// shown as \n, \r and \t so one diagnostic stays one line.
std::string clip_for_message(std::string_view value);

// Collects diagnostics while decoding/validating one or more files.
//
// Holds at most kMaxShownDiagnostics; the rest are counted (error_count()
// and warning_count() include them) and sorted() ends with one line saying
// how many were left out. A message longer than kMaxMessageBytes is cut.
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
  // Diagnostics counted but not kept (beyond kMaxShownDiagnostics).
  size_t omitted_count() const { return omitted_errors_ + omitted_warnings_; }

  // Sorted by (path, line, column) with exact duplicates removed; stable for
  // equal positions so related messages keep the order they were found in.
  // When some were left out, a last line (at line 0 of the first file with a
  // left-out diagnostic) says how many.
  std::vector<Diagnostic> sorted() const;
  // The kept diagnostics, in the order found.
  const std::vector<Diagnostic>& items() const { return items_; }

 private:
  std::vector<Diagnostic> items_;
  size_t omitted_errors_ = 0;
  size_t omitted_warnings_ = 0;
  std::string omitted_path_;
};

// {"path","line","column","severity","message"}
nlohmann::json diagnostic_to_json(const Diagnostic& d);

}  // namespace edgecert
