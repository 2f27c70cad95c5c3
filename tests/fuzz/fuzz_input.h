// Shared by the fuzz targets (tests/fuzz/*_fuzz.cpp): the libFuzzer entry
// point's declaration and a small reader that splits one input into a
// selector byte and the rest, so one target can reach several parsers of one
// format without a corpus per parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace edgecert::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The first byte chooses among `choices` parsers; the rest is their input.
// An empty input selects 0 with empty text.
struct Selected {
  unsigned choice = 0;
  std::string_view text;
};
inline Selected select(std::string_view input, unsigned choices) {
  if (input.empty()) return {};
  return {static_cast<unsigned char>(input[0]) % choices, input.substr(1)};
}

}  // namespace edgecert::fuzz
