#include "providers/sim/sim_provider.h"

#include <algorithm>

#include <fmt/core.h>

namespace edgecert::sim {
namespace {

// Adapts SimNode to NodeProvider: adds the "node: action: " context and the
// client-side behaviour (waiting for a restart to finish).
class SimNodeProvider final : public node::NodeProvider {
 public:
  SimNodeProvider(std::string peer_name, SimNode sim, Env& env)
      : peer_name_(std::move(peer_name)), sim_(std::move(sim)), env_(env) {}

  const std::string& name() const override { return peer_name_; }

  Result<node::NodeState> read_state() override { return wrap(sim_.read_state(), "read state"); }
  Result<std::string> generate_csr(const node::CsrRequest& request) override {
    return wrap(sim_.generate_csr(request), "generate CSR");
  }
  Status discard_csr() override { return wrap(sim_.discard_csr(), "discard CSR"); }
  Result<node::UploadResult> upload_server_certificate(
      const node::CertificateUpload& upload) override {
    return wrap(sim_.upload_server_certificate(upload), "upload server certificate");
  }
  Result<node::AppendCasResult> append_trusted_cas(std::string_view pem_bundle) override {
    return wrap(sim_.append_trusted_cas(pem_bundle), "append trusted CA certificates");
  }
  Status delete_trusted_ca(const std::string& sha256) override {
    return wrap(sim_.delete_trusted_ca(sha256), "delete trusted CA certificate");
  }
  Status reset_trusted_cas() override {
    return wrap(sim_.reset_trusted_cas(), "reset trusted CA list");
  }
  Status set_crl_settings(const node::CrlSettings& settings) override {
    return wrap(sim_.set_crl_settings(settings), "set CRL settings");
  }
  Status upload_manual_crl(std::string_view data) override {
    return wrap(sim_.upload_manual_crl(data), "upload manual CRL");
  }
  Status remove_manual_crl() override {
    return wrap(sim_.remove_manual_crl(), "remove manual CRL");
  }
  Status set_revocation_checking(const spec::RevocationChecking& settings) override {
    return wrap(sim_.set_revocation_checking(settings), "set revocation checking");
  }
  Status set_tls_verification(spec::TlsVerification mode) override {
    return wrap(sim_.set_tls_verification(mode), "set TLS verification mode");
  }
  Result<node::AcmeSettings> acme_settings() override {
    return wrap(sim_.acme_settings(), "read ACME settings");
  }
  Status set_acme_settings(const node::AcmeSettings& settings) override {
    return wrap(sim_.set_acme_settings(settings), "set ACME settings");
  }
  Status acme_sign() override { return wrap(sim_.acme_sign(), "ACME sign"); }
  Status acme_deploy() override { return wrap(sim_.acme_deploy(), "ACME deploy"); }
  Status acme_discard_pending() override {
    return wrap(sim_.acme_discard_pending(), "ACME discard pending certificate");
  }
  using node::NodeProvider::acme_revoke;
  Status acme_revoke(std::string_view certificate_pem, pki::RevocationReason reason) override {
    return wrap(sim_.acme_revoke(certificate_pem, reason), "ACME revoke");
  }
  Status restart() override { return wrap(sim_.restart(), "restart"); }

  Status wait_until_up(std::chrono::seconds timeout) override {
    // Poll once a second, like a health gate against a real node would.
    const TimePoint deadline = env_.now() + timeout;
    Error last{ErrorCode::kUnavailable, "no answer"};
    for (;;) {
      auto v = sim_.ping();
      if (v) return {};
      last = v.error();
      if (last.code != ErrorCode::kUnavailable)
        return std::unexpected(node_err("wait until up", last));
      if (env_.now() >= deadline) break;
      env_.sleep_for(std::chrono::seconds(1));
    }
    return node_err("wait until up",
                    Error::Unavailable(fmt::format("no answer within {} s (last: {})",
                                                   timeout.count(), last.message)));
  }

  Result<std::vector<pki::Certificate>> served_chain() override {
    return wrap(sim_.served_chain(), "TLS handshake");
  }

 private:
  Error node_err(const char* action, const Error& e) const {
    return node::node_error(peer_name_, action, e);
  }
  template <class T>
  Result<T> wrap(Result<T> r, const char* action) const {
    if (!r) return std::unexpected(node_err(action, r.error()));
    return r;
  }
  Status wrap(Status s, const char* action) const {
    if (!s) return std::unexpected(node_err(action, s.error()));
    return s;
  }

  std::string peer_name_;
  SimNode sim_;
  Env& env_;
};

}  // namespace

Result<std::string> sim_node_name(const std::string& endpoint) {
  const std::string prefix = "sim://";
  if (endpoint.rfind(prefix, 0) != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("'{}' is not a sim:// endpoint", endpoint));
  }
  std::string name = endpoint.substr(prefix.size());
  bool ok = !name.empty() && name.size() <= 63 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!ok) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("'{}': the NAME of sim://NAME must be 1-63 characters of a-z, "
                                  "0-9 and '-'",
                                  endpoint));
  }
  return name;
}

Result<SimNode> sim_node_for(const node::NodeOpenContext& context, const spec::Spec& spec,
                             const spec::Peer& peer) {
  auto name = sim_node_name(peer.endpoint);
  if (!name) return std::unexpected(name.error().with_context(peer.name + ": open"));
  return SimNode(context.appliance_env ? *context.appliance_env : context.env,
                 node::effective_sim_dir(context, spec), *name, peer.fqdn);
}

Result<std::unique_ptr<node::NodeProvider>> make_sim_node_provider(
    const node::NodeOpenContext& context, const spec::Spec& spec, const spec::Peer& peer) {
  auto sim = sim_node_for(context, spec, peer);
  if (!sim) return std::unexpected(sim.error());
  return std::unique_ptr<node::NodeProvider>(
      std::make_unique<SimNodeProvider>(peer.name, std::move(*sim), context.env));
}

}  // namespace edgecert::sim
