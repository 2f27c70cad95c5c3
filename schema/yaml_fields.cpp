// YAML field access: scalar typing, mappings with unknown-key detection and
// suggestions, lists, and the typed getters. Every getter reports a wrong
// type as a positioned diagnostic and returns nothing.
#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "schema/decode_internal.h"
#include "schema/values.h"

namespace edgecert::schema {

template <>
std::span<const detail::IssuerType> enum_values<detail::IssuerType>() {
  using detail::IssuerType;
  static constexpr IssuerType kValues[] = {IssuerType::kOpensslCa, IssuerType::kExternal,
                                           IssuerType::kAcme, IssuerType::kExpresswayAcme};
  return kValues;
}

namespace detail {

const char* enum_name(IssuerType t) {
  switch (t) {
    case IssuerType::kOpensslCa:
      return "openssl-ca";
    case IssuerType::kExternal:
      return "external";
    case IssuerType::kAcme:
      return "acme";
    case IssuerType::kExpresswayAcme:
      return "expressway-acme";
  }
  return "?";
}

// ---- YAML scalar typing -------------------------------------------------
//
// Quoted scalars carry the "!" tag, plain ones "?".

bool all_of_chars(std::string_view s, const char* set) {
  return !s.empty() && s.find_first_not_of(set) == std::string_view::npos;
}

namespace {

ScalarKind plain_kind(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return ScalarKind::kNull;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
    return ScalarKind::kBool;
  std::string_view v = s;
  std::string_view body = (v[0] == '-' || v[0] == '+') ? v.substr(1) : v;
  if (all_of_chars(body, "0123456789")) return ScalarKind::kInt;
  if (v.size() > 2 && v[0] == '0' && v[1] == 'x' &&
      all_of_chars(v.substr(2), "0123456789abcdefABCDEF"))
    return ScalarKind::kInt;
  if (v.size() > 2 && v[0] == '0' && v[1] == 'o' && all_of_chars(v.substr(2), "01234567"))
    return ScalarKind::kInt;
  // YAML 1.2 core schema: [-+]?(\.inf|\.Inf|\.INF) and \.nan|\.NaN|\.NAN.
  static const std::set<std::string> kSpecialFloats = {".inf",  ".Inf",  ".INF",  "-.inf",
                                                       "-.Inf", "-.INF", "+.inf", "+.Inf",
                                                       "+.INF", ".nan",  ".NaN",  ".NAN"};
  if (kSpecialFloats.count(s)) return ScalarKind::kFloat;
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  size_t i = 0;
  auto digits = [&]() {
    size_t start = i;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9') ++i;
    return i - start;
  };
  size_t int_digits = digits();
  bool dot = i < body.size() && body[i] == '.';
  size_t frac_digits = 0;
  if (dot) {
    ++i;
    frac_digits = digits();
  }
  if (int_digits == 0 && frac_digits == 0) return ScalarKind::kString;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '-' || body[i] == '+')) ++i;
    if (digits() == 0) return ScalarKind::kString;
  }
  return i == body.size() ? ScalarKind::kFloat : ScalarKind::kString;
}

}  // namespace

ScalarKind scalar_kind(const YAML::Node& n) {
  if (n.IsNull()) return ScalarKind::kNull;
  if (n.Tag() == "!") return ScalarKind::kString;  // quoted
  return plain_kind(n.Scalar());
}

std::string describe_type(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  switch (scalar_kind(n)) {
    case ScalarKind::kNull:
      return "null";
    case ScalarKind::kBool:
      return fmt::format("a boolean ({})", clip_for_message(n.Scalar()));
    case ScalarKind::kInt:
      return fmt::format("an integer ({})", clip_for_message(n.Scalar()));
    case ScalarKind::kFloat:
      return fmt::format("a number ({})", clip_for_message(n.Scalar()));
    case ScalarKind::kString:
      return fmt::format("a string ('{}')", clip_for_message(n.Scalar()));
  }
  return "?";
}

SourcePos mark_of(const YAML::Node& n) {
  YAML::Mark m = n.Mark();
  if (m.is_null() || m.line < 0) return {};
  return {m.line + 1, m.column + 1};
}

// "spec.peers.1.fqdn" -> "spec.peers[1].fqdn" for messages.
std::string display(const std::string& key) {
  std::string out;
  size_t start = 0;
  while (start <= key.size()) {
    size_t dot = key.find('.', start);
    std::string part =
        key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!part.empty() && all_of_chars(part, "0123456789"))
      out += "[" + part + "]";
    else
      out += (out.empty() ? "" : ".") + part;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

// ---- mappings, lists, typed getters --------------------------------------

Decoder::Map Decoder::map(const Field& f, const KeyList& known,
                          const std::map<std::string, std::string>& forbidden) {
  Map m;
  m.self = f;
  if (!expect_map(f)) return m;
  m.ok = true;
  std::map<std::string, SourcePos> seen;
  for (auto it = f.value.begin(); it != f.value.end(); ++it) {
    const YAML::Node k = it->first;  // a copy: it-> yields a temporary proxy
    SourcePos kp = mark_of(k);
    // An empty key (": value") has no position of its own: use its value's,
    // else the mapping's.
    if (kp.line == 0) kp = mark_of(it->second);
    if (kp.line == 0) kp = f.value_pos;
    if (!k.IsDefined() || k.IsNull()) {
      error(kp, fmt::format("{}: a key is empty (nothing before the ':'); write the key's name, or "
                            "quote a key that is really the word null or ~",
                            f.name()));
      continue;
    }
    if (!k.IsScalar()) {
      error(kp, fmt::format("{}: keys must be plain strings", f.name()));
      continue;
    }
    std::string key = k.Scalar();
    std::string child = f.path.empty() ? key : f.path + "." + key;
    if (auto prev = seen.find(key); prev != seen.end()) {
      error(kp, fmt::format("duplicate key '{}' in {} (first defined at line {})",
                            clip_for_message(key), f.name(), prev->second.line));
      continue;
    }
    seen[key] = kp;
    if (auto fb = forbidden.find(key); fb != forbidden.end()) {
      error(kp, fb->second);
      continue;
    }
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string msg = fmt::format("unknown key '{}' in {}", clip_for_message(key), f.name());
      if (auto s = suggest(key, known))
        msg += fmt::format("; did you mean '{}'?", *s);
      else
        msg += fmt::format(" (known keys: {})", fmt::join(known, ", "));
      error(kp, std::move(msg));
      continue;
    }
    Field child_field{child, it->second, kp, mark_of(it->second)};
    if (it->second.IsNull() || child_field.value_pos.line == 0) child_field.value_pos = kp;
    spec_.positions.set(child, kp);
    m.entries.emplace(key, std::move(child_field));
  }
  return m;
}

bool Decoder::expect_map(const Field& f) {
  if (f.value.IsMap()) return true;
  error(f.value_pos,
        fmt::format("{}: expected a mapping, got {}", f.name(), describe_type(f.value)));
  return false;
}

std::vector<Field> Decoder::seq(const Field& f) {
  std::vector<Field> out;
  if (!f.value.IsSequence()) {
    error(f.value_pos,
          fmt::format("{}: expected a list, got {}", f.name(), describe_type(f.value)));
    return out;
  }
  size_t i = 0;
  for (const YAML::Node& item : f.value) {
    std::string child = fmt::format("{}.{}", f.path, i++);
    Field c{child, item, mark_of(item), mark_of(item)};
    if (c.value_pos.line == 0) c.value_pos = c.key_pos = f.value_pos;
    spec_.positions.set(child, c.key_pos);
    out.push_back(std::move(c));
  }
  return out;
}

void Decoder::require(const Map& m, const std::string& key) {
  if (m.ok && !m.has(key))
    error(m.self.key_pos, fmt::format("{}: missing required key '{}'", m.self.name(), key));
}

std::optional<std::string> Decoder::str(const Field& f, bool secret) {
  if (!f.value.IsScalar() || scalar_kind(f.value) != ScalarKind::kString) {
    std::string hint;
    if (f.value.IsScalar() && !f.value.IsNull()) hint = " (quote it to make it a string)";
    std::string type = describe_type(f.value);
    if (secret) type = type.substr(0, type.find(" ("));
    error(f.value_pos, fmt::format("{}: expected a string, got {}{}", f.name(), type, hint));
    return std::nullopt;
  }
  return f.value.Scalar();
}

std::optional<bool> Decoder::boolean(const Field& f) {
  if (!f.value.IsScalar() || scalar_kind(f.value) != ScalarKind::kBool) {
    error(f.value_pos,
          fmt::format("{}: expected true or false, got {}", f.name(), describe_type(f.value)));
    return std::nullopt;
  }
  char c = f.value.Scalar()[0];
  return c == 't' || c == 'T';
}

namespace {

// A plain integer scalar (ScalarKind::kInt) read by the YAML 1.2 core schema:
// decimal with optional sign and leading zeros ("04000" is 4000, never
// octal), "0o" octal, "0x" hexadecimal. nullopt when it does not fit.
std::optional<long long> core_schema_integer(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    base = s[1] == 'x' ? 16 : 8;
    s.remove_prefix(2);
  } else if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);  // from_chars takes '-' only
  }
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The YAML 1.2 core schema's special floats, which no spec field accepts.
bool is_special_float(std::string_view s) {
  return s.find(".inf") != std::string_view::npos || s.find(".Inf") != std::string_view::npos ||
         s.find(".INF") != std::string_view::npos || s.find(".nan") != std::string_view::npos ||
         s.find(".NaN") != std::string_view::npos || s.find(".NAN") != std::string_view::npos;
}

}  // namespace

std::optional<long long> Decoder::integer(const Field& f) {
  if (f.value.IsScalar() && scalar_kind(f.value) == ScalarKind::kInt) {
    if (auto v = core_schema_integer(f.value.Scalar())) return v;
    error(f.value_pos,
          fmt::format("{}: {} is out of range", f.name(), clip_for_message(f.value.Scalar())));
    return std::nullopt;
  }
  error(f.value_pos,
        fmt::format("{}: expected an integer, got {}", f.name(), describe_type(f.value)));
  return std::nullopt;
}

std::optional<double> Decoder::number(const Field& f) {
  if (f.value.IsScalar()) {
    const std::string& text = f.value.Scalar();
    ScalarKind k = scalar_kind(f.value);
    if (k == ScalarKind::kInt) {
      if (auto v = core_schema_integer(text)) return static_cast<double>(*v);
      error(f.value_pos, fmt::format("{}: {} is out of range", f.name(), clip_for_message(text)));
      return std::nullopt;
    }
    if (k == ScalarKind::kFloat && is_special_float(text)) {
      error(f.value_pos,
            fmt::format("{}: expected a finite number, got {}", f.name(), clip_for_message(text)));
      return std::nullopt;
    }
    if (k == ScalarKind::kFloat) {
      double v = 0;
      std::string_view body = text;
      if (!body.empty() && body[0] == '+') body.remove_prefix(1);
      auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
      if (ec == std::errc() && end == body.data() + body.size() && std::isfinite(v)) return v;
      error(f.value_pos, fmt::format("{}: {} is out of range", f.name(), clip_for_message(text)));
      return std::nullopt;
    }
  }
  error(f.value_pos,
        fmt::format("{}: expected a number, got {}", f.name(), describe_type(f.value)));
  return std::nullopt;
}

std::optional<size_t> Decoder::choice(const Field& f, const std::vector<std::string>& spellings,
                                      const SpecialSpelling& special) {
  auto s = str(f);
  if (!s) return std::nullopt;
  for (size_t i = 0; i < spellings.size(); ++i)
    if (spellings[i] == *s) return i;
  if (special) {
    if (auto msg = special(*s)) {
      error(f.value_pos, *msg);
      return std::nullopt;
    }
  }
  std::string msg = fmt::format("{}: invalid value '{}'; allowed values: {}", f.name(),
                                clip_for_message(*s), fmt::join(spellings, ", "));
  if (auto sg = suggest(*s, spellings)) msg += fmt::format(" (did you mean '{}'?)", *sg);
  error(f.value_pos, std::move(msg));
  return std::nullopt;
}

}  // namespace detail
}  // namespace edgecert::schema
