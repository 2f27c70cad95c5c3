// Approvals bound to a saved plan's bytes, and the change ID rule
// (approval.h), on a MemoryEnv.
#include <catch2/catch.hpp>

#include "providers/pki/spki.h"
#include "reconciler/engine/approval.h"
#include "tests/support/test_support.h"

using namespace edgecert;

namespace {

const std::string kPlan = "plan.json";

std::string digest_of(MemoryEnv& env) {
  return pki::sha256_hex(*env.read_file(kPlan, read_limits::kSavedPlan));
}

}  // namespace

TEST_CASE("approval: distinct approvers, bound to the plan's bytes", "[approval]") {
  MemoryEnv env;
  REQUIRE(env.write_file_atomic(kPlan, "{\"format_version\": 1}\n", 0644));
  spec::ChangeControl cc{2, std::nullopt};
  auto none = check_approvals(env, cc, kPlan, digest_of(env));
  REQUIRE_FALSE(none);
  CHECK_THAT(none.error().message, Catch::Contains("has 0 of the 2 approvals"));

  REQUIRE(approve_plan(env, kPlan, digest_of(env), "alice", "looks right"));
  auto twice = approve_plan(env, kPlan, digest_of(env), "alice", "");
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code == ErrorCode::kConflict);
  CHECK_FALSE(
      approve_plan(env, kPlan, digest_of(env), "ALICE", ""));  // one person, whatever the case
  auto one = check_approvals(env, cc, kPlan, digest_of(env));
  REQUIRE_FALSE(one);
  CHECK_THAT(one.error().message, Catch::Contains("has 1 of the 2") && Catch::Contains("(alice)"));

  auto two = approve_plan(env, kPlan, digest_of(env), "bob", "");
  REQUIRE(two);
  CHECK(two->approvals.size() == 2);
  auto ok = check_approvals(env, cc, kPlan, digest_of(env));
  REQUIRE(ok);
  CHECK(*ok == std::vector<std::string>{"alice", "bob"});

  // One byte more: every approval is void, and no new one joins the old.
  REQUIRE(env.write_file_atomic(kPlan, "{\"format_version\": 1} \n", 0644));
  auto edited = check_approvals(env, cc, kPlan, digest_of(env));
  REQUIRE_FALSE(edited);
  CHECK_THAT(edited.error().message, Catch::Contains("changed after it was approved"));
  auto mixed = approve_plan(env, kPlan, digest_of(env), "carol", "");
  REQUIRE_FALSE(mixed);
  CHECK_THAT(mixed.error().message, Catch::Contains("other plan contents"));
}

TEST_CASE("approval: names and comments are one printable line", "[approval]") {
  MemoryEnv env;
  REQUIRE(env.write_file_atomic(kPlan, "{}", 0644));
  for (const std::string& bad :
       {std::string(), std::string("a\nb"), std::string(101, 'x'), std::string("tab\there"),
        std::string("alice "), std::string(" alice"), std::string("  ")}) {
    auto r = approve_plan(env, kPlan, digest_of(env), bad, "");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
  }
  CHECK_FALSE(approve_plan(env, kPlan, digest_of(env), "alice", "two\nlines"));
  CHECK_FALSE(env.exists(approvals_path(kPlan)));
}

TEST_CASE("approval: the change ID must match the whole pattern", "[approval]") {
  spec::ChangeControl cc{0, std::string("CHG[0-9]{7}")};
  CHECK(check_change_id(cc, std::string("CHG0000001")));
  CHECK_FALSE(check_change_id(cc, std::string("xCHG0000001")));  // whole match, no search
  CHECK_FALSE(check_change_id(cc, std::string("CHG00000011")));
  auto missing = check_change_id(cc, std::nullopt);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("requires a change ID"));
  spec::ChangeControl free_form{0, std::nullopt};
  CHECK(check_change_id(free_form, std::nullopt));
  CHECK(check_change_id(free_form, std::string("any text")));
  CHECK_FALSE(check_change_id(free_form, std::string(129, 'x')));
  CHECK_FALSE(check_change_id(free_form, std::string("a\x1b[31m")));
}
