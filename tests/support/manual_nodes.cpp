#include "tests/support/manual_nodes.h"

#include <algorithm>

#include <fmt/core.h>

#include "providers/sim/sim_provider.h"

namespace edgecert::testing {
namespace {

using node::ManualOperation;

class ManualNodeProvider final : public node::NodeProvider {
 public:
  ManualNodeProvider(std::unique_ptr<node::NodeProvider> inner,
                     std::shared_ptr<ManualNodes::State> state)
      : inner_(std::move(inner)), state_(std::move(state)) {}

  const std::string& name() const override { return inner_->name(); }

  Result<node::NodeState> read_state() override {
    auto st = inner_->read_state();
    if (!st) return st;
    const ManualNodeConfig& c = config();
    st->manual_operations = c.manual;
    if (c.crl_unknown) {
      st->crl_settings_known = false;
      st->manual_crl_known = false;
      st->crl = {};
      st->manual_crl_sha256.reset();
    }
    if (c.product) st->product = *c.product;
    if (c.software_version) st->software_version = *c.software_version;
    if (c.cluster_peers) st->cluster_peers = *c.cluster_peers;
    return st;
  }
  Result<std::string> generate_csr(const node::CsrRequest& r) override {
    return inner_->generate_csr(r);
  }
  Status discard_csr() override {
    if (auto e =
            manual(ManualOperation::kDiscardCsr, "Maintenance > Security > Server certificate"))
      return std::unexpected(*e);
    return inner_->discard_csr();
  }
  Result<node::UploadResult> upload_server_certificate(const node::CertificateUpload& u) override {
    return inner_->upload_server_certificate(u);
  }
  Result<node::AppendCasResult> append_trusted_cas(std::string_view pem) override {
    return inner_->append_trusted_cas(pem);
  }
  Status delete_trusted_ca(const std::string& sha256) override {
    if (auto e = manual(ManualOperation::kDeleteTrustedCa,
                        "Maintenance > Security > Trusted CA certificate"))
      return std::unexpected(*e);
    return inner_->delete_trusted_ca(sha256);
  }
  Status reset_trusted_cas() override {
    if (auto e = manual(ManualOperation::kResetTrustedCas,
                        "Maintenance > Security > Trusted CA certificate"))
      return std::unexpected(*e);
    return inner_->reset_trusted_cas();
  }
  Status set_crl_settings(const node::CrlSettings& s) override {
    if (auto e =
            manual(ManualOperation::kSetCrlSettings, "Maintenance > Security > CRL management"))
      return std::unexpected(*e);
    return inner_->set_crl_settings(s);
  }
  Status upload_manual_crl(std::string_view data) override {
    if (auto e =
            manual(ManualOperation::kUploadManualCrl, "Maintenance > Security > CRL management"))
      return std::unexpected(*e);
    return inner_->upload_manual_crl(data);
  }
  Status remove_manual_crl() override {
    if (auto e =
            manual(ManualOperation::kRemoveManualCrl, "Maintenance > Security > CRL management"))
      return std::unexpected(*e);
    return inner_->remove_manual_crl();
  }
  Status set_revocation_checking(const spec::RevocationChecking& s) override {
    return inner_->set_revocation_checking(s);
  }
  Status set_tls_verification(spec::TlsVerification mode) override {
    if (auto e = manual(ManualOperation::kSetTlsVerification, "System > Clustering"))
      return std::unexpected(*e);
    return inner_->set_tls_verification(mode);
  }
  Result<node::AcmeSettings> acme_settings() override { return inner_->acme_settings(); }
  Status set_acme_settings(const node::AcmeSettings& s) override {
    return inner_->set_acme_settings(s);
  }
  Status acme_sign() override { return inner_->acme_sign(); }
  Status acme_deploy() override { return inner_->acme_deploy(); }
  Status acme_discard_pending() override { return inner_->acme_discard_pending(); }
  Status acme_revoke(std::string_view pem, pki::RevocationReason reason) override {
    if (auto e = manual(ManualOperation::kAcmeRevoke, "the node's SSH command line"))
      return std::unexpected(*e);
    return inner_->acme_revoke(pem, reason);
  }
  Status restart() override { return inner_->restart(); }
  Status wait_until_up(std::chrono::seconds timeout) override {
    return inner_->wait_until_up(timeout);
  }
  Result<std::vector<pki::Certificate>> served_chain() override { return inner_->served_chain(); }

 private:
  const ManualNodeConfig& config() { return state_->configs[inner_->name()]; }

  // The error a real node's provider gives for an operation without an API.
  std::optional<Error> manual(ManualOperation op, const char* page) {
    const auto& ops = config().manual;
    if (std::find(ops.begin(), ops.end(), op) == ops.end()) return std::nullopt;
    state_->calls.push_back(fmt::format("{}: {}", name(), node::manual_operation_name(op)));
    return Error::Unimplemented(fmt::format("{}: {}: the node has no API for it; web UI: {}",
                                            name(), node::manual_operation_name(op), page));
  }

  std::unique_ptr<node::NodeProvider> inner_;
  std::shared_ptr<ManualNodes::State> state_;
};

}  // namespace

ManualNodeConfig real_expressway() {
  ManualNodeConfig c;
  c.manual = {ManualOperation::kDiscardCsr,         ManualOperation::kDeleteTrustedCa,
              ManualOperation::kResetTrustedCas,    ManualOperation::kSetCrlSettings,
              ManualOperation::kUploadManualCrl,    ManualOperation::kRemoveManualCrl,
              ManualOperation::kSetTlsVerification, ManualOperation::kAcmeRevoke};
  c.crl_unknown = true;
  return c;
}

ManualNodes::ManualNodes(std::map<std::string, ManualNodeConfig> configs)
    : state_(std::make_shared<State>()) {
  state_->configs = std::move(configs);
  auto state = state_;
  node::register_node_provider(
      "sim",
      [state](const node::NodeOpenContext& ctx, const spec::Spec& spec,
              const spec::Peer& peer) -> Result<std::unique_ptr<node::NodeProvider>> {
        auto inner = sim::make_sim_node_provider(ctx, spec, peer);
        if (!inner || !state->configs.count(peer.name)) return inner;
        return std::unique_ptr<node::NodeProvider>(
            std::make_unique<ManualNodeProvider>(std::move(*inner), state));
      });
}

ManualNodes::~ManualNodes() {
  node::register_node_provider("sim", sim::make_sim_node_provider);
}

}  // namespace edgecert::testing
