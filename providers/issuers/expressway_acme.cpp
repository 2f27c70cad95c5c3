#include "providers/issuers/expressway_acme.h"

#include <fmt/core.h>

namespace edgecert::issuer {
namespace {

class ExpresswayAcmeIssuer final : public Issuer {
 public:
  explicit ExpresswayAcmeIssuer(std::string provider) : provider_(std::move(provider)) {}

  std::string type() const override { return "expressway-acme"; }

  // The ACME CA's chain is known only once it signs; operators list its
  // roots in spec.trustedCAs (the guide's prerequisite for ACME on E).
  Result<std::vector<pki::Certificate>> ca_certificates() override {
    return std::vector<pki::Certificate>{};
  }

  Result<SignOutcome> sign(const SignRequest& request) override {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("expressway-acme: {} signs its own CSR through its ACME service "
                                  "(provider '{}'); edgecert does not sign for it",
                                  request.node, provider_));
  }

  Status revoke(const pki::Certificate& certificate, RevocationReason) override {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("expressway-acme: serial {} is revoked through the node that "
                                  "holds the ACME account ('edgecert revoke SPEC --node NODE')",
                                  certificate.serial_hex()));
  }

 private:
  std::string provider_;
};

}  // namespace

std::unique_ptr<Issuer> make_expressway_acme_issuer(std::string provider) {
  return std::make_unique<ExpresswayAcmeIssuer>(std::move(provider));
}

}  // namespace edgecert::issuer
