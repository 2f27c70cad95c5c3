// UTF-8 well-formedness (RFC 3629): what may enter JSON, YAML and messages.
// Text from outside (a spec file, a server's header) is checked once where it
// enters, so nothing later (nlohmann::json::dump among others) meets a
// malformed sequence.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace edgecert {

// Byte offset of the first byte that does not belong to a well-formed UTF-8
// sequence (overlong forms, UTF-16 surrogates, code points above U+10FFFF and
// truncated sequences are all malformed); nullopt when the whole text is
// well-formed.
std::optional<size_t> find_invalid_utf8(std::string_view text);

inline bool is_valid_utf8(std::string_view text) {
  return !find_invalid_utf8(text).has_value();
}

// The text with every malformed byte replaced by U+FFFD, for display only.
std::string printable_utf8(std::string_view text);

}  // namespace edgecert
