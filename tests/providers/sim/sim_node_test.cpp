// Simulator-specific behaviour beyond the node contract: storage (one 0600
// file per node, atomic writes, shared between instances), the audit trail,
// the real clock, and the SHA-256 helper.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "providers/sim/sim_node.h"
#include "providers/sim/sim_provider.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;

node::CsrRequest ec_csr(const std::string& cn) {
  node::CsrRequest r;
  r.common_name = cn;
  r.key_algorithm = spec::KeyAlgorithm::kEcdsa;
  r.key_size = 256;
  return r;
}

// Records which Env write method touched which path.
class RecordingEnv : public MemoryEnv {
 public:
  Status write_file_atomic(const std::string& p, const std::string& d, unsigned m) override {
    atomic_writes.push_back({p, m});
    return MemoryEnv::write_file_atomic(p, d, m);
  }
  Status append_file(const std::string& p, const std::string& d, unsigned m) override {
    appends.push_back({p, m});
    return MemoryEnv::append_file(p, d, m);
  }
  std::vector<std::pair<std::string, unsigned>> atomic_writes;
  std::vector<std::pair<std::string, unsigned>> appends;
};

}  // namespace

TEST_CASE("sim: one 0600 JSON file per node on real disk, shared by every instance", "[sim]") {
  testing::TempDir tmp;
  Env& env = default_env();
  std::string dir = tmp.file("sim/cluster");
  sim::SimNode a(env, dir, "edge1", "edge1.example.com");
  auto csr = a.generate_csr(ec_csr("edge1.example.com"));
  REQUIRE(csr);

  auto names = env.list_dir(dir);
  REQUIRE(names);
  // No temporary files left behind by the atomic writes.
  // (edge1.lock: the node's lock, held by every operation.)
  CHECK(*names == std::vector<std::string>{"edge1.audit.jsonl", "edge1.json", "edge1.lock"});
  CHECK(env.file_mode(a.state_path()).value() == 0600u);
  CHECK(env.file_mode(a.audit_path()).value() == 0600u);
  auto text = env.read_file(a.state_path(), kTestRead);
  REQUIRE(text);
  auto j = nlohmann::json::parse(*text);
  CHECK(j.at("name") == "edge1");
  CHECK(j.at("fqdn") == "edge1.example.com");

  // A second instance (another process, in effect) sees the pending CSR.
  sim::SimNode b(env, dir, "edge1", "ignored.example.com");
  auto s = b.read_state();
  REQUIRE(s);
  REQUIRE(s->pending_csr.has_value());
  CHECK(s->server_chain.front().subject_cn() == "edge1.example.com");
  auto again = b.generate_csr(ec_csr("edge1.example.com"));
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::kAlreadyExists);
}

TEST_CASE("sim: every state change goes through write_file_atomic with mode 0600", "[sim]") {
  RecordingEnv env;
  sim::SimNode n(env, "/sim", "edge1", "edge1.example.com");
  REQUIRE(n.generate_csr(ec_csr("edge1.example.com")));
  REQUIRE(n.set_tls_verification(spec::TlsVerification::kPermissive));
  REQUIRE(n.discard_csr());
  REQUIRE(n.read_state());
  size_t node_writes = 0;
  for (const auto& [path, mode] : env.atomic_writes) {
    if (path == n.state_path()) {
      ++node_writes;
      CHECK(mode == 0600u);
    }
  }
  CHECK(node_writes == 4);  // boot + three changes; the read writes nothing
  for (const auto& [path, mode] : env.appends) {
    CHECK(path == n.audit_path());
    CHECK(mode == 0600u);
  }
}

TEST_CASE("sim: a corrupt node file is an error, not a reboot", "[sim]") {
  MemoryEnv env;
  env.put("/sim/edge1.json", "{ not json", 0600);
  sim::SimNode n(env, "/sim", "edge1", "edge1.example.com");
  auto s = n.read_state();
  REQUIRE_FALSE(s);
  CHECK(s.error().code == ErrorCode::kCorrupt);
  CHECK(s.error().message.find("/sim/edge1.json") != std::string::npos);
  CHECK(env.read_file("/sim/edge1.json", kTestRead).value() == "{ not json");
}

TEST_CASE("sim: times of day are range-checked where they come in, naming the field", "[sim]") {
  MemoryEnv env;
  sim::SimNode n(env, "/sim", "edge1", "edge1.example.com");
  REQUIRE(n.set_crl_settings(node::CrlSettings{}));  // the node file exists
  SECTION("the ACME renewal schedule: no negative or overflowing time is stored") {
    for (int minute : {-61, -1, 24 * 60, 2147483647}) {
      INFO(minute);
      node::AcmeSettings a;
      a.schedule = spec::Schedule{{1}, minute};
      auto st = n.set_acme_settings(a);
      REQUIRE_FALSE(st);
      CHECK(st.error().message.find("RenewalSchedule TimeOfDay") != std::string::npos);
    }
    node::AcmeSettings bad_day;
    bad_day.schedule = spec::Schedule{{9}, 60};
    CHECK_FALSE(n.set_acme_settings(bad_day));
    CHECK_FALSE(n.read_state()->acme.schedule);
  }
  SECTION("a node file edited to hold an impossible time is corrupt, named") {
    auto j = nlohmann::json::parse(env.read_file("/sim/edge1.json", kTestRead).value());
    j["crl"]["daily_update_minute"] = 99999999;
    env.put("/sim/edge1.json", j.dump(), 0600);
    auto s = n.read_state();
    REQUIRE_FALSE(s);
    CHECK(s.error().code == ErrorCode::kCorrupt);
    CHECK(s.error().message.find("daily_update_minute is 99999999, not minutes after midnight") !=
          std::string::npos);
  }
}

TEST_CASE("sim: the audit trail records operations, outcomes and fingerprints", "[sim]") {
  MemoryEnv env;
  sim::SimNode n(env, "/sim", "edge1", "edge1.example.com");
  REQUIRE(n.generate_csr(ec_csr("edge1.example.com")));
  REQUIRE_FALSE(n.generate_csr(ec_csr("edge1.example.com")));
  auto fp = n.read_state().value().trusted_cas.front().sha256_fingerprint();
  REQUIRE(n.delete_trusted_ca(fp));
  auto audit = n.audit();
  REQUIRE(audit);
  REQUIRE(audit->size() == 3);  // the read is not audited: reads write nothing
  CHECK((*audit)[0].operation == "generate_csr");
  CHECK((*audit)[0].outcome == "ok");
  CHECK((*audit)[1].outcome.rfind("error: already-exists: a CSR is already in progress", 0) == 0);
  CHECK((*audit)[2].operation == "delete_trusted_ca");
  CHECK((*audit)[2].details.find(fp) != std::string::npos);
  CHECK((*audit)[0].time == "2027-01-01T00:00:00Z");
}

TEST_CASE("sim: node names must be safe file names", "[sim]") {
  MemoryEnv env;
  sim::SimNode n(env, "/sim", "../etc", "edge1.example.com");
  auto s = n.read_state();
  REQUIRE_FALSE(s);
  CHECK(s.error().code == ErrorCode::kInvalidArgument);
  CHECK_FALSE(env.exists("/etc.json"));
  CHECK(sim::sim_node_name("sim://edge-1").value() == "edge-1");
  CHECK_FALSE(sim::sim_node_name("sim://"));
  CHECK_FALSE(sim::sim_node_name("https://edge1"));
}

TEST_CASE("sim: a restart on the real clock really takes restart_seconds", "[sim][slow]") {
  testing::TempDir tmp;
  Env& env = default_env();
  spec::Spec s;
  s.name = "rt";
  s.peers = {{"edge1", "edge1.example.com", "sim://edge1"}};
  node::NodeOpenContext ctx(env);
  ctx.sim_dir = tmp.file("sim");
  auto admin = sim::sim_node_for(ctx, s, s.peers[0]);
  REQUIRE(admin);
  REQUIRE(admin->set_restart_seconds(1));
  auto n = node::open_node(ctx, s, s.peers[0]);
  REQUIRE(n);
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE((*n)->restart());
  auto during = (*n)->read_state();
  REQUIRE_FALSE(during);
  CHECK(during.error().message == "edge1: read state: node is restarting");
  auto up = (*n)->wait_until_up(std::chrono::seconds(10));
  INFO((up ? std::string() : up.error().message));
  REQUIRE(up);
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(900));
  CHECK((*n)->read_state());
}
