#include "tests/support/sim_cluster.h"
#include "tests/support/test_support.h"

#include <algorithm>

#include <fmt/core.h>
#include <catch2/catch.hpp>

#include "providers/issuers/openssl_ca.h"

namespace edgecert::testing {

SimCluster::SimCluster(SimClusterOptions options) : options_(std::move(options)) {
  // A kill stops edgecert, not the nodes: their files are their own disks.
  env.set_scope(
      [](const std::string& path) { return path.rfind("cluster/.edgecert/sim/", 0) != 0; });
  // Time zones the tests' rollout windows use (validation reads them through the Env).
  for (const char* zone : {"UTC", "Asia/Tokyo"}) {
    auto data = default_env().read_file(std::string("/usr/share/zoneinfo/") + zone, kTestRead);
    if (data) memory.put(std::string("/usr/share/zoneinfo/") + zone, *data);
  }
  write_spec(options_);
  if (options_.init_ca) {
    issuer::CaInitOptions ca;
    ca.common_name = "Test Issuing CA";
    ca.algorithm = spec::KeyAlgorithm::kEcdsa;
    ca.key_size = 256;
    REQUIRE(issuer::init_openssl_ca(memory, "cluster/ca", ca));
  }
}

void SimCluster::write_spec(const SimClusterOptions& o) {
  options_ = o;
  std::string peers;
  for (int i = 1; i <= o.peers; ++i)
    peers += fmt::format(
        "    - {{name: edge{0}, fqdn: edge{0}.example.com, endpoint: sim://edge{0}}}\n", i);
  std::string yaml = fmt::format(
      "apiVersion: edgecert/v1\n"
      "kind: ExpresswayCluster\n"
      "metadata:\n  name: {}\n"
      "spec:\n"
      "  product: {}\n"
      "{}"
      "  peers:\n{}"
      "  serverCertificate:\n"
      "    subject: {}\n"
      "    key: {{algorithm: ecdsa, size: 256}}\n"
      "    issuer: {}\n"
      "{}"
      "  rollout: {}\n"
      "{}",
      cluster, o.product, o.peers > 1 ? "  clusterFqdn: edge.example.com\n" : "", peers, o.subject,
      o.issuer, o.server_certificate_extra, o.rollout, o.spec_extra);
  memory.put(spec_path, yaml);
}

CliRun SimCluster::cli(std::vector<std::string> args, const std::string& input, bool tty) {
  return run_cli(args, &env, input, tty, network.factory());
}

CliRun SimCluster::plan(std::vector<std::string> extra) {
  std::vector<std::string> args = {"plan", spec_path};
  args.insert(args.end(), extra.begin(), extra.end());
  return cli(args);
}

CliRun SimCluster::apply(std::vector<std::string> extra) {
  std::vector<std::string> args = {"apply", spec_path, "--auto-approve"};
  args.insert(args.end(), extra.begin(), extra.end());
  return cli(args);
}

std::vector<std::string> SimCluster::peer_names() const {
  std::vector<std::string> out;
  for (int i = 1; i <= options_.peers; ++i) out.push_back(fmt::format("edge{}", i));
  return out;
}

sim::SimNode SimCluster::node(const std::string& name) {
  return sim::SimNode(memory, "cluster/.edgecert/sim/" + cluster, name, name + ".example.com");
}

int SimCluster::restarts(const std::string& name) {
  auto trail = node(name).audit();
  REQUIRE(trail);
  return static_cast<int>(std::count_if(trail->begin(), trail->end(), [](const sim::AuditEntry& e) {
    return e.operation == "restart" && e.outcome == "ok";
  }));
}

std::vector<std::pair<std::string, std::string>> SimCluster::restart_log() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& name : peer_names()) {
    auto trail = node(name).audit();
    if (!trail) continue;
    for (const auto& e : *trail)
      if (e.operation == "restart" && e.outcome == "ok") out.emplace_back(e.time, name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

pki::Certificate SimCluster::serving(const std::string& name) {
  auto chain = node(name).served_chain();
  REQUIRE(chain);
  REQUIRE_FALSE(chain->empty());
  return chain->front();
}

std::vector<pki::Certificate> SimCluster::ca_certificates() {
  auto certs = pki::load_certificates(memory, "cluster/ca/cacert.pem", kTestRead);
  REQUIRE(certs);
  return *certs;
}

std::vector<std::string> SimCluster::files_with_private_keys() {
  std::vector<std::string> out;
  std::vector<std::string> dirs = {"cluster/.edgecert/state/" + cluster,
                                   "cluster/.edgecert/sim/" + cluster, "cluster"};
  for (const auto& dir : dirs) {
    auto names = memory.list_dir(dir);
    if (!names) continue;
    for (const auto& n : *names) {
      std::string p = dir + "/" + n;
      if (memory.is_directory(p)) continue;
      // A sim node's own state file is its disk (it holds its key); the
      // CA's key lives under cluster/ca/private.
      if (dir == "cluster/.edgecert/sim/" + cluster && n.find(".audit.") == std::string::npos)
        continue;
      auto data = memory.read_file(p, kTestRead);
      if (data && data->find("PRIVATE KEY") != std::string::npos) out.push_back(p);
    }
  }
  return out;
}

}  // namespace edgecert::testing
