#include "schema/diagnostic.h"

#include <algorithm>
#include <tuple>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace edgecert {

namespace {

// The longest prefix of `s` of at most `max` bytes that does not end inside
// a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

std::string clip_for_message(std::string_view value) {
  std::string out;
  for (char c : utf8_prefix(value, kMaxShownValueBytes)) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  if (value.size() > kMaxShownValueBytes) out += fmt::format("... ({} bytes)", value.size());
  return out;
}

std::string Diagnostic::to_string() const {
  return fmt::format("{}:{}:{}: {}: {}", path, line, column, severity_name(severity), message);
}

void Diagnostics::error(const std::string& path, int line, int column, std::string message) {
  add({path, line, column, Severity::kError, std::move(message)});
}

void Diagnostics::warning(const std::string& path, int line, int column, std::string message) {
  add({path, line, column, Severity::kWarning, std::move(message)});
}

void Diagnostics::add(Diagnostic d) {
  if (items_.size() >= kMaxShownDiagnostics) {
    ++(d.severity == Severity::kError ? omitted_errors_ : omitted_warnings_);
    if (omitted_path_.empty()) omitted_path_ = std::move(d.path);
    return;
  }
  if (d.message.size() > kMaxMessageBytes) {
    size_t full = d.message.size();
    d.message = fmt::format("{}... (message cut: {} bytes)",
                            utf8_prefix(d.message, kMaxMessageBytes), full);
  }
  items_.push_back(std::move(d));
}

void Diagnostics::append(const Diagnostics& other) {
  for (const Diagnostic& d : other.items_) add(d);
  if (other.omitted_count() > 0 && omitted_path_.empty()) omitted_path_ = other.omitted_path_;
  omitted_errors_ += other.omitted_errors_;
  omitted_warnings_ += other.omitted_warnings_;
}

bool Diagnostics::has_errors() const {
  return error_count() > 0;
}

size_t Diagnostics::error_count() const {
  return omitted_errors_ +
         static_cast<size_t>(std::count_if(items_.begin(), items_.end(), [](const Diagnostic& d) {
           return d.severity == Severity::kError;
         }));
}

size_t Diagnostics::warning_count() const {
  return items_.size() + omitted_count() - error_count();
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.path, a.line, a.column) < std::tie(b.path, b.line, b.column);
  });
  auto same = [](const Diagnostic& a, const Diagnostic& b) {
    return a.path == b.path && a.line == b.line && a.column == b.column &&
           a.severity == b.severity && a.message == b.message;
  };
  out.erase(std::unique(out.begin(), out.end(), same), out.end());
  if (size_t n = omitted_count(); n > 0)
    out.push_back({omitted_path_, 0, 0, omitted_errors_ > 0 ? Severity::kError : Severity::kWarning,
                   fmt::format("... and {} more problem{} not shown (the first {} are above): fix "
                               "those first",
                               n, n == 1 ? "" : "s", kMaxShownDiagnostics)});
  return out;
}

nlohmann::json diagnostic_to_json(const Diagnostic& d) {
  return {{"path", d.path},
          {"line", d.line},
          {"column", d.column},
          {"severity", severity_name(d.severity)},
          {"message", d.message}};
}

}  // namespace edgecert
