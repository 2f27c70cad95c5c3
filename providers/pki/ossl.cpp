#include "providers/pki/ossl.h"

#include <openssl/objects.h>
#include <openssl/pem.h>

#include <ctime>

#include <fmt/core.h>

namespace edgecert::pki {
namespace ossl {

std::string drain_errors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason ? reason : buf;
  }
  return out;
}

std::string with_errors(const std::string& what) {
  std::string e = drain_errors();
  return e.empty() ? what : what + ": " + e;
}

BioPtr mem_bio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

BioPtr new_mem_bio() {
  return BioPtr(BIO_new(BIO_s_mem()));
}

std::string bio_contents(BIO* bio) {
  char* p = nullptr;
  long n = BIO_get_mem_data(bio, &p);
  return n > 0 && p ? std::string(p, static_cast<size_t>(n)) : std::string();
}

std::string hex_colon(const unsigned char* data, size_t len) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(len * 3);
  for (size_t i = 0; i < len; ++i) {
    if (i) out += ':';
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0xF];
  }
  return out;
}

std::string hex_plain(const unsigned char* data, size_t len) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0xF];
  }
  return out;
}

std::string asn1_string_utf8(const ASN1_STRING* s) {
  if (!s) return {};
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) {
    drain_errors();
    return {};
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

namespace {
std::string print_name(const X509_NAME* name, unsigned long flags) {
  BioPtr bio = new_mem_bio();
  if (!bio || !name) return {};
  X509_NAME_print_ex(bio.get(), name, 0, flags);
  return bio_contents(bio.get());
}
}  // namespace

std::string name_rfc2253(const X509_NAME* name) {
  // XN_FLAG_RFC2253 escapes control characters but keeps UTF-8 readable.
  return print_name(name, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
}

std::string name_oneline(const X509_NAME* name) {
  return print_name(name, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
}

std::string name_cn(const X509_NAME* name) {
  if (!name) return {};
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  return asn1_string_utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
}

TimePoint asn1_time_to_timepoint(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
    drain_errors();
    return TimePoint{};
  }
  // Calendar arithmetic, not timegm: exact for every year GeneralizedTime can
  // carry (0001..9999), whatever time_t the platform has.
  auto when = time_from_civil(int64_t{tm.tm_year} + 1900, static_cast<unsigned>(tm.tm_mon + 1),
                              static_cast<unsigned>(tm.tm_mday), static_cast<unsigned>(tm.tm_hour),
                              static_cast<unsigned>(tm.tm_min), static_cast<unsigned>(tm.tm_sec));
  return when ? *when : TimePoint{};
}

std::string serial_hex(const ASN1_INTEGER* serial) {
  if (!serial) return {};
  // Same digits as i2a_ASN1_INTEGER (what `openssl x509 -serial` prints).
  const unsigned char* d = ASN1_STRING_get0_data(serial);
  int len = ASN1_STRING_length(serial);
  std::string out = ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER ? "-" : "";
  if (len <= 0) return out + "00";
  return out + hex_plain(d, static_cast<size_t>(len));
}

std::string oid_text(const ASN1_OBJECT* obj) {
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  if (n <= 0) return {};
  return std::string(buf, std::min(static_cast<size_t>(n), sizeof buf - 1));
}

std::string object_short_name(const ASN1_OBJECT* obj) {
  int nid = OBJ_obj2nid(obj);
  if (nid != NID_undef) {
    if (const char* sn = OBJ_nid2sn(nid)) return sn;
  }
  return oid_text(obj);
}

Result<Asn1IntegerPtr> serial_from_hex(const std::string& hex) {
  std::string digits;
  for (char c : hex)
    if (c != ':') digits += c;
  BIGNUM* bn_raw = nullptr;
  if (digits.empty() || BN_hex2bn(&bn_raw, digits.c_str()) != static_cast<int>(digits.size())) {
    BN_free(bn_raw);
    drain_errors();
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("'{}' is not a hexadecimal serial number", hex));
  }
  BignumPtr bn(bn_raw);
  Asn1IntegerPtr out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!out) return make_error(ErrorCode::kInternal, with_errors("cannot encode serial"));
  return out;
}

}  // namespace ossl

bool looks_like_pem(std::string_view data) {
  return data.find("-----BEGIN ") != std::string::npos;
}

Result<std::vector<PemBlock>> split_pem(std::string_view data, const std::string& source) {
  std::vector<PemBlock> blocks;
  size_t pos = 0;
  while (true) {
    size_t begin = data.find("-----BEGIN ", pos);
    if (begin == std::string_view::npos) break;
    size_t label_start = begin + 11;
    size_t label_end = data.find("-----", label_start);
    size_t eol = data.find('\n', label_start);
    if (label_end == std::string_view::npos || (eol != std::string_view::npos && eol < label_end)) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: block {}: malformed BEGIN line", source, blocks.size()));
    }
    std::string label(data.substr(label_start, label_end - label_start));
    std::string end_marker = "-----END " + label + "-----";
    size_t end = data.find(end_marker, label_end);
    if (end == std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: block {}: '-----BEGIN {}-----' has no matching END line",
                                    source, blocks.size(), label));
    }
    size_t stop = end + end_marker.size();
    PemBlock b;
    b.label = label;
    b.text = std::string(data.substr(begin, stop - begin)) + "\n";
    b.has_encrypted_header = b.text.find("Proc-Type: 4,ENCRYPTED") != std::string::npos;
    blocks.push_back(std::move(b));
    pos = stop;
  }
  return blocks;
}

const EVP_MD* digest_md(Digest d) {
  switch (d) {
    case Digest::kSha256:
      return EVP_sha256();
    case Digest::kSha384:
      return EVP_sha384();
    case Digest::kSha512:
      return EVP_sha512();
  }
  return EVP_sha256();
}

Certificate wrap_certificate(ossl::X509Ptr x509) {
  auto impl = std::make_unique<Certificate::Impl>();
  impl->x509 = std::move(x509);
  return Certificate(std::move(impl));
}

}  // namespace edgecert::pki
