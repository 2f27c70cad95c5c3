#include "providers/sim/sim_acme.h"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>

#include "providers/acme/http01.h"

namespace edgecert::sim {
namespace {

// "none": the ACME server skips validation, so nothing needs serving.
class NoHttp01 final : public acme::Http01Responder {
 public:
  Status present(const std::string&, const std::string&, const std::string&) override { return {}; }
  Status cleanup(const std::string&, const std::string&) override { return {}; }
};

}  // namespace

std::optional<std::string> http01_listen_problem(const std::string& listen) {
  if (listen == kHttp01None) return std::nullopt;
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return fmt::format("'{}' is not HOST:PORT (or \"{}\")", listen, kHttp01None);
  std::string port = listen.substr(colon + 1);
  bool digits = !port.empty() && port.size() <= 5 &&
                std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535)
    return fmt::format("'{}': the port must be 1-65535", listen);
  return std::nullopt;
}

Result<std::unique_ptr<http::Transport>> make_trusted_list_transport(
    const std::vector<std::string>& trusted_ca_pems) {
  std::string bundle;
  for (const std::string& pem : trusted_ca_pems) {
    bundle += pem;
    if (!bundle.empty() && bundle.back() != '\n') bundle += '\n';
  }
  http::ClientOptions o = acme::acme_client_options();
  o.ca_pem = std::move(bundle);  // only the node's list: no system store
  o.tls_failure_hint =
      "the ACME provider's certificate does not verify against the node's trusted CA list";
  o.user_agent = "edgecert-sim-expressway-acme";
  // ca_pem only: the Env is never asked for a file.
  return http::make_curl_transport(std::move(o), default_env());
}

Result<std::unique_ptr<NodeAcmeClient>> NodeAcmeClient::open(
    Env& env, const std::string& directory_url, const std::vector<std::string>& trusted_ca_pems,
    pki::PrivateKey account_key) {
  auto t = make_trusted_list_transport(trusted_ca_pems);
  if (!t) return std::unexpected(t.error());
  std::unique_ptr<NodeAcmeClient> c(new NodeAcmeClient());
  c->transport_ = std::move(*t);
  acme::AcmeClientOptions o;
  o.directory_url = directory_url;
  o.poll_timeout = std::chrono::seconds(60);
  c->client_ = std::make_unique<acme::AcmeClient>(env, *c->transport_, o, std::move(account_key));
  return c;
}

Result<std::string> NodeAcmeClient::ensure_account(const std::string& known_url,
                                                   const std::string& email) {
  if (!known_url.empty()) {
    client_->set_account_url(known_url);
    return known_url;
  }
  acme::NewAccountOptions o;
  o.contact_emails = {email};
  o.terms_of_service_agreed = true;
  auto a = client_->new_account(o);
  if (!a) return std::unexpected(a.error().with_context("register the ACME account"));
  return a->url;
}

Result<std::string> NodeAcmeClient::sign(const pki::CertificateRequest& csr,
                                         const std::string& http01_listen) {
  std::unique_ptr<acme::Http01Responder> responder;
  if (http01_listen == kHttp01None) {
    responder = std::make_unique<NoHttp01>();
  } else {
    auto l = acme::StandaloneHttp01::start(http01_listen);
    if (!l) {
      return std::unexpected(l.error().with_context(
          fmt::format("the node cannot serve http-01 challenges on {}", http01_listen)));
    }
    responder = std::move(*l);
  }
  // The listener lives exactly as long as this sign (destroyed on return).
  auto names = acme::order_names(csr);
  if (!names) return std::unexpected(names.error());
  auto chain = client_->issue(*names, csr, *responder);
  if (!chain) return std::unexpected(chain.error());
  return chain->pem;
}

Status NodeAcmeClient::revoke(const pki::Certificate& cert, pki::RevocationReason reason) {
  // acme::RevocationReason has the same RFC 5280 codes as its values.
  return client_->revoke(cert, static_cast<acme::RevocationReason>(static_cast<int>(reason)));
}

}  // namespace edgecert::sim
