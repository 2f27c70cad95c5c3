// fleet.h: which files are specs, the shards partitioning a fleet, and the
// conflicts (one cluster or one node in two specs) that make it ambiguous.
#include <catch2/catch.hpp>

#include <set>

#include "reconciler/engine/fleet.h"

using namespace edgecert;

namespace {

const std::string kSpec = "apiVersion: edgecert/v1\nkind: ExpresswayCluster\n";

spec::Spec cluster(const std::string& name, std::vector<std::string> endpoints,
                   const std::string& dir = "clusters") {
  spec::Spec s;
  s.name = name;
  s.directory = dir;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    spec::Peer p;
    p.name = "edge" + std::to_string(i + 1);
    p.endpoint = endpoints[i];
    s.peers.push_back(p);
  }
  return s;
}

}  // namespace

TEST_CASE("looks_like_spec: only a top-level apiVersion edgecert/v1", "[fleet]") {
  CHECK(looks_like_spec(kSpec));
  CHECK(looks_like_spec("# a comment\napiVersion: \"edgecert/v1\"  # ours\n"));
  CHECK(looks_like_spec("kind: X\r\napiVersion: 'edgecert/v1'\r\n"));
  CHECK_FALSE(looks_like_spec("apiVersion: apps/v1\nkind: Deployment\n"));
  CHECK_FALSE(looks_like_spec("items:\n  apiVersion: edgecert/v1\n"));
  CHECK_FALSE(looks_like_spec("apiVersion: edgecert/v10\n"));
  CHECK_FALSE(looks_like_spec("name: ci\non: push\n"));
  CHECK_FALSE(looks_like_spec(""));
  CHECK(
      looks_like_spec("\xEF\xBB\xBF"
                      "apiVersion: edgecert/v1\n"));  // a byte order mark
  CHECK(looks_like_spec("\"apiVersion\": \"edgecert/v1\"\n"));
  CHECK(looks_like_spec("apiVersion: edgecert/v1\t# tab, then a comment\n"));
}

TEST_CASE("discover_specs: folders searched recursively in name order", "[fleet]") {
  MemoryEnv env;
  env.put("fleet/b/cluster.yaml", kSpec);
  env.put("fleet/a/deep/er/cluster.yml", kSpec);
  env.put("fleet/a/notes.txt", kSpec);               // not YAML by name
  env.put("fleet/a/workflow.yaml", "on: push\n");    // YAML, not a spec
  env.put("fleet/.git/config.yaml", kSpec);          // hidden folder
  env.put("fleet/.hidden.yaml", kSpec);              // hidden file
  env.put("fleet/b/.edgecert/state/x.yaml", kSpec);  // edgecert's own folder
  env.put("one.yaml", "not even a spec");

  SECTION("a folder") {
    auto r = discover_specs(env, {"fleet"});
    REQUIRE(r);
    CHECK(*r == std::vector<std::string>{"fleet/a/deep/er/cluster.yml", "fleet/b/cluster.yaml"});
  }
  SECTION("a file is taken as given, whatever it holds, and each file once") {
    auto r = discover_specs(env, {"one.yaml", "fleet/b", "fleet", "./one.yaml"});
    REQUIRE(r);
    CHECK(*r == std::vector<std::string>{"one.yaml", "fleet/b/cluster.yaml",
                                         "fleet/a/deep/er/cluster.yml"});
  }
  SECTION("a missing file is left for the loader to report") {
    auto r = discover_specs(env, {"missing.yaml"});
    REQUIRE(r);
    CHECK(*r == std::vector<std::string>{"missing.yaml"});
  }
  SECTION("a folder with no spec is an error naming it") {
    env.put("empty/workflow.yaml", "on: push\n");
    auto r = discover_specs(env, {"fleet", "empty"});
    REQUIRE_FALSE(r);
    CHECK(r.error().message ==
          "empty: no spec in this folder or below it (a *.yaml or *.yml file with 'apiVersion: "
          "edgecert/v1')");
  }
  SECTION("a folder whose only specs are hidden or too deep says so") {
    env.put("quiet/.old/cluster.yaml", kSpec);
    std::string deep = "quiet";
    for (int i = 0; i < 17; ++i) deep += "/d";
    env.put(deep + "/cluster.yaml", kSpec);
    auto r = discover_specs(env, {"quiet"});
    REQUIRE_FALSE(r);
    CHECK(r.error().message ==
          "quiet: no spec in this folder or below it (a *.yaml or *.yml file with 'apiVersion: "
          "edgecert/v1'); names starting with '.' are skipped; folders more than 16 levels down "
          "are not searched");
  }
  SECTION("YAML that mentions edgecert/v1 without the top-level line is left out, and said") {
    env.put("fleet/b/indented.yaml", "  apiVersion: edgecert/v1\nkind: ExpresswayCluster\n");
    env.put("fleet/b/misspelt.yaml", "apiversion: edgecert/v1\n");
    std::vector<std::string> skipped;
    auto r = discover_specs(env, {"fleet"}, &skipped);
    REQUIRE(r);
    CHECK(*r == std::vector<std::string>{"fleet/a/deep/er/cluster.yml", "fleet/b/cluster.yaml"});
    CHECK(skipped == std::vector<std::string>{"fleet/b/indented.yaml", "fleet/b/misspelt.yaml"});
    env.put("odd/only.yaml", "  apiVersion: edgecert/v1\n");
    auto none = discover_specs(env, {"odd"});
    REQUIRE_FALSE(none);
    CHECK(none.error().message ==
          "odd: no spec in this folder or below it (a *.yaml or *.yml file with 'apiVersion: "
          "edgecert/v1'); odd/only.yaml mentions edgecert/v1 without a top-level 'apiVersion: "
          "edgecert/v1' line");
  }
  SECTION("deeper than 16 folders is not searched") {
    std::string deep = "tall";
    for (int i = 0; i < 20; ++i) deep += "/d";
    env.put(deep + "/cluster.yaml", kSpec);
    env.put("tall/d/cluster.yaml", kSpec);
    auto r = discover_specs(env, {"tall"});
    REQUIRE(r);
    CHECK(*r == std::vector<std::string>{"tall/d/cluster.yaml"});
  }
}

TEST_CASE("parse_shard", "[fleet]") {
  auto ok = parse_shard("2/8");
  REQUIRE(ok);
  CHECK(ok->index == 2);
  CHECK(ok->count == 8);
  CHECK(parse_shard("1/1"));
  CHECK(parse_shard("1000/1000"));
  for (const char* bad :
       {"", "3", "0/4", "5/4", "1/0", "1/1001", "a/b", "1/2/3", "-1/4", "1 /4", "2/8x"}) {
    INFO(bad);
    auto r = parse_shard(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.rfind(std::string("--shard ") + bad + ": ", 0) == 0);
  }
}

TEST_CASE("shards partition the clusters exactly, and stably", "[fleet]") {
  // FNV-1a 64 of known inputs: docs/scaling.md publishes the function.
  CHECK(cluster_hash("") == 14695981039346656037ull);
  CHECK(cluster_hash("a") == 0xaf63dc4c8601ec8cull);
  for (unsigned n : {1u, 2u, 3u, 7u, 16u}) {
    std::set<std::string> seen;
    size_t total = 0;
    for (unsigned k = 1; k <= n; ++k)
      for (int c = 0; c < 200; ++c) {
        const std::string name = "cluster-" + std::to_string(c);
        if (in_shard(name, Shard{k, n})) {
          ++total;
          seen.insert(name);
        }
      }
    INFO(n);
    CHECK(total == 200);  // every cluster in exactly one shard
    CHECK(seen.size() == 200);
  }
  // Not all in one shard: the hash spreads names that differ by a digit.
  size_t first = 0;
  for (int c = 0; c < 200; ++c) first += in_shard("cluster-" + std::to_string(c), Shard{1, 4});
  CHECK(first > 20);
  CHECK(first < 100);
}

TEST_CASE("node_identity: what an endpoint reaches", "[fleet]") {
  MemoryEnv env;
  node::NodeOpenContext ctx(env);
  spec::Spec s = cluster("tokyo", {});
  spec::Peer p;
  auto id = [&](const std::string& endpoint) {
    p.endpoint = endpoint;
    return node_identity(ctx, s, p);
  };
  CHECK(id("https://Edge1.Example.COM") == "https://edge1.example.com:443");
  CHECK(id("https://edge1.example.com.:443/") == "https://edge1.example.com:443");
  CHECK(id("https://edge1.example.com:8443") == "https://edge1.example.com:8443");
  CHECK(id("https://[2001:DB8::1]:443") == "https://[2001:db8::1]:443");
  CHECK(id("https://[2001:db8::1]") == "https://[2001:db8::1]:443");
  CHECK(id("sim://edge1") == "sim:clusters/.edgecert/sim/tokyo/edge1.json");
  ctx.sim_dir = "./shared//sim";
  CHECK(id("sim://edge1") == "sim:shared/sim/edge1.json");
}

TEST_CASE("fleet_conflicts: one cluster or one node in two specs", "[fleet]") {
  MemoryEnv env;
  node::NodeOpenContext ctx(env);
  spec::Spec a = cluster("tokyo", {"https://e1.example.com", "https://e2.example.com"});
  spec::Spec b = cluster("osaka", {"https://o1.example.com"});

  SECTION("none") {
    CHECK(fleet_conflicts({{"a.yaml", &a}, {"b.yaml", &b}, {"bad.yaml", nullptr}}, ctx).empty());
  }
  SECTION("the same cluster name") {
    spec::Spec c = cluster("tokyo", {"https://t9.example.com"});
    auto r = fleet_conflicts({{"a.yaml", &a}, {"b.yaml", &b}, {"c.yaml", &c}}, ctx);
    REQUIRE(r.size() == 1);
    CHECK(r[0].spec_path == "c.yaml");
    CHECK(r[0].message == "c.yaml: cluster 'tokyo' is also defined in a.yaml");
  }
  SECTION("the same node under another spelling") {
    spec::Spec c = cluster("nagoya", {"https://n1.example.com", "https://E2.example.com:443"});
    auto r = fleet_conflicts({{"a.yaml", &a}, {"c.yaml", &c}}, ctx);
    REQUIRE(r.size() == 1);
    CHECK(r[0].spec_path == "c.yaml");
    CHECK(r[0].message ==
          "c.yaml: peers[1] (edge2) reaches https://e2.example.com:443, as peer edge2 of cluster "
          "'tokyo' in a.yaml does: one node cannot belong to two clusters");
  }
  SECTION("simulated nodes: one per cluster folder, unless --sim-dir shares one") {
    spec::Spec s1 = cluster("one", {"sim://edge1"});
    spec::Spec s2 = cluster("two", {"sim://edge1"});
    CHECK(fleet_conflicts({{"one.yaml", &s1}, {"two.yaml", &s2}}, ctx).empty());
    ctx.sim_dir = "sim";
    auto r = fleet_conflicts({{"one.yaml", &s1}, {"two.yaml", &s2}}, ctx);
    REQUIRE(r.size() == 1);
    CHECK(r[0].message ==
          "two.yaml: peers[0] (edge1) reaches sim:sim/edge1.json, as peer edge1 of cluster 'one' "
          "in one.yaml does: one node cannot belong to two clusters");
  }
}
