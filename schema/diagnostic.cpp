#include "schema/diagnostic.h"

#include <algorithm>
#include <tuple>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace edgecert {

std::string Diagnostic::to_string() const {
  return fmt::format("{}:{}:{}: {}: {}", path, line, column, severity_name(severity), message);
}

void Diagnostics::error(const std::string& path, int line, int column, std::string message) {
  items_.push_back({path, line, column, Severity::kError, std::move(message)});
}

void Diagnostics::warning(const std::string& path, int line, int column, std::string message) {
  items_.push_back({path, line, column, Severity::kWarning, std::move(message)});
}

void Diagnostics::add(Diagnostic d) {
  items_.push_back(std::move(d));
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

bool Diagnostics::has_errors() const {
  return error_count() > 0;
}

size_t Diagnostics::error_count() const {
  return static_cast<size_t>(std::count_if(items_.begin(), items_.end(), [](const Diagnostic& d) {
    return d.severity == Severity::kError;
  }));
}

size_t Diagnostics::warning_count() const {
  return items_.size() - error_count();
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
