// SimNode's certificate operations: the node's status, the served chain, the
// CSR, the server certificate upload (checked like the appliance checks it,
// guide ch.6) and the trusted CA list.
#include <algorithm>
#include <cctype>

#include <fmt/core.h>
#include <fmt/format.h>

#include "providers/base/fqdn.h"
#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/spki.h"
#include "providers/pki/verify.h"
#include "providers/sim/sim_node_internal.h"

namespace edgecert::sim {

using internal::from_hex;
using internal::invalid;
using internal::json;
using internal::key_pem;
using internal::KeyedChain;
using internal::OpContext;
using internal::parse_pems;
using internal::run_op;
using internal::State;

namespace {

// "AB:CD" / "abcd" -> "ABCD"
std::string normalize_fingerprint(std::string_view fp) {
  std::string out;
  for (char c : fp) {
    if (c == ':' || c == ' ') continue;
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

// The chain as one PEM text, every certificate ending in a newline.
std::string chain_text(const std::vector<std::string>& chain) {
  std::string out;
  for (const std::string& pem : chain) {
    out += pem;
    if (!out.empty() && out.back() != '\n') out += '\n';
  }
  return out;
}

// Appliance-style alarms on the serving certificate.
std::vector<node::Alarm> alarms_for(const pki::Certificate& leaf, TimePoint now) {
  std::vector<node::Alarm> out;
  auto left = leaf.not_after() - now;
  auto days = std::chrono::duration_cast<std::chrono::hours>(left).count() / 24;
  if (leaf.is_expired_at(now) || days < 1) {
    out.push_back({"40068", fmt::format("Security alert: the server certificate has expired or "
                                        "expires today ({})",
                                        format_time(leaf.not_after()))});
  } else if (days <= 30) {
    out.push_back(
        {"40069", fmt::format("Security alert: the server certificate expires in {} days", days)});
  }
  if (leaf.subject_cn().empty()) {
    // The appliance raises an alarm for a certificate without CN; its id is not
    // in our references, so the simulator uses a name instead of a number.
    out.push_back({"missing-common-name", "The server certificate has no common name (CN)"});
  }
  return out;
}

// The key a new CSR carries: the active certificate's ("re-use current
// private key") or a new one of the requested shape.
Result<pki::PrivateKey> csr_key(const State& s, const node::CsrRequest& request) {
  if (request.reuse_current_key) {
    auto k = pki::PrivateKey::parse(s.active.key, "current server key");
    if (!k)
      return std::unexpected(
          invalid("the current private key cannot be re-used: " + k.error().message));
    return k;
  }
  bool rsa = request.key_algorithm == spec::KeyAlgorithm::kRsa;
  bool size_ok =
      rsa ? (request.key_size == 2048 || request.key_size == 4096)
          : (request.key_size == 256 || request.key_size == 384 || request.key_size == 521);
  if (!size_ok) {
    return std::unexpected(
        invalid(fmt::format("unsupported key: {} {} (RSA 2048/4096 or ECDSA 256/384/521)",
                            spec::key_algorithm_name(request.key_algorithm), request.key_size)));
  }
  return pki::PrivateKey::generate(request.key_algorithm, request.key_size);
}

}  // namespace

Result<node::NodeState> SimNode::read_state() {
  Env& env = env_;
  return run_op(
      files(), "read_state",
      [&env](OpContext& c) -> Result<node::NodeState> {
        const State& s = c.state;
        node::NodeState out;
        out.software_version = s.version;
        out.product = s.product == "expressway-c"   ? node::Product::kExpresswayC
                      : s.product == "expressway-e" ? node::Product::kExpresswayE
                                                    : node::Product::kUnknown;
        if (s.booted_ms > 0)
          out.uptime_seconds =
              std::max<int64_t>(0, internal::to_ms(env.now()) - s.booted_ms) / 1000;
        if (s.cluster_peers) out.cluster_peers = *s.cluster_peers;
        auto active = parse_pems(s.active.chain, "active chain");
        if (!active) return std::unexpected(active.error());
        out.server_chain = std::move(*active);
        if (s.staged) {
          auto staged = parse_pems(s.staged->chain, "staged chain");
          if (!staged) return std::unexpected(staged.error());
          out.staged_chain = std::move(*staged);
        }
        if (s.csr) {
          auto p = node::pending_csr_from_pem(s.csr->chain.at(0));
          if (!p) return make_error(ErrorCode::kCorrupt, p.error().message);
          out.pending_csr = std::move(*p);
        }
        auto cas = parse_pems(s.trusted_cas, "trusted CA");
        if (!cas) return std::unexpected(cas.error());
        out.trusted_cas = std::move(*cas);
        out.crl = s.crl;
        if (s.manual_crl_hex)
          out.manual_crl_sha256 = pki::sha256_fingerprint(from_hex(*s.manual_crl_hex));
        out.revocation = s.revocation;
        out.acme = s.acme;
        const bool registered = internal::acme_account_registered(s);
        out.acme_status.status = s.acme.mode == spec::AcmeMode::kDisabled ? kAcmeStatusDisabled
                                 : registered                             ? kAcmeStatusRegistered
                                              : kAcmeStatusNotRegistered;
        out.acme_status.last_sign_status = s.acme_last_sign;
        out.acme_status.last_deploy_status = s.acme_last_deploy;
        if (s.acme_pending)
          out.acme_status.pending_certificate_pem = chain_text(s.acme_pending->chain);
        out.tls_verification = s.tls;
        if (!out.server_chain.empty()) out.alarms = alarms_for(out.server_chain.front(), env.now());
        out.restart_required = s.restart_required;
        return out;
      },
      internal::kReadOp);
}

Result<std::string> SimNode::generate_csr(const node::CsrRequest& request) {
  return run_op(files(), "generate_csr", [&request](OpContext& c) -> Result<std::string> {
    State& s = c.state;
    c.details["common_name"] = request.common_name;
    if (s.csr) {
      return make_error(ErrorCode::kAlreadyExists,
                        "a CSR is already in progress; discard it before generating a new one");
    }
    if (FqdnProblem p = check_fqdn(request.common_name); p != FqdnProblem::kOk) {
      return std::unexpected(invalid("Common name must be a valid FQDN: " +
                                     describe_fqdn_problem(request.common_name, p)));
    }
    std::vector<std::string> names = {request.common_name};
    for (const std::string& n : request.dns_names) {
      if (FqdnProblem p = check_fqdn(n); p != FqdnProblem::kOk) {
        return std::unexpected(invalid("Subject alternative name must be a valid FQDN: " +
                                       describe_fqdn_problem(n, p)));
      }
      bool dup = std::any_of(names.begin(), names.end(), [&](const std::string& x) {
        return to_lower_ascii(x) == to_lower_ascii(n);
      });
      if (!dup) names.push_back(n);
    }
    // An Expressway-C adds the chat node aliases it discovered from IM and
    // Presence by itself (guide ch.3).
    for (const std::string& n : s.chat_node_aliases) {
      bool dup = std::any_of(names.begin(), names.end(), [&](const std::string& x) {
        return to_lower_ascii(x) == to_lower_ascii(n);
      });
      if (!dup) names.push_back(n);
    }
    auto key = csr_key(s, request);
    if (!key) return std::unexpected(key.error());
    pki::CsrOptions opts;
    opts.common_name = request.common_name;
    opts.subject = request.subject;
    opts.dns_names = names;
    opts.digest = request.digest;
    auto csr = pki::CertificateRequest::create(*key, opts);
    if (!csr) return std::unexpected(csr.error());
    auto pem = key_pem(*key);
    if (!pem) return std::unexpected(pem.error());
    s.csr = KeyedChain{{csr->to_pem()}, *pem};
    c.changed = true;
    c.details["dns_names"] = names;
    c.details["key"] = request.reuse_current_key
                           ? std::string("current")
                           : fmt::format("{} {}", spec::key_algorithm_name(request.key_algorithm),
                                         request.key_size);
    return csr->to_pem();
  });
}

Status SimNode::discard_csr() {
  return run_op(files(), "discard_csr", [](OpContext& c) -> Status {
    if (!c.state.csr) return make_error(ErrorCode::kNotFound, "no CSR is in progress");
    c.state.csr.reset();
    c.changed = true;
    return {};
  });
}

Result<node::UploadResult> SimNode::upload_server_certificate(
    const node::CertificateUpload& upload) {
  Env& env = env_;
  return run_op(
      files(), "upload_server_certificate", [&](OpContext& c) -> Result<node::UploadResult> {
        State& s = c.state;
        c.details["with_key"] = upload.key.has_value();
        if (upload.key && s.csr) {
          return std::unexpected(invalid(
              "a private key cannot be uploaded while a CSR is in progress; discard the CSR "
              "or upload the certificate alone"));
        }
        if (upload.chain_pem.find("-----BEGIN") == std::string::npos) {
          return std::unexpected(invalid("the server certificate is not a PEM file"));
        }
        auto chain = pki::Certificate::parse_all(upload.chain_pem, "server certificate");
        if (!chain) {
          return std::unexpected(invalid("the server certificate is not a valid PEM certificate: " +
                                         chain.error().message));
        }
        const pki::Certificate& leaf = chain->front();
        std::vector<pki::Certificate> intermediates(chain->begin() + 1, chain->end());
        c.details["sha256"] = leaf.sha256_fingerprint();
        c.details["subject"] = leaf.subject();

        // The key the certificate will be paired with.
        pki::KeyFile kf;
        if (upload.key) {
          auto inspected = pki::inspect_private_key(upload.key->view(), "private key");
          if (!inspected) {
            // The pki message names only the source and block, never key bytes.
            return std::unexpected(invalid(inspected.error().message));
          }
          kf = std::move(*inspected);
        } else {
          const std::string& held = s.csr ? s.csr->key : s.active.key;
          auto k = pki::PrivateKey::parse(held, s.csr ? "pending CSR key" : "current server key");
          if (!k) return make_error(ErrorCode::kCorrupt, k.error().message);
          kf.source = s.csr ? "the pending CSR's key" : "the current server key";
          kf.pem = false;  // not a file: no trailing-newline question
          kf.key = std::move(*k);
        }

        pki::ServerCheckOptions opts;
        opts.now = env.now();
        opts.key = &kf;
        opts.chain = intermediates;
        std::vector<pki::Finding> findings = pki::check_server_certificate(leaf, opts);
        std::vector<std::string> errors;
        node::UploadResult result;
        for (const pki::Finding& f : findings) {
          if (f.severity == Severity::kError) {
            errors.push_back(f.message);
          } else if (f.id == "missing-common-name" || f.id == "key-missing-trailing-newline") {
            // Only the warnings the appliance itself shows (guide ch.6); edgecert's
            // operational warnings (expiring-soon, missing-client-auth...) are not
            // the node's to report.
            result.warnings.push_back({f.id, f.message});
          }
        }
        if (!errors.empty()) {
          return std::unexpected(invalid(fmt::format("{}", fmt::join(errors, "; "))));
        }

        auto anchors = parse_pems(s.trusted_cas, "trusted CA");
        if (!anchors) return std::unexpected(anchors.error());
        pki::VerifyOptions vo;
        vo.at = env.now();
        pki::VerifyResult vr = pki::verify_chain(leaf, intermediates, *anchors, vo);
        if (!vr.ok) {
          return std::unexpected(
              invalid(fmt::format("the certificate's issuer chain does not verify against the "
                                  "trusted CA list ({}: {}); "
                                  "install the CA certificates before the server certificate",
                                  vr.error_name, vr.message)));
        }

        if (auto w = internal::unknown_crl_warning(s, leaf))
          result.warnings.push_back(std::move(*w));

        KeyedChain staged;
        for (const pki::Certificate& cert : *chain) staged.chain.push_back(cert.to_pem());
        if (upload.key) {
          auto pem = key_pem(*kf.key);
          if (!pem) return std::unexpected(pem.error());
          staged.key = *pem;
        } else {
          staged.key = s.csr ? s.csr->key : s.active.key;
        }
        s.staged = std::move(staged);
        s.csr.reset();
        s.restart_required = true;
        c.changed = true;
        result.staged_sha256 = leaf.sha256_fingerprint();
        json w = json::array();
        for (const auto& x : result.warnings) w.push_back(x.id);
        c.details["warnings"] = w;
        return result;
      });
}

Result<node::AppendCasResult> SimNode::append_trusted_cas(std::string_view pem_bundle) {
  return run_op(files(), "append_trusted_cas", [&](OpContext& c) -> Result<node::AppendCasResult> {
    State& s = c.state;
    if (pem_bundle.find("-----BEGIN") == std::string_view::npos) {
      return std::unexpected(invalid("the CA certificate file is not a PEM file"));
    }
    auto certs = pki::Certificate::parse_all(pem_bundle, "CA certificate file");
    if (!certs) return std::unexpected(invalid(certs.error().message));
    auto existing = parse_pems(s.trusted_cas, "trusted CA");
    if (!existing) return std::unexpected(existing.error());
    std::vector<std::string> have;
    for (const pki::Certificate& e : *existing) have.push_back(e.sha256_fingerprint());
    node::AppendCasResult r;
    std::vector<std::string> add_pems;
    for (const pki::Certificate& cert : *certs) {
      std::string fp = cert.sha256_fingerprint();
      if (std::find(have.begin(), have.end(), fp) != have.end()) {
        r.skipped.push_back(fp);
        continue;
      }
      have.push_back(fp);
      r.added.push_back(fp);
      add_pems.push_back(cert.to_pem());
    }
    if (s.trusted_cas.size() + add_pems.size() > pki::kMaxTrustedCas) {
      return std::unexpected(invalid(
          fmt::format("the trusted CA list would hold {} certificates, above the maximum of {}",
                      s.trusted_cas.size() + add_pems.size(), pki::kMaxTrustedCas)));
    }
    s.trusted_cas.insert(s.trusted_cas.end(), add_pems.begin(), add_pems.end());
    c.changed = !add_pems.empty();
    c.details["added"] = r.added;
    c.details["skipped"] = r.skipped;
    return r;
  });
}

Status SimNode::delete_trusted_ca(const std::string& sha256) {
  return run_op(files(), "delete_trusted_ca", [&](OpContext& c) -> Status {
    State& s = c.state;
    c.details["sha256"] = sha256;
    std::string want = normalize_fingerprint(sha256);
    for (size_t i = 0; i < s.trusted_cas.size(); ++i) {
      auto cert = pki::Certificate::parse_one(s.trusted_cas[i], "trusted CA");
      if (!cert) return make_error(ErrorCode::kCorrupt, cert.error().message);
      if (normalize_fingerprint(cert->sha256_fingerprint()) == want) {
        s.trusted_cas.erase(s.trusted_cas.begin() + static_cast<std::ptrdiff_t>(i));
        c.changed = true;
        return {};
      }
    }
    return make_error(ErrorCode::kNotFound,
                      fmt::format("no trusted CA certificate has SHA-256 fingerprint {}", sha256));
  });
}

Status SimNode::reset_trusted_cas() {
  return run_op(files(), "reset_trusted_cas", [](OpContext& c) -> Status {
    c.state.trusted_cas = c.state.factory_cas;
    c.changed = true;
    return {};
  });
}

Result<std::vector<pki::Certificate>> SimNode::served_chain() {
  return run_op(
      files(), "served_chain",
      [](OpContext& c) -> Result<std::vector<pki::Certificate>> {
        auto chain = parse_pems(c.state.active.chain, "active chain");
        if (!chain) return std::unexpected(chain.error());
        if (!chain->empty()) c.details["sha256"] = chain->front().sha256_fingerprint();
        return chain;
      },
      internal::kReadOp);
}

}  // namespace edgecert::sim
