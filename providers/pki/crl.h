// Certificate revocation lists: parsing, inspection and (for tests, the
// simulator and a local CA) creation.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/pki/certificate.h"
#include "providers/pki/types.h"

namespace edgecert::pki {

class PrivateKey;

struct RevokedEntry {
  std::string serial_hex;  // upper-case hex
  TimePoint revoked_at;
  // The entry's reasonCode in RFC 5280's ASN.1 spelling ("keyCompromise",
  // "cACompromise", "certificateHold", ...); "" when the entry has none.
  std::string reason{};
};

struct CrlOptions {
  // An entry's `reason` (RFC 5280 name, "" = none) becomes its reasonCode.
  std::vector<RevokedEntry> revoked;
  TimePoint last_update;
  TimePoint next_update;
  bool omit_next_update = false;  // RFC 5280 requires it; tests build CRLs without
  long number = 1;                // cRLNumber extension
  // Set: a delta CRL whose critical deltaCRLIndicator names this base number.
  std::optional<long> delta_base{};
  Digest digest = Digest::kSha256;
};

class Crl {
 public:
  // Every CRL in `data`: PEM blocks "X509 CRL" in order, or exactly one DER
  // CRL. Strict: bytes after the DER (trailing garbage, a second DER CRL) are
  // an error giving their count and offset, a DER cut short is an error
  // giving the offset where the data ends, and so is a PEM block whose
  // decoded DER is either; messages start with `source` (and "block <i>"
  // for PEM).
  static Result<std::vector<Crl>> parse_all(std::string_view data, const std::string& source);
  // Signs a v2 CRL as `ca` with `ca_key` (AKI and cRLNumber included).
  static Result<Crl> create(const Certificate& ca, const PrivateKey& ca_key,
                            const CrlOptions& options);

  Crl(const Crl& other);
  Crl& operator=(const Crl& other);
  Crl(Crl&&) noexcept;
  Crl& operator=(Crl&&) noexcept;
  ~Crl();

  std::string issuer() const;  // RFC 2253
  TimePoint last_update() const;
  std::optional<TimePoint> next_update() const;
  std::optional<std::string> number() const;  // cRLNumber, hex
  std::string signature_algorithm() const;
  std::vector<RevokedEntry> revoked() const;
  std::size_t entry_count() const;
  // The entry for a serial (upper-case hex, leading zeros ignored), found in
  // an index built on the first lookup (sorted serials: O(log n) per lookup,
  // never a scan of every entry); safe to call from several threads.
  std::optional<RevokedEntry> find_revoked(std::string_view serial_hex) const;
  // A delta CRL (deltaCRLIndicator, RFC 5280 §5.2.4) and its base CRL number.
  bool is_delta() const;
  std::optional<std::string> delta_base_number() const;  // hex
  bool is_signed_by(const Certificate& issuer) const;
  std::string to_pem() const;
  std::string to_der() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }
  explicit Crl(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgecert::pki
