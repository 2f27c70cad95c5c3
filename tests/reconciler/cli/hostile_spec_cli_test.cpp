// A spec holding bytes that are not UTF-8 (issue 16, defect 2): every command
// that reads it refuses it at load with file:line:col and exit 1 — validate
// (text and JSON), plan and apply — with nothing thrown, no lock left behind
// and no node touched.
#include <algorithm>

#include <fmt/core.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

using namespace edgecert;
using edgecert::testing::SimCluster;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a spec that is not UTF-8 is refused at load by every command", "[cli][utf8]") {
  SimCluster c(testing::with_peers(2));
  auto o = c.options();
  o.subject = "{country: JP, organization: \"Caf\xE9 KK\"}";  // Latin-1, not UTF-8
  c.write_spec(o);
  // Where the bad byte is: file:line:col, the column counting bytes.
  const std::string text = c.memory.read_file(c.spec_path, kTestRead).value();
  const size_t at = text.find('\xE9');
  REQUIRE(at != std::string::npos);
  const size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + at, '\n'));
  const size_t column = at - (text.rfind('\n', at) + 1) + 1;
  const std::string where = fmt::format(
      "{}:{}:{}: error: the spec is not valid UTF-8 (byte 0xE9 "
      "here)",
      c.spec_path, line, column);

  SECTION("validate") {
    auto r = c.cli({"validate", c.spec_path});
    CHECK(r.status == 1);
    CHECK(contains(r.err, where));
  }
  SECTION("validate --output json: valid JSON, not an abort") {
    auto r = c.cli({"validate", "--output", "json", c.spec_path});
    CHECK(r.status == 1);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    CHECK(j["valid"] == false);
    REQUIRE(j["diagnostics"].size() == 1);
    CHECK(
        contains(j["diagnostics"][0]["message"].get<std::string>(), "the spec is not valid UTF-8"));
    CHECK(j["diagnostics"][0]["line"] == line);
  }
  SECTION("validate --output json with a file name that is not UTF-8") {
    auto r = c.cli({"validate", "--output", "json", "missing-\xFF.yaml"});
    CHECK(r.status == 1);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    CHECK(contains(r.out, "missing-\xEF\xBF\xBD.yaml"));  // shown as U+FFFD
  }
  SECTION("plan and apply: exit 1 with the position; no lock, no node changed") {
    auto plan = c.plan();
    CHECK(plan.status == 1);
    CHECK(contains(plan.err, where));
    auto apply = c.apply();
    CHECK(apply.status == 1);
    CHECK(contains(apply.err, where));
    auto json_apply = c.cli({"apply", "--auto-approve", "--output", "json", c.spec_path});
    CHECK(json_apply.status == 1);
    CHECK(contains(json_apply.out + json_apply.err, "the spec is not valid UTF-8"));
    CHECK_FALSE(c.memory.exists("cluster/.edgecert/state/test/lock.json"));
    for (const auto& name : c.peer_names()) CHECK(c.restarts(name) == 0);
  }
}
