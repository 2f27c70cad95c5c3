// JsonFields: reads the fields of a JSON object that came from outside (a
// saved plan, a journal) without throwing, and names the field that is wrong.
//
// Each getter returns the value, or a default after recording the first
// problem ("params.key_size: expected an integer, got a string"); error()
// then says what was wrong. Callers read every field and check error() once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/base/error.h"

namespace edgecert {

class JsonFields {
 public:
  // `where` prefixes field names in messages ("params" -> "params.pem"); an
  // empty `where` names the bare field ("seq: ...").
  JsonFields(const nlohmann::json& object, std::string where);

  // Required fields.
  std::string string(const char* key);
  bool boolean(const char* key);
  long long integer(const char* key, long long min, long long max);
  std::vector<std::string> strings(const char* key);
  // The field as it is, when present and of `type` (object, array).
  const nlohmann::json* object(const char* key);
  const nlohmann::json* array(const char* key);
  // Optional: absent or null = nullopt.
  std::optional<std::string> optional_string(const char* key);
  // Optional integer in min..max (a float such as 1e300 or 2.5 is refused,
  // never converted): absent or null = nullopt.
  std::optional<long long> optional_integer(const char* key, long long min, long long max);
  // Records a problem with `key` found by the caller (e.g. an unknown spelling).
  void fail(const char* key, const std::string& problem);
  // Takes over the first problem of a reader of a nested object.
  void adopt(const JsonFields& nested) {
    if (!error_ && nested.error_) error_ = nested.error_;
  }

  bool ok() const { return !error_; }
  const std::optional<Error>& error() const { return error_; }

  // "a string", "an integer", ...: what a JSON value is, for messages.
  static const char* describe(const nlohmann::json& value);

 private:
  const nlohmann::json* field(const char* key);
  std::optional<long long> in_range(const char* key, const nlohmann::json& value, long long min,
                                    long long max);
  const nlohmann::json& object_;
  std::string where_;
  std::optional<Error> error_;
};

}  // namespace edgecert
