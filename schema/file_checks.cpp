// Checks on files the spec references: certificate bundles, trusted CA
// files (each loaded, then the pki checks run on the whole set), the
// manual CRL file and the PEM bundle for https CRL distribution points.
// Run only when LoadOptions::check_files is set.
#include <fmt/core.h>

#include "providers/pki/certificate.h"
#include "providers/pki/checks.h"
#include "providers/pki/crl.h"
#include "schema/decode_internal.h"

namespace edgecert::schema::detail {

void Decoder::check_certificate_file(const std::string& key, const std::string& file) {
  auto certs = pki::load_certificates(env_, file, read_limits::kCaBundle);
  if (!certs) error(at(key), fmt::format("{}: {}", display(key), certs.error().message));
}

void Decoder::check_trusted_ca_files() {
  if (!spec_.trusted_cas) return;
  std::vector<pki::Certificate> all;
  std::vector<size_t> origin;  // index into trusted_ca_fields_ for each certificate
  for (size_t i = 0; i < trusted_ca_fields_.size(); ++i) {
    const Field& item = trusted_ca_fields_[i];
    const std::string& file = spec_.trusted_cas->certificates[i];
    auto certs = pki::load_certificates(env_, file, read_limits::kTrustedCa);
    if (!certs) {
      error(item.value_pos, fmt::format("{}: {}", item.name(), certs.error().message));
      continue;
    }
    for (pki::Certificate& c : *certs) {
      all.push_back(std::move(c));
      origin.push_back(i);
    }
  }
  for (const pki::Finding& finding : pki::check_ca_set(all, env_.now())) {
    SourcePos pos = at("spec.trustedCAs.certificates");
    std::string where = "spec.trustedCAs.certificates";
    if (finding.index && *finding.index < origin.size()) {
      const Field& item = trusted_ca_fields_[origin[*finding.index]];
      pos = item.value_pos;
      where = item.name();
    }
    std::string msg = fmt::format("{}: {} [{}]", where, finding.message, finding.id);
    if (finding.severity == Severity::kError)
      error(pos, std::move(msg));
    else
      warning(pos, std::move(msg));
  }
}

void Decoder::check_crl_file(const std::string& key, const std::string& file) {
  auto data = env_.read_file(file, read_limits::kCrl);
  if (!data) {
    error(at(key),
          fmt::format("{}: cannot read the CRL file: {}", display(key), data.error().message));
    return;
  }
  if (data->empty()) {
    error(at(key), fmt::format("{}: '{}' is empty", display(key), file));
    return;
  }
  if (data->size() >= kMaxCrlFileBytes) {
    error(at(key), fmt::format("{}: '{}' is {} bytes; Expressway accepts manual CRL files under "
                               "16 MB",
                               display(key), file, data->size()));
    return;
  }
  // PEM or DER, one or more CRLs: what the node accepts for a manual upload.
  auto crls = pki::Crl::parse_all(*data, file);
  if (!crls)
    error(at(key), fmt::format("{}: not a valid CRL file: {}", display(key), crls.error().message));
}

void Decoder::check_pem_bundle_file(const std::string& key, const std::string& file) {
  auto data = env_.read_file(file, read_limits::kCaBundle);
  if (!data) {
    error(at(key), fmt::format("{}: {}", display(key), data.error().message));
    return;
  }
  auto certs = pki::Certificate::parse_all(*data, file);
  if (!certs) {
    error(at(key), fmt::format("{}: {}", display(key), certs.error().message));
    return;
  }
  // libcurl reads the bundle as PEM only: a DER file would fail every https
  // fetch at plan time instead of here.
  if (certs->empty() || data->find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    error(at(key), fmt::format("{}: '{}' holds no PEM certificate; give the CAs as PEM "
                               "(openssl x509 -inform der -in FILE -out FILE.pem converts one)",
                               display(key), file));
}

}  // namespace edgecert::schema::detail
