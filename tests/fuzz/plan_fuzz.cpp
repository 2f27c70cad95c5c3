// Fuzz target "plan": a saved plan (`edgecert plan --out`, docs/plan-format.md)
// as `edgecert apply PLAN` reads it: read_saved_plan through a MemoryEnv,
// then plan_from_json; a plan that decodes is checked (check_plan), rendered
// and encoded again like apply and `plan --out` would.
#include <cstddef>
#include <cstdint>
#include <string>

#include "providers/base/env.h"
#include "reconciler/engine/apply.h"
#include "reconciler/engine/plan.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgecert;
  MemoryEnv env;
  const std::string path = "/fuzz/plan.json";
  env.put(path, std::string(fuzz::as_text(data, size)));
  auto j = read_saved_plan(env, path);
  if (!j) return 0;
  auto plan = plan_from_json(*j, path);
  if (!plan) return 0;
  (void)check_plan(*plan);
  (void)render_plan_text(*plan);
  (void)plan_to_json(*plan).dump();
  return 0;
}
