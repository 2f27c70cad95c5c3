#include <catch2/catch.hpp>

#include "providers/base/fault_env.h"
#include "reconciler/engine/journal.h"

using namespace edgecert;

namespace {
JournalEntry ev(JournalEvent e, std::string action = "", std::string node = "") {
  JournalEntry j;
  j.run_id = "r1";
  j.event = e;
  j.action_id = std::move(action);
  j.node = std::move(node);
  return j;
}
}  // namespace

TEST_CASE("journal: entries round-trip with increasing sequence numbers", "[journal]") {
  MemoryEnv env;
  Journal j(env, "journal.jsonl");
  REQUIRE(j.append(ev(JournalEvent::kRunStart)));
  auto start = ev(JournalEvent::kActionStart, "a1", "edge1");
  start.kind = "restart";
  start.data = {{"fingerprint", "AB:CD"}};
  REQUIRE(j.append(start));
  REQUIRE(j.append(ev(JournalEvent::kActionDone, "a1", "edge1")));
  auto all = j.read_all();
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].seq == 1);
  CHECK((*all)[2].seq == 3);
  CHECK((*all)[1].kind == "restart");
  CHECK((*all)[1].data["fingerprint"] == "AB:CD");
  // A second writer on the same file continues the numbering.
  Journal again(env, "journal.jsonl");
  REQUIRE(again.append(ev(JournalEvent::kRunEnd)));
  CHECK(again.read_all()->back().seq == 4);
}

TEST_CASE("journal: a torn last line from a kill is ignored", "[journal]") {
  MemoryEnv base;
  FaultInjectionEnv env(base);
  Journal j(env, "journal.jsonl");
  REQUIRE(j.append(ev(JournalEvent::kRunStart)));
  REQUIRE(j.append(ev(JournalEvent::kActionStart, "a1")));
  env.crash_at_mutation(env.mutations() + 1, /*torn_append=*/true);
  CHECK_FALSE(j.append(ev(JournalEvent::kActionDone, "a1")));
  Journal reader(base, "journal.jsonl");
  auto all = reader.read_all();
  REQUIRE(all);
  CHECK(all->size() == 2);
  auto run = last_run(*all);
  REQUIRE(run);
  CHECK_FALSE(run->finished);
  CHECK(run->actions.at("a1") == ActionState::kStarted);
}

TEST_CASE("journal: a bad line in the middle is corruption", "[journal]") {
  MemoryEnv env;
  env.put("journal.jsonl", "{\"seq\":1}\ngarbage\n{\"seq\":3}\n");
  auto all = Journal(env, "journal.jsonl").read_all();
  REQUIRE_FALSE(all);
  CHECK(all.error().code == ErrorCode::kCorrupt);
  CHECK(all.error().message.find("journal.jsonl:1") != std::string::npos);
}

TEST_CASE("journal: last_run summarises only the newest run", "[journal]") {
  MemoryEnv env;
  Journal j(env, "j");
  REQUIRE(j.append(ev(JournalEvent::kRunStart)));
  REQUIRE(j.append(ev(JournalEvent::kActionStart, "old")));
  REQUIRE(j.append(ev(JournalEvent::kRunEnd)));
  auto second = ev(JournalEvent::kRunStart);
  second.run_id = "r2";
  REQUIRE(j.append(second));
  auto a = ev(JournalEvent::kActionStart, "x");
  a.run_id = "r2";
  REQUIRE(j.append(a));
  a.event = JournalEvent::kActionFailed;
  REQUIRE(j.append(a));
  auto run = last_run(*j.read_all());
  REQUIRE(run);
  CHECK(run->run_id == "r2");
  CHECK_FALSE(run->finished);
  CHECK(run->actions.size() == 1);
  CHECK(run->actions.at("x") == ActionState::kFailed);
}
