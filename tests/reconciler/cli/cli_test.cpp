#include <catch2/catch.hpp>

#include "reconciler/cli/cli.h"
#include "tests/support/test_support.h"

using edgecert::testing::run_cli;

TEST_CASE("cli: --version prints the version and exits 0", "[cli]") {
  auto r = run_cli({"--version"});
  CHECK(r.status == 0);
  CHECK(r.out == std::string("edgecert ") + EDGECERT_VERSION + "\n");
}

TEST_CASE("cli: --help lists every command of the table", "[cli]") {
  auto r = run_cli({"--help"});
  CHECK(r.status == 0);
  for (const auto& cmd : edgecert::command_table()) {
    CHECK(r.out.find(cmd.name) != std::string::npos);
  }
}

TEST_CASE("cli: no command and unknown commands are errors with exit 1", "[cli]") {
  CHECK(run_cli({}).status == 1);
  auto r = run_cli({"frobnicate"});
  CHECK(r.status == 1);
  // Nothing near: the commands are listed.
  CHECK(r.err.find("edgecert: unknown command 'frobnicate'. Commands: validate, status,") !=
        std::string::npos);
  CHECK(r.err.find("Did you mean") == std::string::npos);
}

TEST_CASE("cli: an unknown command suggests the nearest one", "[cli]") {
  auto r = run_cli({"aply", "spec.yaml", "--auto-approve"});
  CHECK(r.status == 1);
  CHECK(r.err.rfind("edgecert: unknown command 'aply'. Did you mean 'apply'?\n", 0) == 0);
  CHECK(r.err.find("edgecert --help") != std::string::npos);
  CHECK(r.out.empty());
  auto t = run_cli({"stauts"});
  CHECK(t.err.find("Did you mean 'status'?") != std::string::npos);
  auto u = run_cli({"force-unlok", "ID"});
  CHECK(u.err.find("Did you mean 'force-unlock'?") != std::string::npos);
}

TEST_CASE("cli: validate reports a missing file as a positioned error", "[cli]") {
  auto r = run_cli({"validate", "/nonexistent/spec.yaml"});
  CHECK(r.status == 1);
  CHECK(r.err.rfind("/nonexistent/spec.yaml:0:0: error: ", 0) == 0);
}
