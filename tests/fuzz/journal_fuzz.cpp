// Fuzz target "journal": a run journal (one JSON object a line, a torn last
// line dropped; docs/state-format.md) through parse_journal, then the resume
// summary (last_run) the executor builds from it, and each line on its own
// through parse_entry.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "reconciler/engine/journal.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgecert;
  const std::string text(fuzz::as_text(data, size));
  if (auto parsed = parse_journal(text, "/fuzz/journal.jsonl")) {
    if (parsed->intact > text.size()) __builtin_trap();  // the contract: a prefix of the text
    (void)last_run(parsed->entries);
  }
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    (void)parse_entry(std::string(rest.substr(0, nl)));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return 0;
}
