// One table per enum: the single home of an enum's spellings.
//
// Every enum that is written to or read from text (spec YAML, saved plans,
// journals, JSON output) declares one constexpr table of {value, name} pairs;
// its name function and its parser are both derived from that table, so a
// spelling cannot be added to one direction and forgotten in the other. An
// unknown spelling is never mapped to a default: parse() returns nullopt and
// the caller reports it (with spellings() listing what is accepted).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace edgecert {

template <class E>
struct EnumName {
  E value;
  std::string_view name;
};

template <class E, size_t N>
using EnumTable = std::array<EnumName<E>, N>;

// The name of `value`; "?" for a value missing from the table (a bug the
// enum_table tests catch by round-tripping every table).
template <class E, size_t N>
constexpr std::string_view enum_name(const EnumTable<E, N>& table, E value) {
  for (const EnumName<E>& e : table)
    if (e.value == value) return e.name;
  return "?";
}

// Exact, case-sensitive match; nullopt for anything else.
template <class E, size_t N>
constexpr std::optional<E> enum_parse(const EnumTable<E, N>& table, std::string_view name) {
  for (const EnumName<E>& e : table)
    if (e.name == name) return e.value;
  return std::nullopt;
}

// "rsa, ecdsa": every accepted spelling, in table order, for error messages.
template <class E, size_t N>
std::string enum_spellings(const EnumTable<E, N>& table) {
  return fmt::format("{}", fmt::join(table | std::views::transform(&EnumName<E>::name), ", "));
}

}  // namespace edgecert
