#include "providers/pki/decode.h"

#include <fmt/core.h>

#include "providers/pki/ossl.h"

namespace edgecert::pki {

const char* object_kind_name(ObjectKind k) {
  switch (k) {
    case ObjectKind::kCertificate:
      return "certificate";
    case ObjectKind::kCertificateRequest:
      return "csr";
    case ObjectKind::kCrl:
      return "crl";
    case ObjectKind::kPrivateKey:
      return "private-key";
  }
  return "?";
}

namespace {

// Re-labels a single-object parser's error ("block 0") with the real index.
Error at_block(Error e, const std::string& source, size_t index) {
  std::string prefix = source + ": block 0: ";
  if (e.message.rfind(prefix, 0) == 0) {
    e.message = fmt::format("{}: block {}: {}", source, index, e.message.substr(prefix.size()));
  } else if (e.message.rfind(source + ": ", 0) != 0) {
    e.message = fmt::format("{}: block {}: {}", source, index, e.message);
  }
  return e;
}

}  // namespace

Result<std::vector<DecodedObject>> decode_objects(std::string_view data,
                                                  const std::string& source) {
  std::vector<DecodedObject> out;
  if (data.empty()) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: block 0: empty file", source));
  }
  if (looks_like_pem(data)) {
    auto blocks = split_pem(data, source);
    if (!blocks) return std::unexpected(blocks.error());
    for (size_t i = 0; i < blocks->size(); ++i) {
      const PemBlock& b = (*blocks)[i];
      DecodedObject o;
      o.index = i;
      o.encoding = "PEM";
      const std::string& l = b.label;
      if (l == "CERTIFICATE" || l == "X509 CERTIFICATE" || l == "TRUSTED CERTIFICATE") {
        auto c = Certificate::parse_one(b.text, source);
        if (!c) return std::unexpected(at_block(c.error(), source, i));
        o.kind = ObjectKind::kCertificate;
        o.certificate = std::move(*c);
      } else if (l == "CERTIFICATE REQUEST" || l == "NEW CERTIFICATE REQUEST") {
        auto r = CertificateRequest::parse(b.text, source);
        if (!r) return std::unexpected(at_block(r.error(), source, i));
        o.kind = ObjectKind::kCertificateRequest;
        o.request = std::move(*r);
      } else if (l == "X509 CRL") {
        auto c = Crl::parse_all(b.text, source);
        if (!c) return std::unexpected(at_block(c.error(), source, i));
        o.kind = ObjectKind::kCrl;
        o.crl = std::move(c->front());
      } else if (l.size() >= 11 && l.compare(l.size() - 11, 11, "PRIVATE KEY") == 0) {
        // The trailing-newline property belongs to the whole file.
        std::string text = b.text;
        if (data.back() != '\n' && i + 1 == blocks->size()) text.pop_back();
        auto k = inspect_private_key(text, source);
        if (!k) return std::unexpected(at_block(k.error(), source, i));
        o.kind = ObjectKind::kPrivateKey;
        o.key = std::move(*k);
      } else {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("{}: block {}: unsupported PEM block '{}'", source, i, l));
      }
      out.push_back(std::move(o));
    }
    if (out.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: block 0: no PEM blocks found", source));
    }
    return out;
  }
  // DER: try each type; the first that consumes the data wins.
  DecodedObject o;
  o.encoding = "DER";
  if (auto c = Certificate::parse_one(data, source)) {
    o.kind = ObjectKind::kCertificate;
    o.certificate = std::move(*c);
  } else if (auto r = CertificateRequest::parse(data, source)) {
    o.kind = ObjectKind::kCertificateRequest;
    o.request = std::move(*r);
  } else if (auto l = Crl::parse_all(data, source)) {
    o.kind = ObjectKind::kCrl;
    o.crl = std::move(l->front());
  } else if (auto k = inspect_private_key(data, source)) {
    o.kind = ObjectKind::kPrivateKey;
    o.key = std::move(*k);
  } else {
    ossl::drain_errors();
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: block 0: not a certificate, certificate request, CRL or "
                                  "private key (neither PEM nor DER)",
                                  source));
  }
  ossl::drain_errors();
  out.push_back(std::move(o));
  return out;
}

}  // namespace edgecert::pki
