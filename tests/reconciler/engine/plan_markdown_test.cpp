// render_plan_markdown: a real plan's table and folded text, and a plan whose
// text came from a hostile node (or an edited file) rendering inert.
#include <catch2/catch.hpp>

#include <string>

#include "reconciler/engine/plan.h"
#include "reconciler/engine/session.h"
#include "tests/support/result_checks.h"
#include "tests/support/sim_cluster.h"

using namespace edgecert;
using edgecert::testing::SimCluster;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

Plan real_plan(SimCluster& c) {
  OpenedSession opened = open_session(c.env, c.spec_path, {});
  if (opened.error) FAIL("open_session: " << opened.error->message);
  REQUIRE(opened.session);
  ClusterLive live = read_live(*opened.session, false, {});
  auto plan = make_plan(*opened.session, live, c.env);
  testing::require_ok(plan, "make_plan");
  return std::move(*plan);
}

}  // namespace

TEST_CASE("plan markdown: a heading, one row per action in order, the text folded",
          "[plan][markdown]") {
  SimCluster c;
  Plan p = real_plan(c);
  REQUIRE_FALSE(p.empty());
  std::string md = render_plan_markdown(p);
  CHECK(contains(md, "### edgecert plan for cluster `" + p.cluster + "`"));
  CHECK(contains(md, "**" + p.summary_line() + ".**"));
  CHECK(contains(md, "| # | Node | Action | Why |"));
  // Every action once, numbered in plan order.
  size_t last = 0;
  for (size_t i = 0; i < p.actions.size(); ++i) {
    std::string row = "| " + std::to_string(i + 1) + " | " + p.actions[i].node + " | ";
    size_t at = md.find(row);
    INFO(row);
    REQUIRE(at != std::string::npos);
    CHECK(at > last);
    last = at;
  }
  CHECK(contains(md, "<details><summary>Plan details</summary>"));
  CHECK(contains(md, render_plan_text(p)));
  CHECK(contains(md, "sha256 `" + p.spec_sha256.substr(0, 16) + "`"));
}

TEST_CASE("plan markdown: text from a node cannot break out of its cell or the code block",
          "[plan][markdown]") {
  SimCluster c;
  Plan p = real_plan(c);
  REQUIRE_FALSE(p.empty());
  p.actions.front().reason = "CN a|b\n## injected <img src=x onerror=alert(1)> [x](http://e) *b*";
  p.actions.front().node = "edge1`<b>";
  p.notes.push_back("``` closing fence ```` and </details>");
  std::string md = render_plan_markdown(p);
  // The folded text holds a run of 4 backticks: the fence is 5.
  const size_t open_fence = md.find("\n`````text\n");
  const size_t close_fence = md.find("\n`````\n\n</details>");
  REQUIRE(open_fence != std::string::npos);
  REQUIRE(close_fence != std::string::npos);
  // Outside the code block (which shows the text form verbatim) nothing is
  // markup the plan brought.
  const std::string outside = md.substr(0, open_fence) + md.substr(close_fence);
  CHECK_FALSE(contains(outside, "<img"));
  CHECK_FALSE(contains(outside, "<b>"));
  CHECK_FALSE(contains(outside, "\n## injected"));
  CHECK(contains(outside, "a&#124;b"));
  CHECK(contains(outside, "\\[x\\](http://e)"));
  CHECK(contains(md.substr(open_fence, close_fence - open_fence), "<img src=x"));
  // In the notes list it is escaped; raw only inside the code block (the
  // text form, shown verbatim) and as the real closing tag after the fence.
  CHECK(contains(md, "&lt;/details&gt;"));
  const size_t first_raw = md.find("</details>");
  CHECK(first_raw > open_fence);
  CHECK(first_raw < close_fence);
  CHECK(md.rfind("</details>") > close_fence);
}

TEST_CASE("plan markdown: no changes", "[plan][markdown]") {
  Plan p;
  p.cluster = "tokyo";
  p.spec_path = "clusters/tokyo.yaml";
  p.spec_sha256 = std::string(64, 'a');
  p.created_at = "2026-12-03 10:00:00 UTC";
  std::string md = render_plan_markdown(p);
  CHECK(contains(md, "**No changes.** Live state matches the spec."));
  CHECK_FALSE(contains(md, "| # |"));
}
