// Fuzz target "spec": a spec's text through the whole loader (size and UTF-8
// checks, the libfyaml syntax pass, yaml-cpp, decoding, cross-field rules,
// referenced files looked up in an empty MemoryEnv). Diagnostics are the
// expected outcome; only a crash, a sanitizer report or an escaping exception
// is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "providers/base/env.h"
#include "schema/loader.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgecert;
  const std::string text(fuzz::as_text(data, size));
  MemoryEnv env;
  auto result = schema::load_spec_text(text, "/fuzz/cluster.yaml", env);
  for (const auto& d : result.diagnostics.sorted()) (void)d.to_string();
  return 0;
}
