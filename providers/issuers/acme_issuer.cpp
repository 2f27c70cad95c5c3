#include "providers/issuers/acme_issuer.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "providers/acme/http01.h"
#include "providers/pki/csr.h"
#include "providers/pki/jws.h"
#include "providers/pki/spki.h"

namespace edgecert::issuer {
namespace {

// Overwrites a string that held secret bytes before it is freed.
void wipe(std::string& s) {
  std::fill(s.begin(), s.end(), '\0');
}

class AcmeIssuer final : public Issuer {
 public:
  AcmeIssuer(Env& env, spec::AcmeIssuer config, AcmeIssuerOptions options)
      : env_(env), config_(std::move(config)), options_(std::move(options)) {
    options_.client.directory_url = config_.directory;
  }

  std::string type() const override { return "acme"; }

  Result<std::vector<pki::Certificate>> ca_certificates() override {
    return std::vector<pki::Certificate>{};
  }

  Result<SignOutcome> sign(const SignRequest& request) override {
    std::lock_guard lock(mu_);
    std::string who = request.cluster.empty() && request.node.empty()
                          ? std::string()
                          : request.cluster + "/" + request.node + ": ";
    auto fail = [&](const Error& e, const std::string& step) {
      return std::unexpected(e.with_context(prefix() + who + step));
    };
    auto csr = pki::CertificateRequest::parse(request.csr_pem,
                                              request.node.empty() ? "CSR" : request.node + ".csr");
    if (!csr) return fail(csr.error(), "read CSR");
    auto names = acme::order_names(*csr);
    if (!names) return fail(names.error(), "read CSR");
    // Errors name the names, but a 100-name order need not fill the screen.
    std::string names_text =
        names->size() <= 5
            ? fmt::format("{}", fmt::join(*names, ", "))
            : fmt::format("{}, ... ({} names)", fmt::join(names->begin(), names->begin() + 3, ", "),
                          names->size());

    if (auto s = connect(true); !s) return fail(s.error(), "account");

    std::unique_ptr<acme::StandaloneHttp01> listener;
    std::unique_ptr<acme::WebrootHttp01> webroot;
    acme::Http01Responder* responder = nullptr;
    if (config_.webroot) {
      webroot = std::make_unique<acme::WebrootHttp01>(env_, *config_.webroot);
      responder = webroot.get();
    } else {
      auto l =
          acme::StandaloneHttp01::start(config_.http01_listen.value_or(acme::kDefaultHttp01Listen));
      if (!l) return fail(l.error(), "http-01");
      listener = std::move(*l);
      responder = listener.get();
    }

    auto chain = client_->issue(*names, *csr, *responder);
    if (!chain) return fail(chain.error(), "issue for " + names_text);
    auto certs = pki::Certificate::parse_all(chain->pem, "certificate chain");
    if (!certs) return fail(certs.error(), "issue for " + names_text);
    if (certs->empty() || pki::spki_sha256(certs->front()) != pki::spki_sha256(*csr))
      return fail(Error{ErrorCode::kCorrupt,
                        "the CA's certificate is not for the CSR's public key (first certificate "
                        "of the chain: '" +
                            (certs->empty() ? std::string() : certs->front().subject()) + "')"},
                  "issue for " + names_text);
    SignOutcome out;
    out.state = SignState::kIssued;
    out.chain.push_back(certs->front());
    // The contract is leaf + intermediates: a CA that appends its root would
    // make nodes send a certificate peers must already hold.
    for (size_t i = 1; i < certs->size(); ++i)
      if (!(*certs)[i].is_self_signed()) out.chain.push_back((*certs)[i]);
    return out;
  }

  Status revoke(const pki::Certificate& certificate, RevocationReason reason) override {
    std::lock_guard lock(mu_);
    std::string what =
        fmt::format("revoke serial {} ('{}')", certificate.serial_hex(), certificate.subject_cn());
    if (auto s = connect(false); !s)
      return std::unexpected(s.error().with_context(prefix() + what));
    auto r = client_->revoke(certificate, reason);
    // Already revoked is the state asked for: a rerun after a crash between
    // the CA's answer and the journal must not fail.
    if (!r && r.error().code != ErrorCode::kAlreadyExists)
      return std::unexpected(r.error().with_context(prefix() + what));
    return {};
  }

 private:
  std::string prefix() const { return "acme issuer " + config_.directory + ": "; }

  std::string key_path() const {
    if (!options_.account_key_path.empty()) return options_.account_key_path;
    return acme_account_key_path(options_.state_dir, config_.directory);
  }

  // Opens the connection and the account once per issuer. `create`: make the
  // account when the key has none (sign); revoke only ever uses an existing one.
  Status connect(bool create) {
    if (!client_) {
      Result<std::unique_ptr<http::Transport>> t;
      if (options_.make_transport) {
        t = options_.make_transport();
      } else {
        http::ClientOptions co = acme::acme_client_options();
        co.ca_bundle = config_.ca_bundle;
        t = http::make_curl_transport(std::move(co), env_);
      }
      if (!t) return std::unexpected(t.error());
      std::string path = key_path();
      auto key = acme::load_or_create_account_key(env_, path);
      if (!key) return std::unexpected(key.error().with_context("account key " + path));
      transport_ = std::move(*t);
      client_ =
          std::make_unique<acme::AcmeClient>(env_, *transport_, options_.client, std::move(*key));
    }
    if (!client_->account_url().empty()) return {};
    auto found = client_->find_account();
    if (found) return {};
    if (found.error().code != ErrorCode::kNotFound || !create)
      return std::unexpected(found.error().with_context("find account of key " + key_path()));

    acme::NewAccountOptions na;
    if (!config_.email.empty()) na.contact_emails.push_back(config_.email);
    na.terms_of_service_agreed = true;
    std::optional<acme::ExternalAccountBinding> eab;
    if (config_.eab) {
      auto hmac = resolve_eab_hmac(env_, config_.eab->hmac_from);
      if (!hmac) return std::unexpected(hmac.error());
      eab = acme::ExternalAccountBinding{config_.eab->key_id, std::move(*hmac)};
      na.eab = &*eab;
    }
    auto created = client_->new_account(na);
    if (!created) {
      std::string hint;
      if (created.error().message.find("external account binding") != std::string::npos &&
          !config_.eab)
        hint = " (set issuer.eab.keyId and issuer.eab.hmacFrom to the CA's EAB credentials)";
      return std::unexpected(
          Error{created.error().code, "create account: " + created.error().message + hint});
    }
    return {};
  }

  // One order at a time: the client (its account, nonce pool and keep-alive
  // connection) is shared, and a standalone http-01 listener owns its port
  // for the whole order.
  std::mutex mu_;
  Env& env_;
  spec::AcmeIssuer config_;
  AcmeIssuerOptions options_;
  std::unique_ptr<http::Transport> transport_;
  std::unique_ptr<acme::AcmeClient> client_;
};

}  // namespace

std::string acme_account_key_path(const std::string& state_dir, const std::string& directory_url) {
  std::string id = pki::sha256_hex(directory_url).substr(0, 16);
  return path_join(path_join(path_join(state_dir, "acme"), id), "account.key");
}

Result<pki::SecretString> resolve_eab_hmac(Env& env, const std::string& reference) {
  std::string text;
  if (reference.rfind("env:", 0) == 0) {
    std::string var = reference.substr(4);
    auto v = env.get_env(var);
    if (!v)
      return make_error(
          ErrorCode::kNotFound,
          fmt::format("eab.hmacFrom {}: environment variable {} is not set", reference, var));
    text = std::move(*v);
  } else if (reference.rfind("file:", 0) == 0) {
    auto data = env.read_file(reference.substr(5), read_limits::kSecret);
    if (!data)
      return make_error(data.error().code,
                        fmt::format("eab.hmacFrom {}: {}", reference, data.error().message));
    text = std::move(*data);
  } else {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("eab.hmacFrom {}: expected env:VAR or file:PATH", reference));
  }
  // CAs hand the key out as text that may end in a newline or padding.
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '='))
    text.pop_back();
  auto raw = pki::base64url_decode(text);
  wipe(text);
  if (!raw || raw->empty()) {
    if (raw) wipe(*raw);
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("eab.hmacFrom {}: not a base64url-encoded key", reference));
  }
  pki::SecretString key(*raw);
  wipe(*raw);
  return key;
}

std::unique_ptr<Issuer> make_acme_issuer(Env& env, spec::AcmeIssuer config,
                                         AcmeIssuerOptions options) {
  return std::make_unique<AcmeIssuer>(env, std::move(config), std::move(options));
}

}  // namespace edgecert::issuer
