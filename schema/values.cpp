#include "schema/values.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <limits>

#include "providers/base/fqdn.h"

namespace edgecert::schema {

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  static constexpr std::array<std::pair<char, long long>, 4> kUnits = {
      {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}};
  size_t next_unit = 0;  // units must appear in kUnits order, each once
  long long total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    long long value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value = value * 10 + (text[i] - '0');
      if (value > std::numeric_limits<int>::max()) return std::nullopt;
      ++i;
    }
    if (i == start || i == text.size()) return std::nullopt;  // no digits, or no unit
    char unit = text[i++];
    size_t u = next_unit;
    while (u < kUnits.size() && kUnits[u].first != unit) ++u;
    if (u == kUnits.size()) return std::nullopt;  // unknown unit or out of order
    total += value * kUnits[u].second;
    if (total > std::numeric_limits<int>::max()) return std::nullopt;
    next_unit = u + 1;
  }
  return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds d) {
  long long s = d.count();
  if (s == 0) return "0s";
  std::string out;
  for (auto [unit, len] : {std::pair{'d', 86400LL}, {'h', 3600LL}, {'m', 60LL}, {'s', 1LL}}) {
    if (s >= len) {
      out += std::to_string(s / len);
      out += unit;
      s %= len;
    }
  }
  return out;
}

std::string format_time_of_day(int minutes) {
  return fmt::format("{:02}:{:02}", minutes / 60, minutes % 60);
}

std::optional<int> parse_time_of_day(std::string_view text) {
  auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4))
    return std::nullopt;
  int h = (text[0] - '0') * 10 + (text[1] - '0');
  int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

namespace {
constexpr std::array<const char*, 7> kDays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
}

std::optional<spec::Weekday> parse_weekday(std::string_view text) {
  for (size_t i = 0; i < kDays.size(); ++i)
    if (text == kDays[i]) return static_cast<spec::Weekday>(i);
  return std::nullopt;
}

const char* weekday_name(spec::Weekday day) {
  return day < kDays.size() ? kDays[day] : "?";
}

size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment distance: three rows (two back for transpositions).
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      // Adjacent transposition ("fdqn" for "fqdn") counts as one edit.
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    prev2 = prev;
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> suggest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  // No typo of a known word is this long, and the distance costs
  // word.size() * candidate.size(): a hostile 1 MB key gets no suggestion.
  if (word.size() > kMaxSuggestedWordBytes) return std::nullopt;
  std::string w = to_lower_ascii(word);
  std::optional<std::string> best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const std::string& c : candidates) {
    size_t d = edit_distance(w, to_lower_ascii(c));
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  size_t limit = std::max<size_t>(1, word.size() / 3);
  if (best && best_distance <= limit) return best;
  return std::nullopt;
}

}  // namespace edgecert::schema
