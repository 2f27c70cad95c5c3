// `edgecert acme issue`: the ACME client on its own, for operators testing an
// ACME server and for bench/acme. The key is generated here (P-256), the
// certificate comes through the same `acme` issuer apply uses.
#include <chrono>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include "providers/acme/http01.h"
#include "providers/base/fqdn.h"
#include "providers/base/time.h"
#include "providers/issuers/acme_issuer.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "reconciler/cli/cli.h"

namespace edgecert {
namespace {

// $XDG_STATE_HOME/edgecert/acme/account.key, else
// ~/.local/state/edgecert/acme/account.key (XDG base directory defaults).
std::optional<std::string> default_account_key(Env& env) {
  if (auto x = env.get_env("XDG_STATE_HOME"); x && path_is_absolute(*x))
    return path_join(*x, "edgecert/acme/account.key");
  if (auto h = env.get_env("HOME"); h && !h->empty())
    return path_join(*h, ".local/state/edgecert/acme/account.key");
  return std::nullopt;
}

// Names as ACME identifiers: lower-case host names. Single labels
// ("localhost", intranet names) are allowed: a private ACME CA may issue for
// them even though Expressway specs never use them.
std::optional<std::string> name_problem(const std::string& name) {
  FqdnProblem p = check_fqdn(name);
  if (p == FqdnProblem::kOk || p == FqdnProblem::kSingleLabel ||
      p == FqdnProblem::kLastLabelNotLetter)
    return std::nullopt;
  if (p == FqdnProblem::kWildcard)
    return fmt::format("'{}': http-01 cannot prove wildcard names", name);
  return describe_fqdn_problem(name, p);
}

}  // namespace

std::function<int()> setup_acme(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::string directory, email, ca_bundle, account_key, http01_listen, webroot;
    std::string eab_kid, eab_hmac_from, key_out, cert_out;
    std::vector<std::string> names;
  };
  auto o = std::make_shared<Opts>();
  app.require_subcommand(1);
  CLI::App* issue = app.add_subcommand(
      "issue",
      "Issue one certificate for NAME... through an ACME directory, proving control with "
      "http-01 (creating the account agrees to the CA's terms of service)");
  issue->add_option("--directory", o->directory, "ACME directory URL")->required();
  issue->add_option("--email", o->email, "Contact e-mail of the ACME account")->required();
  issue->add_option("--ca-bundle", o->ca_bundle,
                    "PEM file of CAs that verify the ACME server's TLS (default: system store)");
  issue->add_option("--account-key", o->account_key,
                    "Account key file, created (P-256, mode 0600) when missing (default: "
                    "$XDG_STATE_HOME/edgecert/acme/account.key or "
                    "~/.local/state/edgecert/acme/account.key)");
  auto* listen = issue->add_option(
      "--http01-listen", o->http01_listen,
      "Answer http-01 challenges on HOST:PORT while issuing (default 0.0.0.0:80)");
  issue
      ->add_option("--webroot", o->webroot,
                   "Write http-01 challenge files below DIR/.well-known/acme-challenge/ for a "
                   "web server that already serves DIR")
      ->excludes(listen);
  auto* kid = issue->add_option("--eab-kid", o->eab_kid, "External account binding key id");
  auto* hmac = issue->add_option("--eab-hmac-from", o->eab_hmac_from,
                                 "Where the EAB HMAC key (base64url) is: env:VAR or file:PATH");
  kid->needs(hmac);
  hmac->needs(kid);
  issue->add_option(
      "--key-out", o->key_out,
      "Where the new private key goes (mode 0600, never overwritten; default NAME.key, NAME = the "
      "first name)");
  issue->add_option("--cert-out", o->cert_out,
                    "Where the certificate chain PEM goes (leaf first; default NAME.crt)");
  issue->add_option("NAME", o->names, "DNS names; the first is also the CN")->required();

  return [o, issue, &ctx]() -> int {
    if (!issue->parsed()) return kExitError;
    auto fail = [&](const std::string& message) {
      ctx.err << "edgecert: error: acme issue: " << message << "\n";
      return kExitError;
    };
    auto started = std::chrono::steady_clock::now();

    std::vector<std::string> names;
    for (const auto& n : o->names) {
      std::string l = to_lower_ascii(n);
      if (auto p = name_problem(l)) return fail(*p);
      if (std::find(names.begin(), names.end(), l) == names.end()) names.push_back(l);
    }
    if (o->eab_hmac_from.rfind("env:", 0) != 0 && o->eab_hmac_from.rfind("file:", 0) != 0 &&
        !o->eab_hmac_from.empty())
      return fail("--eab-hmac-from: expected env:VAR or file:PATH (never the key itself)");

    std::string account_key = o->account_key;
    if (account_key.empty()) {
      auto d = default_account_key(ctx.env);
      if (!d) return fail("neither XDG_STATE_HOME nor HOME is set: give --account-key FILE");
      account_key = *d;
    }
    std::string key_out = o->key_out.empty() ? names.front() + ".key" : o->key_out;
    std::string cert_out = o->cert_out.empty() ? names.front() + ".crt" : o->cert_out;
    // A private key is never silently replaced (it may serve somewhere),
    // and never the account key.
    if (key_out == account_key)
      return fail("--key-out is the account key file; choose another file");
    if (ctx.env.exists(key_out))
      return fail(key_out +
                  " already exists; edgecert never overwrites a private key (remove it "
                  "or choose another --key-out)");

    // Folders first: a certificate issued and then lost for want of a
    // folder would still count against the CA's rate limits.
    for (const auto& [file, mode] : {std::pair{key_out, 0700u}, std::pair{cert_out, 0755u}}) {
      std::string parent = path_dirname(file);
      if (!parent.empty() && parent != "." && !ctx.env.is_directory(parent))
        if (auto s = ctx.env.create_dirs(parent, mode); !s) return fail(s.error().message);
    }

    spec::AcmeIssuer cfg;
    cfg.directory = o->directory;
    cfg.email = o->email;
    if (!o->ca_bundle.empty()) cfg.ca_bundle = o->ca_bundle;
    if (!o->eab_kid.empty()) cfg.eab = spec::AcmeIssuer::Eab{o->eab_kid, o->eab_hmac_from};
    if (!o->webroot.empty())
      cfg.webroot = o->webroot;
    else
      cfg.http01_listen = o->http01_listen.empty() ? acme::kDefaultHttp01Listen : o->http01_listen;
    issuer::AcmeIssuerOptions io;
    io.account_key_path = account_key;
    auto acme = issuer::make_acme_issuer(ctx.env, cfg, std::move(io));

    auto key = pki::PrivateKey::generate(spec::KeyAlgorithm::kEcdsa, 256);
    if (!key) return fail(key.error().message);
    pki::CsrOptions co;
    co.common_name = names.front();
    co.dns_names = names;
    auto csr = pki::CertificateRequest::create(*key, co);
    if (!csr) return fail(csr.error().message);

    auto out = acme->sign(issuer::SignRequest{"", "", csr->to_pem(), spec::Digest::kSha256});
    if (!out) return fail(out.error().message);
    std::string chain;
    for (const auto& c : out->chain) chain += c.to_pem();
    // Key first: a certificate on disk without its key is useless, while a
    // key without its certificate is only a wasted issuance.
    if (auto s = pki::write_private_key(ctx.env, key_out, *key); !s) return fail(s.error().message);
    if (auto s = ctx.env.write_file_atomic(cert_out, chain, 0644); !s)
      return fail(s.error().message);

    const pki::Certificate& leaf = out->chain.front();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (names.size() <= 5)
      ctx.out << fmt::format("Issued {}\n", fmt::join(names, ", "));
    else
      ctx.out << fmt::format("Issued {}, ... ({} names)\n",
                             fmt::join(names.begin(), names.begin() + 3, ", "), names.size());
    ctx.out << fmt::format("  serial:    {}\n", leaf.serial_hex());
    ctx.out << fmt::format("  issuer:    {}\n", leaf.issuer_cn());
    ctx.out << fmt::format("  notAfter:  {}\n", format_time(leaf.not_after()));
    ctx.out << fmt::format("  chain:     {} (leaf + {} intermediate{})\n", cert_out,
                           out->chain.size() - 1, out->chain.size() == 2 ? "" : "s");
    ctx.out << fmt::format("  key:       {} (mode 0600)\n", key_out);
    ctx.out << fmt::format("  took:      {:.3f} s\n", seconds);
    return kExitOk;
  };
}

}  // namespace edgecert
