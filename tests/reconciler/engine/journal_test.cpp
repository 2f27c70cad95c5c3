#include <catch2/catch.hpp>

#include <algorithm>

#include "providers/base/fault_env.h"
#include "reconciler/engine/journal.h"
#include "tests/support/test_support.h"

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

TEST_CASE(
    "journal: a whole last entry without its newline is kept, and the next append "
    "does not glue onto it",
    "[journal]") {
  MemoryEnv env;
  {
    Journal j(env, "journal.jsonl");
    REQUIRE(j.append(ev(JournalEvent::kRunStart)));
    REQUIRE(j.append(ev(JournalEvent::kActionStart, "a1", "edge1")));
  }
  // The last entry lost its newline (a writer killed between the two, or an
  // editor): it is a complete record.
  std::string text = *env.read_file("journal.jsonl", kTestRead);
  REQUIRE(text.back() == '\n');
  env.put("journal.jsonl", text.substr(0, text.size() - 1));
  Journal j(env, "journal.jsonl");
  auto before = j.read_all();
  REQUIRE(before);
  REQUIRE(before->size() == 2);
  CHECK(before->back().action_id == "a1");
  REQUIRE(j.append(ev(JournalEvent::kActionDone, "a1", "edge1")));
  // Every entry is still there, one per line, numbered on.
  std::string after_text = *env.read_file("journal.jsonl", kTestRead);
  CHECK(after_text == text + after_text.substr(text.size()));
  CHECK(std::count(after_text.begin(), after_text.end(), '\n') == 3);
  auto after = Journal(env, "journal.jsonl").read_all();
  REQUIRE(after);
  REQUIRE(after->size() == 3);
  CHECK((*after)[1].event == JournalEvent::kActionStart);
  CHECK((*after)[2].event == JournalEvent::kActionDone);
  CHECK((*after)[2].seq == 3);
  auto run = last_run(*after);
  REQUIRE(run);
  CHECK(run->actions.at("a1") == ActionState::kDone);
}

TEST_CASE("journal: a torn last line is cut off before the next append", "[journal]") {
  MemoryEnv base;
  FaultInjectionEnv env(base);
  {
    Journal j(env, "journal.jsonl");
    REQUIRE(j.append(ev(JournalEvent::kRunStart)));
    env.crash_at_mutation(env.mutations() + 1, /*torn_append=*/true);
    CHECK_FALSE(j.append(ev(JournalEvent::kActionStart, "a1")));
  }
  REQUIRE(base.read_file("journal.jsonl", kTestRead)->back() != '\n');
  Journal next(base, "journal.jsonl");
  REQUIRE(next.append(ev(JournalEvent::kRunEnd)));
  auto all = next.read_all();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[1].event == JournalEvent::kRunEnd);
  CHECK((*all)[1].seq == 2);
}

TEST_CASE("journal: a failed append is followed by a clean line, not a glued one", "[journal]") {
  MemoryEnv base;
  FaultInjectionEnv env(base);
  Journal j(env, "journal.jsonl");
  REQUIRE(j.append(ev(JournalEvent::kRunStart)));
  // The same writer goes on after a write that failed half-way (a full disk).
  env.crash_at_mutation(env.mutations() + 1, /*torn_append=*/true);
  CHECK_FALSE(j.append(ev(JournalEvent::kActionStart, "a1")));
  env.reset();
  REQUIRE(j.append(ev(JournalEvent::kActionStart, "a1")));
  auto all = Journal(base, "journal.jsonl").read_all();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[1].action_id == "a1");
}

TEST_CASE(
    "journal: out-of-range and non-integer numbers are refused naming file, line and "
    "field",
    "[journal]") {
  const std::string good = R"({"seq":1,"time_ms":1000,"run":"r1","event":"run-start"})";
  struct Case {
    std::string line;
    std::string field;
  };
  const Case cases[] = {
      {R"({"seq":1e300,"time_ms":1000,"run":"r1","event":"run-start"})",
       "seq: expected an integer"},
      {R"({"seq":2.5,"time_ms":1000,"run":"r1","event":"run-start"})", "seq: expected an integer"},
      {R"({"seq":-3,"time_ms":1000,"run":"r1","event":"run-start"})", "seq: -3 is out of range"},
      {R"({"seq":0,"time_ms":1000,"run":"r1","event":"run-start"})", "seq: 0 is out of range"},
      {R"({"seq":18446744073709551615,"time_ms":1000,"run":"r1","event":"run-start"})",
       "seq: 18446744073709551615 is out of range"},
      {R"({"seq":9223372036854775807,"time_ms":1000,"run":"r1","event":"run-start"})",
       "seq: 9223372036854775807 is out of range"},
      {R"({"seq":2,"time_ms":1e300,"run":"r1","event":"run-start"})",
       "time_ms: expected an integer"},
      {R"({"seq":2,"time_ms":9223372036854775807,"run":"r1","event":"run-start"})",
       "time_ms: 9223372036854775807 is out of range"},
      {R"({"seq":2,"time_ms":-1,"run":"r1","event":"run-start"})", "time_ms: -1 is out of range"},
      // One millisecond after 9999-12-31T23:59:59.999Z: a TimePoint could
      // hold it, but no date edgecert prints can show it.
      {R"({"seq":2,"time_ms":253402300800000,"run":"r1","event":"run-start"})",
       "time_ms: 253402300800000 is out of range"},
      {R"({"seq":2,"time_ms":1000,"run":7,"event":"run-start"})", "run: expected a string"},
      {R"({"seq":2,"time_ms":1000,"run":"r1","event":"run-start","node":1e300})",
       "node: expected a string"},
      {R"({"seq":2,"time_ms":1000,"run":"r1","event":"run-start","data":5})",
       "data: expected an object"},
      {R"({"seq":2,"time_ms":1000,"run":"r1","event":"launch"})", "event: unknown event"},
      {R"([1,2])", "expected an object"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    MemoryEnv env;
    // Terminated, so it is not a torn last line: refused, not dropped.
    env.put("state/journal.jsonl", good + "\n" + c.line + "\n");
    Journal j(env, "state/journal.jsonl");
    auto all = j.read_all();
    REQUIRE_FALSE(all);
    CHECK(all.error().code == ErrorCode::kCorrupt);
    CHECK(all.error().message.find("state/journal.jsonl:2: corrupt journal line: " + c.field) !=
          std::string::npos);
    // The writer refuses too, and leaves the file as it was.
    CHECK_FALSE(j.append(ev(JournalEvent::kRunEnd)));
    CHECK(*env.read_file("state/journal.jsonl", kTestRead) == good + "\n" + c.line + "\n");
  }
}

TEST_CASE("journal: a message with bytes that are not UTF-8 is recorded, not thrown on",
          "[journal]") {
  // A node's error text may quote raw bytes from its reply.
  MemoryEnv env;
  Journal j(env, "journal.jsonl");
  auto failed = ev(JournalEvent::kActionFailed, "a1", "edge1");
  failed.message = std::string("edge1: HTTP 500: caf\xE9 \xFF");
  REQUIRE(j.append(failed));
  auto all = j.read_all();
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  CHECK(all->front().message == "edge1: HTTP 500: caf\xEF\xBF\xBD \xEF\xBF\xBD");
}

TEST_CASE("journal: a time_ms at the end of 9999 reads back as that instant", "[journal]") {
  MemoryEnv env;
  env.put("state/journal.jsonl",
          R"({"seq":1,"time_ms":253402300799000,"run":"r1","event":"run-start"})"
          "\n");
  auto all = Journal(env, "state/journal.jsonl").read_all();
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  CHECK(all->front().time == kLatestTime);
}
