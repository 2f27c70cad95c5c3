#include "providers/node/node.h"

#include <algorithm>
#include <map>
#include <mutex>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/registry.h"
#include "providers/pki/csr.h"
#include "providers/pki/spki.h"

namespace edgecert::node {
namespace {

Registry<NodeProviderFactory>& registry() {
  static Registry<NodeProviderFactory> r;
  return r;
}

}  // namespace

Result<PendingCsr> pending_csr_from_pem(std::string_view pem) {
  auto req = pki::CertificateRequest::parse(pem, "pending CSR");
  if (!req) return std::unexpected(req.error());
  PendingCsr p;
  p.pem = req->to_pem();
  p.common_name = req->subject_cn();
  p.subject = pki::subject_fields_of(req->subject_attributes());
  p.dns_names = req->subject_alt_names().dns;
  p.key = req->key_info();
  p.spki_sha256 = pki::spki_sha256(*req);
  p.digest = req->signature_digest();
  return p;
}

Result<pki::SecretString> resolve_password_from(Env& env, const std::string& reference) {
  if (reference.rfind("env:", 0) == 0) {
    std::string var = reference.substr(4);
    std::optional<std::string> v = env.get_env(var);
    if (!v) {
      return make_error(
          ErrorCode::kNotFound,
          fmt::format("passwordFrom {}: environment variable {} is not set", reference, var));
    }
    pki::SecretString s(*v);
    // Overwrite the copy we were handed before it goes away.
    std::fill(v->begin(), v->end(), '\0');
    return s;
  }
  if (reference.rfind("file:", 0) == 0) {
    std::string path = reference.substr(5);
    Result<std::string> data = env.read_file(path, read_limits::kSecret);
    if (!data) {
      return make_error(data.error().code,
                        fmt::format("passwordFrom {}: {}", reference, data.error().message));
    }
    std::string& d = *data;
    if (!d.empty() && d.back() == '\n') d.pop_back();
    if (!d.empty() && d.back() == '\r') d.pop_back();
    pki::SecretString s(d);
    std::fill(d.begin(), d.end(), '\0');
    return s;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("passwordFrom {}: expected env:VAR or file:PATH", reference));
}

std::string effective_sim_dir(const NodeOpenContext& context, const spec::Spec& spec) {
  if (!context.sim_dir.empty()) return context.sim_dir;
  if (std::optional<std::string> v = context.env.get_env("EDGECERT_SIM_DIR"); v && !v->empty())
    return *v;
  // Next to the spec, like the run state: every run of one cluster, from
  // whatever folder, meets the same simulated nodes.
  const std::string& base = context.local_dir.empty() ? spec.directory : context.local_dir;
  return path_join(path_join(base, ".edgecert/sim"),
                   spec.name.empty() ? std::string("default") : spec.name);
}

void register_node_provider(const std::string& scheme, NodeProviderFactory factory) {
  registry().add(scheme, std::move(factory));
}

std::vector<std::string> registered_node_schemes() {
  return registry().names();
}

Result<std::unique_ptr<NodeProvider>> open_node(const NodeOpenContext& context,
                                                const spec::Spec& spec, const spec::Peer& peer) {
  auto pos = peer.endpoint.find("://");
  std::string scheme = pos == std::string::npos ? std::string() : peer.endpoint.substr(0, pos);
  std::optional<NodeProviderFactory> factory = registry().find(scheme);
  if (!factory) {
    std::vector<std::string> known = registry().names();
    for (std::string& k : known) k += "://";
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format(
            "{}: open: endpoint '{}' has {}; known schemes: {}", peer.name, peer.endpoint,
            scheme.empty() ? std::string("no scheme") : fmt::format("unknown scheme '{}'", scheme),
            known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", "))));
  }
  return (*factory)(context, spec, peer);
}

const char* product_name(Product p) {
  switch (p) {
    case Product::kExpresswayC:
      return "Expressway-C";
    case Product::kExpresswayE:
      return "Expressway-E";
    case Product::kUnknown:
      break;
  }
  return "unknown";
}

const char* manual_operation_name(ManualOperation op) {
  switch (op) {
    case ManualOperation::kDiscardCsr:
      return "discard-csr";
    case ManualOperation::kDeleteTrustedCa:
      return "delete-trusted-ca";
    case ManualOperation::kResetTrustedCas:
      return "reset-trusted-cas";
    case ManualOperation::kSetCrlSettings:
      return "set-crl-settings";
    case ManualOperation::kUploadManualCrl:
      return "upload-manual-crl";
    case ManualOperation::kRemoveManualCrl:
      return "remove-manual-crl";
    case ManualOperation::kSetTlsVerification:
      return "set-tls-verification";
    case ManualOperation::kAcmeRevoke:
      return "acme-revoke";
  }
  return "unknown";
}

}  // namespace edgecert::node
