// `edgecert ca init DIR`: create a local CA for the openssl-ca issuer.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "providers/base/time.h"
#include "providers/issuers/openssl_ca.h"
#include "providers/pki/certificate.h"
#include "reconciler/cli/cli.h"

namespace edgecert {

std::function<int()> setup_ca(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::string dir;
    std::string cn = "edgecert local CA";
    std::string key = "rsa:4096";
    int days = 3650;
    std::string country, organization;
    bool if_missing = false;
  };
  auto o = std::make_shared<Opts>();
  app.require_subcommand(1);
  CLI::App* init = app.add_subcommand("init", "Create a CA directory for the openssl-ca issuer");
  init->add_option("DIR", o->dir, "CA directory (created if missing)")->required();
  init->add_option("--cn", o->cn, "Common name of the CA certificate");
  init->add_option("--key", o->key, "Key: rsa:2048, rsa:4096, ecdsa:256, ecdsa:384, ecdsa:521")
      ->check(CLI::IsMember({"rsa:2048", "rsa:4096", "ecdsa:256", "ecdsa:384", "ecdsa:521"}));
  init->add_option("--days", o->days, "Validity of the CA certificate in days")
      ->check(CLI::Range(1, 8000));
  init->add_option("--country", o->country, "Subject C (two letters)");
  init->add_option("--organization", o->organization, "Subject O");
  init->add_flag("--if-missing", o->if_missing,
                 "Succeed without change when DIR already holds a CA");

  return [o, init, &ctx]() -> int {
    if (!init->parsed()) return kExitError;
    if (o->if_missing && issuer::openssl_ca_exists(ctx.env, o->dir)) {
      ctx.out << fmt::format("CA already present in {}; nothing to do\n", o->dir);
      return kExitOk;
    }
    issuer::CaInitOptions opts;
    opts.common_name = o->cn;
    opts.subject.country = o->country;
    opts.subject.organization = o->organization;
    opts.algorithm =
        o->key.rfind("rsa", 0) == 0 ? spec::KeyAlgorithm::kRsa : spec::KeyAlgorithm::kEcdsa;
    opts.key_size = std::stoi(o->key.substr(o->key.find(':') + 1));
    opts.validity = std::chrono::days(o->days);
    if (auto st = issuer::init_openssl_ca(ctx.env, o->dir, opts); !st) {
      ctx.err << "edgecert: error: ca init: " << st.error().message << "\n";
      return kExitError;
    }
    auto certs =
        pki::load_certificates(ctx.env, path_join(o->dir, "cacert.pem"), read_limits::kCertificate);
    ctx.out << fmt::format("Created CA in {}\n", o->dir);
    if (certs && !certs->empty()) {
      ctx.out << fmt::format("  subject:     {}\n  expires:     {}\n  sha256:      {}\n",
                             certs->front().subject(), format_date(certs->front().not_after()),
                             certs->front().sha256_fingerprint());
    }
    ctx.out << fmt::format("  private key: {} (mode 0600; keep it safe)\n",
                           path_join(o->dir, "private/cakey.pem"));
    return kExitOk;
  };
}

}  // namespace edgecert
