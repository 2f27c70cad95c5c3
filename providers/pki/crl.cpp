#include "providers/pki/crl.h"

#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/core.h>

#include "providers/pki/key.h"
#include "providers/pki/ossl.h"

namespace edgecert::pki {

Crl::Crl(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Crl::Crl(const Crl& other) : impl_(std::make_unique<Impl>()) {
  X509_CRL_up_ref(other.impl_->crl.get());
  impl_->crl.reset(other.impl_->crl.get());
}
Crl& Crl::operator=(const Crl& other) {
  if (this != &other) {
    Crl copy(other);
    impl_ = std::move(copy.impl_);
  }
  return *this;
}
Crl::Crl(Crl&&) noexcept = default;
Crl& Crl::operator=(Crl&&) noexcept = default;
Crl::~Crl() = default;

Crl wrap_crl(ossl::X509CrlPtr crl) {
  auto impl = std::make_unique<Crl::Impl>();
  impl->crl = std::move(crl);
  return Crl(std::move(impl));
}

namespace {

// RFC 5280 §5.3.1 CRLReason names by code (7 is unused).
constexpr std::array<std::string_view, 11> kCrlReasonNames{
    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",    "cessationOfOperation", "certificateHold", "",
    "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};

std::string reason_of(const X509_REVOKED* r) {
  int critical = 0;
  ossl::Asn1EnumeratedPtr e(static_cast<ASN1_ENUMERATED*>(
      X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &critical, nullptr)));
  if (!e) {
    ERR_clear_error();
    return {};
  }
  long code = ASN1_ENUMERATED_get(e.get());
  if (code >= 0 && code < static_cast<long>(kCrlReasonNames.size()) &&
      !kCrlReasonNames[static_cast<size_t>(code)].empty()) {
    return std::string(kCrlReasonNames[static_cast<size_t>(code)]);
  }
  return fmt::format("reasonCode {}", code);
}

std::optional<long> reason_code(std::string_view name) {
  for (size_t i = 0; i < kCrlReasonNames.size(); ++i) {
    if (!name.empty() && kCrlReasonNames[i] == name) return static_cast<long>(i);
  }
  return std::nullopt;
}

RevokedEntry entry_of(const X509_REVOKED* r) {
  return {ossl::serial_hex(X509_REVOKED_get0_serialNumber(r)),
          ossl::asn1_time_to_timepoint(X509_REVOKED_get0_revocationDate(r)), reason_of(r)};
}

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

// The length of the DER element at the start of `der` (identifier + length
// octets + contents), or an error: the header cut short, BER's indefinite
// length, a length that does not fit. `der` is non-empty.
struct DerHeader {
  size_t header = 0;
  size_t total = 0;
};
Result<DerHeader> der_header(std::string_view der, const std::string& where, size_t base) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  if (der.size() < 2) {
    return std::unexpected(
        invalid(fmt::format("{}: truncated DER at offset {}: {} byte(s), "
                            "shorter than any DER header",
                            where, base + der.size(), der.size())));
  }
  unsigned char first = p[1];
  if (first < 0x80) return DerHeader{2, 2 + static_cast<size_t>(first)};
  if (first == 0x80) {
    return std::unexpected(invalid(fmt::format(
        "{}: indefinite length (BER) at offset {}: a CRL must be DER", where, base + 1)));
  }
  size_t n = first & 0x7f;
  if (n > 4) {
    return std::unexpected(invalid(
        fmt::format("{}: a DER length of {} octets at offset {}: not a CRL", where, n, base + 1)));
  }
  if (der.size() < 2 + n) {
    return std::unexpected(
        invalid(fmt::format("{}: truncated DER at offset {}: the length "
                            "octets are cut short",
                            where, base + der.size())));
  }
  size_t len = 0;
  for (size_t i = 0; i < n; ++i) len = (len << 8) | p[2 + i];
  return DerHeader{2 + n, 2 + n + len};
}

// Exactly one DER CRL filling `der` (found at `base` in the caller's data).
Result<Crl> parse_der_exact(std::string_view der, const std::string& where, size_t base) {
  const auto* start = reinterpret_cast<const unsigned char*>(der.data());
  if (start[0] != 0x30) {
    return std::unexpected(invalid(fmt::format(
        "{}: not a CRL (neither PEM nor DER: the data starts with byte 0x{:02X} at offset {}, "
        "not a DER SEQUENCE)",
        where, start[0], base)));
  }
  auto h = der_header(der, where, base);
  if (!h) return std::unexpected(h.error());
  if (h->total > der.size()) {
    return std::unexpected(invalid(
        fmt::format("{}: truncated DER at offset {}: the CRL's SEQUENCE announces {} bytes, the "
                    "data holds {}",
                    where, base + der.size(), h->total, der.size())));
  }
  if (h->total < der.size()) {
    size_t extra = der.size() - h->total;
    std::string what;
    std::string_view rest = der.substr(h->total);
    if (static_cast<unsigned char>(rest[0]) == 0x30) {
      auto next = der_header(rest, where, base + h->total);
      if (next && next->total == rest.size()) {
        what = " (another DER object: a DER file holds one CRL; use PEM for several)";
      }
    }
    return std::unexpected(
        invalid(fmt::format("{}: {} bytes of trailing data after the DER CRL at offset {}{}", where,
                            extra, base + h->total, what)));
  }
  ERR_clear_error();
  const unsigned char* p = start;
  ossl::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!crl) {
    return std::unexpected(
        invalid(ossl::with_errors(fmt::format("{}: not a CRL (a DER SEQUENCE of {} bytes that "
                                              "does not decode as a CRL)",
                                              where, der.size()))));
  }
  if (p != start + der.size()) {
    return std::unexpected(invalid(fmt::format(
        "{}: {} bytes of trailing data after the DER CRL at offset {}", where,
        static_cast<size_t>(start + der.size() - p), base + static_cast<size_t>(p - start))));
  }
  return wrap_crl(std::move(crl));
}

// The DER inside one PEM block (the base64 decoded, headers refused).
Result<std::string> pem_block_der(const PemBlock& b, const std::string& where) {
  ossl::BioPtr bio = ossl::mem_bio(b.text);
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  ERR_clear_error();
  int ok = PEM_read_bio(bio.get(), &name, &header, &data, &len);
  std::string der;
  bool has_header = header && *header;
  if (ok == 1 && data) der.assign(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (ok != 1) {
    return std::unexpected(invalid(ossl::with_errors(
        fmt::format("{}: not a CRL: the PEM block's base64 does not decode", where))));
  }
  if (has_header) {
    return std::unexpected(invalid(fmt::format("{}: not a CRL: the PEM block has headers", where)));
  }
  if (der.empty()) return std::unexpected(invalid(fmt::format("{}: an empty PEM block", where)));
  return der;
}

}  // namespace

Result<std::vector<Crl>> Crl::parse_all(std::string_view data, const std::string& source) {
  std::vector<Crl> out;
  if (data.empty()) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: empty input", source));
  }
  if (looks_like_pem(data)) {
    auto blocks = split_pem(data, source);
    if (!blocks) return std::unexpected(blocks.error());
    for (size_t i = 0; i < blocks->size(); ++i) {
      const PemBlock& b = (*blocks)[i];
      if (b.label != "X509 CRL") {
        return make_error(
            ErrorCode::kInvalidArgument,
            fmt::format("{}: block {}: not a CRL: PEM block is '{}'", source, i, b.label));
      }
      std::string where = fmt::format("{}: block {}", source, i);
      auto der = pem_block_der(b, where);
      if (!der) return std::unexpected(der.error());
      // Offsets inside a PEM block count bytes of its decoded DER.
      auto crl = parse_der_exact(*der, where, 0);
      if (!crl) return std::unexpected(crl.error());
      out.push_back(std::move(*crl));
    }
    if (out.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: no PEM blocks found", source));
    }
    return out;
  }
  auto crl = parse_der_exact(data, source, 0);
  if (!crl) return std::unexpected(crl.error());
  out.push_back(std::move(*crl));
  return out;
}

Result<Crl> Crl::create(const Certificate& ca, const PrivateKey& ca_key,
                        const CrlOptions& options) {
  ERR_clear_error();
  ossl::X509CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(raw(ca))) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot create CRL"));
  }
  ossl::Asn1TimePtr last(ASN1_TIME_set(nullptr, Clock::to_time_t(clamp_time(options.last_update))));
  ossl::Asn1TimePtr next(ASN1_TIME_set(nullptr, Clock::to_time_t(clamp_time(options.next_update))));
  if (!last || !next || X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      (!options.omit_next_update && X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1)) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot set CRL times"));
  }
  for (const RevokedEntry& r : options.revoked) {
    auto serial = ossl::serial_from_hex(r.serial_hex);
    if (!serial) return std::unexpected(serial.error());
    ossl::X509RevokedPtr rev(X509_REVOKED_new());
    ossl::Asn1TimePtr when(ASN1_TIME_set(nullptr, Clock::to_time_t(clamp_time(r.revoked_at))));
    if (!rev || !when || X509_REVOKED_set_serialNumber(rev.get(), serial->get()) != 1 ||
        X509_REVOKED_set_revocationDate(rev.get(), when.get()) != 1) {
      return make_error(ErrorCode::kInternal, ossl::with_errors("cannot add revoked entry"));
    }
    if (!r.reason.empty()) {
      auto code = reason_code(r.reason);
      if (!code) {
        return make_error(
            ErrorCode::kInvalidArgument,
            fmt::format("revoked entry {}: unknown reason '{}'", r.serial_hex, r.reason));
      }
      ossl::Asn1EnumeratedPtr e(ASN1_ENUMERATED_new());
      if (!e || ASN1_ENUMERATED_set(e.get(), *code) != 1 ||
          X509_REVOKED_add1_ext_i2d(rev.get(), NID_crl_reason, e.get(), 0, 0) != 1) {
        return make_error(ErrorCode::kInternal, ossl::with_errors("cannot add reasonCode"));
      }
    }
    if (X509_CRL_add0_revoked(crl.get(), rev.get()) != 1) {
      return make_error(ErrorCode::kInternal, ossl::with_errors("cannot add revoked entry"));
    }
    (void)rev.release();  // owned by the CRL now
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, raw(ca), nullptr, nullptr, crl.get(), 0);
  ossl::X509ExtPtr aki(
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid,issuer"));
  if (!aki || X509_CRL_add_ext(crl.get(), aki.get(), -1) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot add CRL AKI"));
  }
  ossl::Asn1IntegerPtr number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set(number.get(), options.number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot add CRL number"));
  }
  if (options.delta_base) {
    ossl::Asn1IntegerPtr base(ASN1_INTEGER_new());
    if (!base || ASN1_INTEGER_set(base.get(), *options.delta_base) != 1 ||
        X509_CRL_add1_ext_i2d(crl.get(), NID_delta_crl, base.get(), 1, 0) != 1) {
      return make_error(ErrorCode::kInternal, ossl::with_errors("cannot add deltaCRLIndicator"));
    }
  }
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), raw(ca_key), digest_md(options.digest)) <= 0) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot sign CRL"));
  }
  return wrap_crl(std::move(crl));
}

std::string Crl::issuer() const {
  return ossl::name_rfc2253(X509_CRL_get_issuer(impl_->crl.get()));
}
TimePoint Crl::last_update() const {
  return ossl::asn1_time_to_timepoint(X509_CRL_get0_lastUpdate(impl_->crl.get()));
}
std::optional<TimePoint> Crl::next_update() const {
  const ASN1_TIME* t = X509_CRL_get0_nextUpdate(impl_->crl.get());
  if (!t) return std::nullopt;
  return ossl::asn1_time_to_timepoint(t);
}
std::optional<std::string> Crl::number() const {
  ossl::Asn1IntegerPtr n(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(impl_->crl.get(), NID_crl_number, nullptr, nullptr)));
  if (!n) return std::nullopt;
  return ossl::serial_hex(n.get());
}
std::string Crl::signature_algorithm() const {
  const char* ln = OBJ_nid2ln(X509_CRL_get_signature_nid(impl_->crl.get()));
  return ln ? ln : "unknown";
}
std::vector<RevokedEntry> Crl::revoked() const {
  std::vector<RevokedEntry> out;
  STACK_OF(X509_REVOKED)* revs = X509_CRL_get_REVOKED(impl_->crl.get());
  int n = sk_X509_REVOKED_num(revs);
  out.reserve(static_cast<size_t>(std::max(n, 0)));
  for (int i = 0; i < n; ++i) out.push_back(entry_of(sk_X509_REVOKED_value(revs, i)));
  return out;
}
std::size_t Crl::entry_count() const {
  int n = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(impl_->crl.get()));
  return n > 0 ? static_cast<size_t>(n) : 0;
}

namespace {

bool key_less(const CrlSerialKey& a, const CrlSerialKey& b) {
  if (a.negative != b.negative) return a.negative;  // any order, as long as it is total
  if (a.length != b.length) return a.length < b.length;
  return std::memcmp(a.bytes, b.bytes, a.length) < 0;
}

CrlSerialKey key_of(const X509_REVOKED* entry) {
  const ASN1_INTEGER* serial = X509_REVOKED_get0_serialNumber(entry);
  const unsigned char* d = ASN1_STRING_get0_data(serial);
  auto len = static_cast<size_t>(std::max(ASN1_STRING_length(serial), 0));
  while (len > 0 && *d == 0) {
    ++d;
    --len;
  }
  return {d, static_cast<std::uint32_t>(len), ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER,
          entry};
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "01AB", "1ab", "01:AB", "-05" -> magnitude bytes without leading zeros;
// nullopt for anything that is not hex.
std::optional<std::pair<std::string, bool>> serial_bytes(std::string_view hex) {
  bool negative = !hex.empty() && hex.front() == '-';
  if (negative) hex.remove_prefix(1);
  std::string digits;
  for (char c : hex) {
    if (c == ':') continue;
    if (hex_digit(c) < 0) return std::nullopt;
    if (digits.empty() && c == '0') continue;
    digits.push_back(c);
  }
  if (digits.size() % 2) digits.insert(digits.begin(), '0');
  std::string bytes;
  bytes.reserve(digits.size() / 2);
  for (size_t i = 0; i < digits.size(); i += 2) {
    bytes.push_back(static_cast<char>(hex_digit(digits[i]) * 16 + hex_digit(digits[i + 1])));
  }
  return std::make_pair(std::move(bytes), negative);
}

}  // namespace

std::optional<RevokedEntry> Crl::find_revoked(std::string_view serial_hex) const {
  auto query = serial_bytes(serial_hex);
  if (!query) return std::nullopt;
  const Impl& impl = *impl_;
  std::call_once(impl.index_once, [&] {
    STACK_OF(X509_REVOKED)* revs = X509_CRL_get_REVOKED(impl.crl.get());
    int n = sk_X509_REVOKED_num(revs);
    impl.index.reserve(static_cast<size_t>(std::max(n, 0)));
    for (int i = 0; i < n; ++i) impl.index.push_back(key_of(sk_X509_REVOKED_value(revs, i)));
    // Stable: of duplicate serials, the first listed wins.
    std::stable_sort(impl.index.begin(), impl.index.end(), key_less);
  });
  CrlSerialKey wanted{reinterpret_cast<const unsigned char*>(query->first.data()),
                      static_cast<std::uint32_t>(query->first.size()), query->second, nullptr};
  auto it = std::lower_bound(impl.index.begin(), impl.index.end(), wanted, key_less);
  if (it == impl.index.end() || key_less(wanted, *it)) return std::nullopt;
  return entry_of(it->entry);
}

bool Crl::is_delta() const {
  return X509_CRL_get_ext_by_NID(impl_->crl.get(), NID_delta_crl, -1) >= 0;
}
std::optional<std::string> Crl::delta_base_number() const {
  ossl::Asn1IntegerPtr n(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(impl_->crl.get(), NID_delta_crl, nullptr, nullptr)));
  if (!n) {
    ERR_clear_error();
    return std::nullopt;
  }
  return ossl::serial_hex(n.get());
}
bool Crl::is_signed_by(const Certificate& issuer_cert) const {
  EVP_PKEY* key = X509_get0_pubkey(raw(issuer_cert));
  bool ok = key && X509_CRL_verify(impl_->crl.get(), key) == 1;
  ossl::drain_errors();
  return ok;
}
std::string Crl::to_pem() const {
  ossl::BioPtr bio = ossl::new_mem_bio();
  PEM_write_bio_X509_CRL(bio.get(), impl_->crl.get());
  return ossl::bio_contents(bio.get());
}
std::string Crl::to_der() const {
  return ossl::der_of(impl_->crl.get(), i2d_X509_CRL);
}

}  // namespace edgecert::pki
