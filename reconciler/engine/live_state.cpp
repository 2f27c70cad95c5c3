#include "reconciler/engine/live_state.h"

#include <atomic>
#include <thread>

#include <fmt/core.h>

#include "providers/base/fqdn.h"
#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "providers/pki/spki.h"
#include "reconciler/engine/action.h"

namespace edgecert {
namespace {

std::string key_text(const pki::KeyInfo& k) {
  if (!k.curve.empty()) return fmt::format("{} {}", k.algorithm, k.curve);
  return fmt::format("{} {}", k.algorithm, k.bits);
}

void flatten(const nlohmann::json& j, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    if (j.empty()) out[prefix] = "{}";
  } else {
    out[prefix] = j.dump();
  }
}

}  // namespace

const NodeLive* ClusterLive::find(const std::string& peer) const {
  for (const NodeLive& n : nodes)
    if (n.peer == peer) return &n;
  return nullptr;
}

bool ClusterLive::all_readable() const {
  for (const NodeLive& n : nodes)
    if (!n.state) return false;
  return true;
}

node::NodeProvider* OpenedNodes::find(const std::string& peer) const {
  for (const auto& [name, p] : providers)
    if (name == peer) return p.get();
  return nullptr;
}

Result<OpenedNodes> open_nodes(const node::NodeOpenContext& context, const spec::Spec& spec) {
  OpenedNodes out;
  for (const spec::Peer& peer : spec.peers) {
    auto p = node::open_node(context, spec, peer);
    if (!p) return std::unexpected(p.error());
    out.providers.emplace_back(peer.name, std::move(*p));
  }
  return out;
}

void ReadSlots::acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return free_ > 0; });
  --free_;
}

void ReadSlots::release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++free_;
  }
  cv_.notify_one();
}

ClusterLive read_cluster(OpenedNodes& nodes, size_t parallelism, ReadSlots* slots) {
  ClusterLive live;
  live.nodes.resize(nodes.providers.size());
  auto read_one = [&](size_t i) {
    auto& [name, provider] = nodes.providers[i];
    NodeLive& n = live.nodes[i];
    n.peer = name;
    if (slots) slots->acquire();
    struct Release {
      ReadSlots* s;
      ~Release() {
        if (s) s->release();
      }
    } release{slots};
    try {
      auto st = provider->read_state();
      if (st) {
        n.summary = node_summary(*st);
        n.fingerprint = pki::sha256_hex(n.summary.dump());
        n.state = std::move(*st);
        return;
      }
      n.error = st.error();
    } catch (const std::exception& e) {
      n.error = Error{ErrorCode::kInternal, fmt::format("{}: read state: {}", name, e.what())};
    }
    n.state.reset();
    n.summary = nullptr;
  };
  const size_t workers = std::min(std::max<size_t>(parallelism, 1), nodes.providers.size());
  if (workers <= 1) {
    for (size_t i = 0; i < nodes.providers.size(); ++i) read_one(i);
    return live;
  }
  // Each worker takes the next node not taken yet: at most `workers` reads
  // are in flight, and a slow node holds up only its own worker.
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (size_t w = 0; w < workers; ++w)
    threads.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < nodes.providers.size();) read_one(i);
    });
  for (auto& t : threads) t.join();
  return live;
}

bool is_factory_certificate(const pki::Certificate& leaf) {
  return to_lower_ascii(leaf.issuer_cn()).find("temporary") != std::string::npos;
}

bool is_factory_ca(const pki::Certificate& ca) {
  return ca.is_self_signed() && to_lower_ascii(ca.subject_cn()).starts_with("temporary ca");
}

std::string describe_factory_certificate(const pki::Certificate& leaf) {
  return fmt::format("the factory temporary certificate (issued by the factory TEMPORARY CA '{}')",
                     leaf.issuer_cn());
}

std::string describe_factory_ca(const pki::Certificate& ca) {
  return fmt::format("the factory TEMPORARY CA '{}'", ca.subject_cn());
}

nlohmann::json certificate_summary(const pki::Certificate& c) {
  auto sans = c.subject_alt_names();
  nlohmann::json j = {{"sha256", c.sha256_fingerprint()},
                      {"subject", c.subject()},
                      {"common_name", c.subject_cn()},
                      {"dns_names", sans.dns},
                      {"issuer", c.issuer()},
                      {"serial", c.serial_hex()},
                      {"not_before", format_time(c.not_before())},
                      {"not_after", format_time(c.not_after())},
                      {"key", key_text(c.key_info())},
                      {"spki_sha256", pki::spki_sha256(c)},
                      {"digest", c.signature_digest()}};
  if (is_factory_certificate(c)) j["factory"] = true;
  return j;
}

nlohmann::json node_summary(const node::NodeState& s) {
  nlohmann::json j;
  j["software_version"] = s.software_version;
  j["server_certificate"] = s.server_chain.empty() ? nlohmann::json(nullptr)
                                                   : certificate_summary(s.server_chain.front());
  j["server_chain"] = nlohmann::json::array();
  for (const auto& c : s.server_chain) j["server_chain"].push_back(c.sha256_fingerprint());
  j["staged_certificate"] = s.staged_chain.empty() ? nlohmann::json(nullptr)
                                                   : certificate_summary(s.staged_chain.front());
  if (s.pending_csr) {
    j["pending_csr"] = {{"common_name", s.pending_csr->common_name},
                        {"dns_names", s.pending_csr->dns_names},
                        {"key", key_text(s.pending_csr->key)},
                        {"spki_sha256", s.pending_csr->spki_sha256},
                        {"digest", s.pending_csr->digest},
                        {"sha256", pki::sha256_fingerprint(s.pending_csr->pem)}};
  } else {
    j["pending_csr"] = nullptr;
  }
  j["trusted_cas"] = nlohmann::json::array();
  for (const auto& c : s.trusted_cas) j["trusted_cas"].push_back(c.sha256_fingerprint());
  j["crl"] = crl_settings_json(s.crl);
  j["manual_crl_sha256"] = s.manual_crl_sha256 ? nlohmann::json(*s.manual_crl_sha256) : nullptr;
  j["revocation_checking"] = revocation_checking_json(s.revocation);
  j["tls_verification"] = spec::tls_verification_name(s.tls_verification);
  j["acme"] = acme_settings_json(s.acme);
  j["acme"]["pending_certificate"] =
      s.acme_status.pending_certificate_pem
          ? nlohmann::json(pki::sha256_fingerprint(*s.acme_status.pending_certificate_pem))
          : nlohmann::json(nullptr);
  j["restart_required"] = s.restart_required;
  // What the node shows no read-back for is "unknown", not a made-up value
  // (the operator's confirmed value replaces it: manual_steps.h). What it
  // leaves to the operator is part of its state: a saved plan's manual steps
  // go stale with it.
  if (!s.crl_settings_known) j["crl"] = "unknown";
  if (!s.manual_crl_known) j["manual_crl_sha256"] = "unknown";
  if (!s.manual_operations.empty()) {
    j["manual_operations"] = nlohmann::json::array();
    for (auto op : s.manual_operations)
      j["manual_operations"].push_back(node::manual_operation_name(op));
  }
  return j;
}

std::vector<std::string> summary_changes(const nlohmann::json& before,
                                         const nlohmann::json& after) {
  std::map<std::string, std::string> a, b;
  flatten(before, "", a);
  flatten(after, "", b);
  std::vector<std::string> out;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end())
      out.push_back(fmt::format("{}: {} -> (absent)", k, v));
    else if (it->second != v)
      out.push_back(fmt::format("{}: {} -> {}", k, v, it->second));
  }
  for (const auto& [k, v] : b)
    if (!a.count(k)) out.push_back(fmt::format("{}: (absent) -> {}", k, v));
  return out;
}

}  // namespace edgecert
