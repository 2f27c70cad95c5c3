#include "providers/issuers/external.h"

#include <fmt/core.h>

#include "providers/pki/csr.h"
#include "providers/pki/spki.h"

namespace edgecert::issuer {
namespace {

class ExternalIssuer final : public Issuer {
 public:
  ExternalIssuer(Env& env, std::string requests_dir, std::string certificates_dir)
      : env_(env),
        requests_dir_(std::move(requests_dir)),
        certificates_dir_(std::move(certificates_dir)) {}

  std::string type() const override { return "external"; }

  Result<std::vector<pki::Certificate>> ca_certificates() override {
    return std::vector<pki::Certificate>{};
  }

  Result<SignOutcome> sign(const SignRequest& request) override {
    auto csr = pki::CertificateRequest::parse(request.csr_pem, request.node + ".csr");
    if (!csr) return std::unexpected(csr.error());
    const std::string req_path =
        external_request_path(requests_dir_, request.cluster, request.node);
    const std::string cert_path =
        external_certificate_path(certificates_dir_, request.cluster, request.node);
    const std::string want = pki::spki_sha256(*csr);

    // Write the request only when it changed, so its mtime tells the operator
    // when edgecert last asked.
    auto existing = env_.read_file(req_path, read_limits::kCsr);
    if (!existing || *existing != csr->to_pem()) {
      if (auto st = env_.create_dirs(path_dirname(req_path), 0755); !st)
        return std::unexpected(st.error());
      if (auto st = env_.write_file_atomic(req_path, csr->to_pem(), 0644); !st)
        return std::unexpected(st.error());
    }

    SignOutcome out;
    out.state = SignState::kWaiting;
    if (!env_.exists(cert_path)) {
      out.message = fmt::format(
          "waiting for signed certificate: submit {} to your CA and place the signed certificate "
          "(PEM or DER) at {}, then run apply again",
          req_path, cert_path);
      return out;
    }
    auto certs = pki::load_certificates(env_, cert_path, read_limits::kCertificate);
    if (!certs) return std::unexpected(certs.error());
    std::optional<size_t> leaf;
    for (size_t i = 0; i < certs->size(); ++i)
      if (pki::spki_sha256((*certs)[i]) == want) leaf = i;
    if (!leaf) {
      out.message = fmt::format(
          "waiting for signed certificate: {} holds no certificate for the current request {} "
          "(left from an earlier request?); replace it with the certificate signed for {}",
          cert_path, req_path, req_path);
      return out;
    }
    out.state = SignState::kIssued;
    out.chain.push_back((*certs)[*leaf]);
    for (size_t i = 0; i < certs->size(); ++i)
      if (i != *leaf && !(*certs)[i].is_self_signed()) out.chain.push_back((*certs)[i]);
    return out;
  }

  Status revoke(const pki::Certificate& certificate, RevocationReason reason) override {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("the external issuer cannot revoke certificates: ask your CA to revoke serial "
                    "{} (issuer {}) with reason {}",
                    certificate.serial_hex(), certificate.issuer(),
                    revocation_reason_name(reason)));
  }

 private:
  Env& env_;
  std::string requests_dir_;
  std::string certificates_dir_;
};

}  // namespace

std::string external_request_path(const std::string& requests_dir, const std::string& cluster,
                                  const std::string& node) {
  return path_join(path_join(requests_dir, cluster), node + ".csr");
}

std::string external_certificate_path(const std::string& certificates_dir,
                                      const std::string& cluster, const std::string& node) {
  return path_join(path_join(certificates_dir, cluster), node + ".pem");
}

std::unique_ptr<Issuer> make_external_issuer(Env& env, std::string requests_dir,
                                             std::string certificates_dir) {
  return std::make_unique<ExternalIssuer>(env, std::move(requests_dir),
                                          std::move(certificates_dir));
}

}  // namespace edgecert::issuer
