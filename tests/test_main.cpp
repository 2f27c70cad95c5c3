// The test runner: the built-in node providers and issuers are registered
// before any test, as the binaries do at start-up, so tests that open nodes
// or issuers without going through run_cli see the same registries (and a
// test registering a fake replaces the built-in for its scheme).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "reconciler/cli/wiring.h"

int main(int argc, char* argv[]) {
  edgecert::cli::register_builtins();
  return Catch::Session().run(argc, argv);
}
