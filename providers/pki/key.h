// Private keys: generation, parsing, PEM export and safe storage (OpenSSL 3).
//
// Contract: key material lives only in a PrivateKey (freed with EVP_PKEY_free,
// which cleanses) or in a SecretString (cleansed with OPENSSL_cleanse when
// destroyed). Neither is copyable, neither prints itself, and no error message
// ever contains key bytes. Keys reach disk only through write_private_key:
// mode 0600, atomically, via Env::write_file_atomic.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "providers/base/env.h"
#include "providers/base/error.h"
#include "providers/pki/certificate.h"
#include "providers/pki/types.h"

namespace edgecert::pki {

// A string holding secret bytes; wiped on destruction and on move-from.
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string_view data);
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  SecretString(SecretString&& other) noexcept;
  SecretString& operator=(SecretString&& other) noexcept;
  ~SecretString();

  std::string_view view() const { return data_; }
  const std::string& str() const { return data_; }
  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }

 private:
  void wipe();
  std::string data_;
};

class CertificateRequest;

class PrivateKey {
 public:
  // Generates a fresh key: RSA 2048/4096 (any size >= 2048 is accepted for
  // tests) or ECDSA on P-256/P-384/P-521 (size 256/384/521).
  static Result<PrivateKey> generate(KeyAlgorithm algorithm, int size);
  // One unencrypted private key, PEM (PKCS#8, traditional RSA/EC) or DER.
  // An encrypted key is an error with code kPermission and a message saying
  // it is password protected; no passphrase is ever asked for.
  static Result<PrivateKey> parse(std::string_view data, const std::string& source);

  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  PrivateKey(PrivateKey&&) noexcept;
  PrivateKey& operator=(PrivateKey&&) noexcept;
  ~PrivateKey();

  KeyInfo info() const;  // type and size only
  // Unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), ending with "\n".
  Result<SecretString> to_pem() const;
  // Public half equals the certificate's / request's public key (EVP_PKEY_eq).
  bool matches(const Certificate& cert) const;
  bool matches(const CertificateRequest& csr) const;

  struct Impl;
  const Impl& impl() const { return *impl_; }
  explicit PrivateKey(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// What a private key file holds, without needing a passphrase.
struct KeyFile {
  std::string source;
  bool encrypted = false;         // password protected (PKCS#8 or legacy PEM)
  bool pem = false;               // PEM armoured (else DER)
  bool trailing_newline = false;  // PEM text ends with "\n" (Expressway MRA needs it)
  std::optional<PrivateKey> key;  // set unless encrypted
};

// Inspects a key file. Errors only when the data is not a private key at all
// (message "SOURCE: block N: ..."); an encrypted key is a successful result
// with `encrypted` set.
Result<KeyFile> inspect_private_key(std::string_view data, const std::string& source);

// Writes the key's PEM to `path` with mode 0600, atomically.
Status write_private_key(Env& env, const std::string& path, const PrivateKey& key);

// True when a key PEM file in `data` is encrypted (label or Proc-Type header).
bool is_encrypted_key_pem(std::string_view data);

}  // namespace edgecert::pki
