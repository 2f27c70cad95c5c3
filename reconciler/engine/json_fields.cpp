#include "reconciler/engine/json_fields.h"

#include <fmt/core.h>

namespace edgecert {

JsonFields::JsonFields(const nlohmann::json& object, std::string where)
    : object_(object), where_(std::move(where)) {
  if (!object_.is_object())
    error_ = Error{ErrorCode::kInvalidArgument,
                   where_.empty()
                       ? fmt::format("expected an object, got {}", describe(object_))
                       : fmt::format("{}: expected an object, got {}", where_, describe(object_))};
}

const char* JsonFields::describe(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    case nlohmann::json::value_t::number_float:
      return "a number";
    default:
      return "something else";
  }
}

void JsonFields::fail(const char* key, const std::string& problem) {
  if (error_) return;
  error_ = Error{ErrorCode::kInvalidArgument, where_.empty()
                                                  ? fmt::format("{}: {}", key, problem)
                                                  : fmt::format("{}.{}: {}", where_, key, problem)};
}

const nlohmann::json* JsonFields::field(const char* key) {
  if (error_) return nullptr;
  auto it = object_.find(key);
  if (it == object_.end()) {
    fail(key, "missing");
    return nullptr;
  }
  return &*it;
}

std::string JsonFields::string(const char* key) {
  const nlohmann::json* v = field(key);
  if (!v) return {};
  if (!v->is_string()) {
    fail(key, fmt::format("expected a string, got {}", describe(*v)));
    return {};
  }
  return v->get<std::string>();
}

bool JsonFields::boolean(const char* key) {
  const nlohmann::json* v = field(key);
  if (!v) return false;
  if (!v->is_boolean()) {
    fail(key, fmt::format("expected true or false, got {}", describe(*v)));
    return false;
  }
  return v->get<bool>();
}

long long JsonFields::integer(const char* key, long long min, long long max) {
  const nlohmann::json* v = field(key);
  if (!v) return min;
  return in_range(key, *v, min, max).value_or(min);
}

std::optional<long long> JsonFields::optional_integer(const char* key, long long min,
                                                      long long max) {
  if (error_) return std::nullopt;
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return std::nullopt;
  return in_range(key, *it, min, max);
}

std::optional<long long> JsonFields::in_range(const char* key, const nlohmann::json& v,
                                              long long min, long long max) {
  if (!v.is_number_integer()) {
    // 1e300 or 2.5: converting it to an integer would be undefined or lossy.
    fail(key, fmt::format("expected an integer, got {}{}", describe(v),
                          v.is_number_float() ? " (" + v.dump() + ")" : ""));
    return std::nullopt;
  }
  // Unsigned values above the signed range read as negative: refuse both.
  if (v.is_number_unsigned() &&
      (max < 0 || v.get<unsigned long long>() > static_cast<unsigned long long>(max))) {
    fail(key, fmt::format("{} is out of range {}..{}", v.dump(), min, max));
    return std::nullopt;
  }
  long long n = v.get<long long>();
  if (n < min || n > max) {
    fail(key, fmt::format("{} is out of range {}..{}", n, min, max));
    return std::nullopt;
  }
  return n;
}

std::vector<std::string> JsonFields::strings(const char* key) {
  const nlohmann::json* v = field(key);
  if (!v) return {};
  if (!v->is_array()) {
    fail(key, fmt::format("expected an array of strings, got {}", describe(*v)));
    return {};
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& e = (*v)[i];
    if (!e.is_string()) {
      fail(key, fmt::format("element {}: expected a string, got {}", i, describe(e)));
      return {};
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

const nlohmann::json* JsonFields::object(const char* key) {
  const nlohmann::json* v = field(key);
  if (!v) return nullptr;
  if (!v->is_object()) {
    fail(key, fmt::format("expected an object, got {}", describe(*v)));
    return nullptr;
  }
  return v;
}

const nlohmann::json* JsonFields::array(const char* key) {
  const nlohmann::json* v = field(key);
  if (!v) return nullptr;
  if (!v->is_array()) {
    fail(key, fmt::format("expected an array, got {}", describe(*v)));
    return nullptr;
  }
  return v;
}

std::optional<std::string> JsonFields::optional_string(const char* key) {
  if (error_) return std::nullopt;
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    fail(key, fmt::format("expected a string or null, got {}", describe(*it)));
    return std::nullopt;
  }
  return it->get<std::string>();
}

}  // namespace edgecert
