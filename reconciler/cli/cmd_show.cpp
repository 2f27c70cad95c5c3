// `edgecert show FILE...`: decode certificates, bundles, CSRs, CRLs and keys
// (PEM or DER, by content) and list the Expressway checks under each object.
//
// Field labels follow `openssl x509 -text` so operators can compare output.
// Keys show their type and size only, never key material. A CRL's signature
// is verified only against the CA given with --issuer (without it the checks
// say it was not checked); its freshness always. Exit 1 when any file (or the
// --key, --issuer file) cannot be read or decoded ("PATH: block N: ..." on
// stderr), and when the --key given does not match a server certificate
// shown (the one question --key asks); other findings do not change the exit
// status (show is for looking). A plan saved by `plan --out` is rendered as
// text, JSON or Markdown (a pull-request comment), after the checks apply
// makes on it (a malformed plan: exit 1 naming the action and field).
#include <fmt/core.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ostream>

#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "providers/pki/decode.h"
#include "providers/revocation/crl_verify.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/fleet_cli.h"
#include "reconciler/engine/apply.h"
#include "reconciler/engine/fleet_plan.h"
#include "reconciler/engine/plan.h"

namespace edgecert {

namespace {

using pki::Certificate;
using pki::DecodedObject;
using pki::Finding;
using pki::ObjectKind;

// openssl's long names for EKU and key usage, for the text form.
std::string eku_label(const std::string& sn) {
  if (sn == "serverAuth") return "TLS Web Server Authentication";
  if (sn == "clientAuth") return "TLS Web Client Authentication";
  if (sn == "codeSigning") return "Code Signing";
  if (sn == "emailProtection") return "E-mail Protection";
  if (sn == "OCSPSigning") return "OCSP Signing";
  if (sn == "timeStamping") return "Time Stamping";
  return sn;
}

std::string ku_label(const std::string& name) {
  static const std::pair<const char*, const char*> kLabels[] = {
      {"digitalSignature", "Digital Signature"},
      {"nonRepudiation", "Non Repudiation"},
      {"keyEncipherment", "Key Encipherment"},
      {"dataEncipherment", "Data Encipherment"},
      {"keyAgreement", "Key Agreement"},
      {"keyCertSign", "Certificate Sign"},
      {"cRLSign", "CRL Sign"},
      {"encipherOnly", "Encipher Only"},
      {"decipherOnly", "Decipher Only"}};
  for (const auto& [k, v] : kLabels)
    if (name == k) return v;
  return name;
}

std::string public_key_algorithm(const pki::KeyInfo& k) {
  if (k.algorithm == "RSA") return "rsaEncryption";
  if (k.algorithm == "EC") return "id-ecPublicKey";
  return k.algorithm;
}

std::vector<std::string> san_entries(const pki::SubjectAltNames& s) {
  std::vector<std::string> out;
  for (const auto& d : s.dns) out.push_back("DNS:" + d);
  for (const auto& d : s.ip) out.push_back("IP Address:" + d);
  for (const auto& d : s.email) out.push_back("email:" + d);
  for (const auto& d : s.uri) out.push_back("URI:" + d);
  for (const auto& d : s.other) out.push_back(d);
  return out;
}

struct Shown {
  const DecodedObject* object;
  std::vector<Finding> findings;
  bool as_ca = false;
  // CRLs only: what verify_crl said; `signature_checked` false without --issuer.
  std::optional<revocation::CrlVerification> crl_check;
  bool signature_checked = false;
};

// A CRL's checks: freshness always, the signature against the --issuer
// certificates when given (issuers == nullptr: not given).
void check_crl_object(Shown& s, const std::vector<Certificate>* issuers,
                      const std::string& issuer_file, TimePoint now) {
  const pki::Crl& crl = *s.object->crl;
  static const std::vector<Certificate> kNone;
  revocation::CrlVerification v = revocation::verify_crl(crl, issuers ? *issuers : kNone, now);
  s.signature_checked = issuers != nullptr;
  if (!issuers) {
    s.findings.push_back({"crl-signature-not-checked", Severity::kWarning,
                          "signature not checked: give the CA that signs this CRL with "
                          "--issuer CA.pem",
                          std::nullopt});
  } else if (v.signature == revocation::SignatureVerdict::kNoIssuer) {
    s.findings.push_back({"crl-no-issuer", Severity::kError,
                          fmt::format("no certificate in {} is the CRL's issuer {}: the "
                                      "signature cannot be checked; give that CA with --issuer",
                                      issuer_file, v.issuer),
                          std::nullopt});
  } else if (v.signature == revocation::SignatureVerdict::kForged) {
    s.findings.push_back({"crl-forged", Severity::kError,
                          fmt::format("the signature does not verify with the key of {} (from "
                                      "{}): the CRL is forged or damaged; the nodes will not use "
                                      "it",
                                      v.issuer, issuer_file),
                          std::nullopt});
  }
  if (v.freshness == revocation::Freshness::kStale && v.next_update) {
    s.findings.push_back({"crl-stale", Severity::kError,
                          fmt::format("stale: nextUpdate {} has passed; the nodes treat every "
                                      "certificate of {} as invalid until a newer CRL is loaded",
                                      format_time(*v.next_update), v.issuer),
                          std::nullopt});
  } else if (v.freshness == revocation::Freshness::kNotYetValid) {
    s.findings.push_back({"crl-not-yet-valid", Severity::kError,
                          fmt::format("not yet valid: thisUpdate {} is in the future; check the "
                                      "CA's clock (or this machine's)",
                                      format_time(v.this_update)),
                          std::nullopt});
  }
  // Whatever else verify_crl found (a signer without cRLSign, a delta CRL
  // naming a base that is not older), in its words.
  for (const std::string& p : v.problems) {
    bool shown = p.starts_with("stale:") || p.starts_with("not yet valid:") ||
                 p.starts_with("signature does not verify") || p.starts_with("no trusted CA");
    if (!shown) s.findings.push_back({"crl-problem", Severity::kError, p, std::nullopt});
  }
  s.crl_check = std::move(v);
}

std::string signature_line(const Shown& s) {
  const revocation::CrlVerification& v = *s.crl_check;
  if (!s.signature_checked) return "not checked (no --issuer)";
  switch (v.signature) {
    case revocation::SignatureVerdict::kValid:
      return "valid, signed by " + (v.signer ? v.signer->subject() : v.issuer);
    case revocation::SignatureVerdict::kNoIssuer:
      return "not checked (the issuer is not in --issuer)";
    case revocation::SignatureVerdict::kForged:
      return "DOES NOT VERIFY (forged or damaged)";
  }
  return "";
}

nlohmann::json key_info_json(const pki::KeyInfo& k) {
  nlohmann::json j{{"algorithm", k.algorithm}, {"bits", k.bits}};
  if (!k.curve.empty()) j["curve"] = k.curve;
  return j;
}

nlohmann::json sans_json(const pki::SubjectAltNames& s) {
  return {{"dns", s.dns}, {"ip", s.ip}, {"email", s.email}, {"uri", s.uri}, {"other", s.other}};
}

nlohmann::json attrs_json(const std::vector<pki::NameAttribute>& attrs) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& x : attrs)
    a.push_back({{"oid", x.oid}, {"name", x.short_name}, {"value", x.value}});
  return a;
}

nlohmann::json object_json(const Shown& s) {
  const DecodedObject& o = *s.object;
  nlohmann::json j{
      {"index", o.index}, {"kind", pki::object_kind_name(o.kind)}, {"encoding", o.encoding}};
  if (o.certificate) {
    const Certificate& c = *o.certificate;
    j["version"] = c.version();
    j["serial"] = c.serial_hex();
    j["subject"] = c.subject();
    j["subjectAttributes"] = attrs_json(c.subject_attributes());
    j["issuer"] = c.issuer();
    j["issuerAttributes"] = attrs_json(c.issuer_attributes());
    j["notBefore"] = format_time(c.not_before());
    j["notAfter"] = format_time(c.not_after());
    j["publicKey"] = key_info_json(c.key_info());
    j["signatureAlgorithm"] = c.signature_algorithm();
    j["signatureDigest"] = c.signature_digest();
    j["subjectAltNames"] = sans_json(c.subject_alt_names());
    j["extendedKeyUsage"] = c.extended_key_usage();
    j["keyUsage"] = c.key_usage();
    j["basicConstraints"] =
        c.has_basic_constraints() ? nlohmann::json{{"ca", c.is_ca()}} : nlohmann::json(nullptr);
    if (auto pl = c.path_length()) j["basicConstraints"]["pathLength"] = *pl;
    j["subjectKeyId"] = c.subject_key_id();
    j["authorityKeyId"] = c.authority_key_id();
    j["crlDistributionPoints"] = c.crl_distribution_points();
    j["ocspUrls"] = c.ocsp_urls();
    j["unknownNameOids"] = c.unknown_name_oids();
    j["selfSigned"] = c.is_self_signed();
    j["checkedAs"] = s.as_ca ? "ca" : "server";
    j["sha256Fingerprint"] = c.sha256_fingerprint();
  } else if (o.request) {
    const pki::CertificateRequest& r = *o.request;
    j["subject"] = r.subject();
    j["subjectAttributes"] = attrs_json(r.subject_attributes());
    j["publicKey"] = key_info_json(r.key_info());
    j["signatureAlgorithm"] = r.signature_algorithm();
    j["signatureValid"] = r.signature_valid();
    j["subjectAltNames"] = sans_json(r.subject_alt_names());
    j["extendedKeyUsage"] = r.extended_key_usage();
    j["keyUsage"] = r.key_usage();
  } else if (o.crl) {
    const pki::Crl& c = *o.crl;
    j["issuer"] = c.issuer();
    j["lastUpdate"] = format_time(c.last_update());
    j["nextUpdate"] =
        c.next_update() ? nlohmann::json(format_time(*c.next_update())) : nlohmann::json();
    j["crlNumber"] = c.number() ? nlohmann::json(*c.number()) : nlohmann::json();
    j["signatureAlgorithm"] = c.signature_algorithm();
    nlohmann::json revoked = nlohmann::json::array();
    for (const auto& r : c.revoked()) {
      nlohmann::json e{{"serial", r.serial_hex}, {"revoked", format_time(r.revoked_at)}};
      if (!r.reason.empty()) e["reason"] = r.reason;
      revoked.push_back(std::move(e));
    }
    j["revoked"] = revoked;
    if (s.crl_check) {
      const revocation::CrlVerification& v = *s.crl_check;
      j["signature"] = {
          {"verdict", s.signature_checked ? revocation::to_string(v.signature) : "not-checked"},
          {"signer", v.signer && s.signature_checked ? nlohmann::json(v.signer->subject())
                                                     : nlohmann::json()}};
      j["freshness"] = revocation::to_string(v.freshness);
      j["delta"] = v.delta;
      if (v.base_number) j["deltaBase"] = *v.base_number;
    }
  } else if (o.key) {
    j["encrypted"] = o.key->encrypted;
    if (o.key->key) j["key"] = key_info_json(o.key->key->info());
  }
  nlohmann::json f = nlohmann::json::array();
  for (const Finding& x : s.findings)
    f.push_back({{"id", x.id}, {"severity", severity_name(x.severity)}, {"message", x.message}});
  j["findings"] = f;
  return j;
}

void print_key_info(std::ostream& out, const pki::KeyInfo& k, const char* indent) {
  out << indent << "Public Key Algorithm: " << public_key_algorithm(k) << "\n";
  out << indent << "    Public-Key: (" << k.bits << " bit)\n";
  if (!k.curve.empty()) out << indent << "    NIST CURVE: " << k.curve << "\n";
}

void print_object(std::ostream& out, const std::string& path, const Shown& s) {
  const DecodedObject& o = *s.object;
  out << fmt::format("{}: block {}: {} ({})\n", path, o.index, pki::object_kind_name(o.kind),
                     o.encoding);
  if (o.certificate) {
    const Certificate& c = *o.certificate;
    out << "    Version: " << c.version() << "\n";
    out << "    Serial Number: " << c.serial_hex() << "\n";
    out << "    Signature Algorithm: " << c.signature_algorithm() << "\n";
    out << "    Issuer: " << c.issuer() << "\n";
    out << "    Validity\n";
    out << "        Not Before: " << format_time(c.not_before()) << "\n";
    out << "        Not After : " << format_time(c.not_after()) << "\n";
    out << "    Subject: " << c.subject() << "\n";
    out << "    Subject Public Key Info:\n";
    print_key_info(out, c.key_info(), "        ");
    out << "    X509v3 extensions:\n";
    if (c.has_basic_constraints()) {
      std::string bc = c.is_ca() ? "CA:TRUE" : "CA:FALSE";
      if (auto pl = c.path_length()) bc += fmt::format(", pathlen:{}", *pl);
      out << "        X509v3 Basic Constraints: " << bc << "\n";
    }
    if (c.has_key_usage()) {
      std::vector<std::string> ku;
      for (const auto& k : c.key_usage()) ku.push_back(ku_label(k));
      out << fmt::format("        X509v3 Key Usage: {}\n", fmt::join(ku, ", "));
    }
    if (c.has_extended_key_usage()) {
      std::vector<std::string> eku;
      for (const auto& e : c.extended_key_usage()) eku.push_back(eku_label(e));
      out << fmt::format("        X509v3 Extended Key Usage: {}\n", fmt::join(eku, ", "));
    }
    if (auto ski = c.subject_key_id(); !ski.empty())
      out << "        X509v3 Subject Key Identifier: " << ski << "\n";
    if (auto aki = c.authority_key_id(); !aki.empty())
      out << "        X509v3 Authority Key Identifier: " << aki << "\n";
    if (auto sans = san_entries(c.subject_alt_names()); !sans.empty())
      out << fmt::format("        X509v3 Subject Alternative Name: {}\n", fmt::join(sans, ", "));
    if (auto dps = c.crl_distribution_points(); !dps.empty()) {
      std::vector<std::string> uris;
      for (const auto& u : dps) uris.push_back("URI:" + u);
      out << fmt::format("        X509v3 CRL Distribution Points: {}\n", fmt::join(uris, ", "));
    }
    if (auto ocsp = c.ocsp_urls(); !ocsp.empty()) {
      std::vector<std::string> uris;
      for (const auto& u : ocsp) uris.push_back("OCSP - URI:" + u);
      out << fmt::format("        Authority Information Access: {}\n", fmt::join(uris, ", "));
    }
    out << "    SHA256 Fingerprint: " << c.sha256_fingerprint() << "\n";
  } else if (o.request) {
    const pki::CertificateRequest& r = *o.request;
    out << "    Subject: " << r.subject() << "\n";
    out << "    Subject Public Key Info:\n";
    print_key_info(out, r.key_info(), "        ");
    out << "    Signature Algorithm: " << r.signature_algorithm()
        << (r.signature_valid() ? "" : " (signature does not verify)") << "\n";
    out << "    Requested Extensions:\n";
    if (auto ku = r.key_usage(); !ku.empty()) {
      std::vector<std::string> l;
      for (const auto& k : ku) l.push_back(ku_label(k));
      out << fmt::format("        X509v3 Key Usage: {}\n", fmt::join(l, ", "));
    }
    if (auto eku = r.extended_key_usage(); !eku.empty()) {
      std::vector<std::string> l;
      for (const auto& e : eku) l.push_back(eku_label(e));
      out << fmt::format("        X509v3 Extended Key Usage: {}\n", fmt::join(l, ", "));
    }
    if (auto sans = san_entries(r.subject_alt_names()); !sans.empty())
      out << fmt::format("        X509v3 Subject Alternative Name: {}\n", fmt::join(sans, ", "));
  } else if (o.crl) {
    const pki::Crl& c = *o.crl;
    out << "    Signature Algorithm: " << c.signature_algorithm() << "\n";
    out << "    Issuer: " << c.issuer() << "\n";
    out << "    Last Update: " << format_time(c.last_update()) << "\n";
    out << "    Next Update: "
        << (c.next_update() ? format_time(*c.next_update()) : std::string("NONE")) << "\n";
    if (auto n = c.number()) out << "    X509v3 CRL Number: " << *n << "\n";
    if (s.crl_check && s.crl_check->delta)
      out << "    X509v3 Delta CRL Indicator: " << s.crl_check->base_number.value_or("?") << "\n";
    if (s.crl_check) out << "    Signature: " << signature_line(s) << "\n";
    auto revoked = c.revoked();
    if (revoked.empty()) {
      out << "    No Revoked Certificates.\n";
    } else {
      out << "    Revoked Certificates:\n";
      for (const auto& r : revoked) {
        out << "        Serial Number: " << r.serial_hex << "\n";
        out << "            Revocation Date: " << format_time(r.revoked_at) << "\n";
        if (!r.reason.empty()) out << "            X509v3 CRL Reason Code: " << r.reason << "\n";
      }
    }
  } else if (o.key) {
    if (o.key->encrypted) {
      out << "    Private Key: encrypted (password protected)\n";
    } else if (o.key->key) {
      pki::KeyInfo k = o.key->key->info();
      out << "    Private-Key: (" << k.bits << " bit, " << k.algorithm
          << (k.curve.empty() ? "" : " " + k.curve) << ")\n";
    }
  }
  if (s.findings.empty()) {
    out << "    Checks: ok\n";
  } else {
    out << "    Checks:\n";
    for (const Finding& f : s.findings)
      out << fmt::format("        {}: {} [{}]\n", severity_name(f.severity), f.message, f.id);
  }
}

bool key_mismatch(const std::vector<pki::Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const pki::Finding& f) { return f.id == "key-mismatch"; });
}

}  // namespace

std::function<int()> setup_show(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::vector<std::string> files;
    std::string output = "text";
    std::string key;
    std::string issuer;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("FILE", o->files,
                 "Certificates, bundles, CSRs, CRLs or keys (PEM or DER), or plans saved by "
                 "'plan --out'")
      ->required();
  app.add_option("--output,-o", o->output,
                 "Output format (markdown: saved plans only, for a pull-request comment)")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  app.add_option("--key", o->key,
                 "Private key belonging to the server certificate(s) shown (checks the match)");
  app.add_option("--issuer", o->issuer,
                 "CA certificate(s) (PEM or DER) that sign the CRLs shown: verifies their "
                 "signature");

  return [o, &ctx]() -> int {
    bool ok = true;
    const TimePoint now = ctx.env.now();

    std::optional<pki::KeyFile> pair_key;
    if (!o->key.empty()) {
      auto data = ctx.env.read_file(o->key, read_limits::kKey);
      auto kf = data ? pki::inspect_private_key(*data, o->key)
                     : Result<pki::KeyFile>(std::unexpected(data.error()));
      if (!kf) {
        ctx.err << kf.error().message << "\n";
        return kExitError;
      }
      pair_key = std::move(*kf);
    }
    std::optional<std::vector<Certificate>> issuers;
    if (!o->issuer.empty()) {
      auto certs = pki::load_certificates(ctx.env, o->issuer, read_limits::kTrustedCa);
      if (!certs) {
        std::string msg = certs.error().message;
        if (msg.rfind(o->issuer, 0) != 0) msg = o->issuer + ": " + msg;
        ctx.err << "edgecert: error: --issuer " << msg << "\n";
        return kExitError;
      }
      issuers = std::move(*certs);
    }

    nlohmann::json files = nlohmann::json::array();
    for (const std::string& path : o->files) {
      nlohmann::json fj{{"path", path}};
      // A saved plan (JSON with format_version), decoded and checked as apply
      // decodes it: a malformed one is refused naming the action and field.
      if (auto saved = read_saved_plan(ctx.env, path)) {
        auto plan = plan_from_json(*saved, path);
        if (!plan) {
          ctx.err << "edgecert: error: " << plan.error().message << "\n";
          ok = false;
          fj["error"] = plan.error().message;
          files.push_back(fj);
          continue;
        }
        if (o->output == "json") {
          fj["plan"] = plan_to_json(*plan);
          files.push_back(fj);
        } else if (o->output == "markdown") {
          ctx.out << render_plan_markdown(*plan);
        } else {
          ctx.out << fmt::format(
              "{}: saved plan for cluster {}, made {} by edgecert {} from {} (sha256 {})\n\n", path,
              plan->cluster, plan->created_at, plan->edgecert_version, plan->spec_path,
              plan->spec_sha256.substr(0, 16));
          if (plan->change_id) ctx.out << fmt::format("Change: {}\n\n", *plan->change_id);
          ctx.out << render_plan_text(*plan);
        }
        continue;
      }
      // A truncated or edited plan is a broken plan, not a certificate.
      if (auto broken = broken_json_plan(ctx.env, path)) {
        ctx.err << "edgecert: error: " << *broken << "\n";
        ok = false;
        fj["error"] = *broken;
        files.push_back(fj);
        continue;
      }
      // A fleet plan (fleet_plan.h): every cluster's plan, in the file's order.
      if (is_fleet_plan(ctx.env, path)) {
        auto file = read_fleet_plan(ctx.env, path);
        if (!file) {
          ctx.err << "edgecert: error: " << file.error().message << "\n";
          ok = false;
          fj["error"] = file.error().message;
          files.push_back(fj);
          continue;
        }
        fj["plans"] = nlohmann::json::array();
        if (o->output == "text")
          ctx.out << fmt::format("{}: saved plans of {} clusters (sha256 {})\n", path,
                                 file->plans.size(), file->sha256.substr(0, 16));
        else if (o->output == "markdown")
          ctx.out << fmt::format("## Fleet plan {}: {} clusters\n\n{}, sha256 `{}`\n\n",
                                 markdown_text(path), file->plans.size(),
                                 markdown_text(fmt::format("{}", fmt::join(file->clusters, ", "))),
                                 file->sha256);
        for (const nlohmann::json& entry : file->plans) {
          auto plan = plan_from_json(entry, path);
          if (!plan) continue;  // read_fleet_plan checked each
          if (o->output == "json") {
            fj["plans"].push_back(plan_to_json(*plan));
          } else if (o->output == "markdown") {
            ctx.out << render_plan_markdown(*plan) << "\n";
          } else {
            ctx.out << fmt::format("\n{}\nmade {} by edgecert {} from {} (sha256 {})\n\n",
                                   fleet_heading(plan->cluster, plan->spec_path), plan->created_at,
                                   plan->edgecert_version, plan->spec_path,
                                   plan->spec_sha256.substr(0, 16));
            if (plan->change_id) ctx.out << fmt::format("Change: {}\n\n", *plan->change_id);
            ctx.out << render_plan_text(*plan);
          }
        }
        if (o->output == "json") files.push_back(fj);
        continue;
      }
      if (o->output == "markdown") {
        const std::string msg =
            path + ": not a saved plan; --output markdown shows plans saved by 'plan --out'";
        ctx.err << "edgecert: error: " << msg << "\n";
        ok = false;
        continue;
      }
      auto data = ctx.env.read_file(path, read_limits::kCrl);
      Result<std::vector<DecodedObject>> objects =
          data ? pki::decode_objects(*data, path)
               : Result<std::vector<DecodedObject>>(std::unexpected(data.error()));
      if (!objects) {
        std::string msg = objects.error().message;
        if (msg.rfind(path, 0) != 0) msg = path + ": " + msg;
        ctx.err << msg << "\n";
        ok = false;
        fj["error"] = msg;
        files.push_back(fj);
        continue;
      }
      std::vector<Certificate> certs;
      for (const DecodedObject& d : *objects)
        if (d.certificate) certs.push_back(*d.certificate);

      const pki::IssuerIndex issuers_in_file(certs);
      std::vector<Shown> shown;
      for (const DecodedObject& d : *objects) {
        Shown s{&d, {}, false, std::nullopt, false};
        if (d.certificate) {
          s.as_ca = pki::looks_like_ca(*d.certificate, issuers_in_file);
          pki::ServerCheckOptions opts;
          opts.now = now;
          if (pair_key) opts.key = &*pair_key;
          s.findings = pki::check_certificate(*d.certificate, s.as_ca, opts);
          if (!s.as_ca && key_mismatch(s.findings)) {
            ctx.err << fmt::format(
                "edgecert: error: {} does not match the certificate '{}' in {}\n", o->key,
                d.certificate->subject_cn(), path);
            ok = false;
          }
        } else if (d.request) {
          s.findings = pki::check_request(*d.request);
        } else if (d.crl) {
          check_crl_object(s, issuers ? &*issuers : nullptr, o->issuer, now);
        } else if (d.key) {
          s.findings = pki::check_key_file(*d.key);
        }
        shown.push_back(std::move(s));
      }
      if (o->output == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (const Shown& s : shown) arr.push_back(object_json(s));
        fj["objects"] = arr;
        files.push_back(fj);
      } else {
        for (size_t i = 0; i < shown.size(); ++i) {
          if (i) ctx.out << "\n";
          print_object(ctx.out, path, shown[i]);
        }
      }
    }
    if (o->output == "json") {
      ctx.out << nlohmann::json{{"ok", ok}, {"files", files}}.dump(2) << "\n";
    }
    return ok ? kExitOk : kExitError;
  };
}

}  // namespace edgecert
