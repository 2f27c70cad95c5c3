#include "providers/pki/key.h"

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/pem.h>

#include <fmt/core.h>

#include "providers/pki/csr.h"
#include "providers/pki/ossl.h"

namespace edgecert::pki {

// ---- SecretString ----------------------------------------------------------

SecretString::SecretString(std::string_view data) : data_(data) {}

SecretString::SecretString(SecretString&& other) noexcept : data_(std::move(other.data_)) {
  other.wipe();
}

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    wipe();
    data_ = std::move(other.data_);
    other.wipe();
  }
  return *this;
}

SecretString::~SecretString() {
  wipe();
}

void SecretString::wipe() {
  // Cleanse the whole buffer (capacity), not just size(): a moved-from or
  // shrunk string may still hold bytes past its end.
  if (data_.capacity() > 0) {
    data_.resize(data_.capacity());
    OPENSSL_cleanse(data_.data(), data_.size());
  }
  data_.clear();
}

// ---- PrivateKey ------------------------------------------------------------

namespace {

// Refuses every passphrase request, so an encrypted key fails to decode
// instead of prompting on the terminal.
int refuse_passphrase(char*, size_t, size_t*, const OSSL_PARAM[], void*) {
  return 0;
}

// Decodes one unencrypted private key from PEM text or DER bytes.
ossl::EvpPkeyPtr decode_key(std::string_view data, const char* input_type) {
  EVP_PKEY* pkey = nullptr;
  std::unique_ptr<OSSL_DECODER_CTX, ossl::Deleter<OSSL_DECODER_CTX_free>> dctx(
      OSSL_DECODER_CTX_new_for_pkey(&pkey, input_type, nullptr, nullptr, EVP_PKEY_KEYPAIR, nullptr,
                                    nullptr));
  if (!dctx) return nullptr;
  OSSL_DECODER_CTX_set_passphrase_cb(dctx.get(), refuse_passphrase, nullptr);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = data.size();
  if (OSSL_DECODER_from_data(dctx.get(), &p, &len) != 1) {
    EVP_PKEY_free(pkey);
    return nullptr;
  }
  return ossl::EvpPkeyPtr(pkey);
}

bool is_key_label(const std::string& label) {
  return label == "PRIVATE KEY" || label == "RSA PRIVATE KEY" || label == "EC PRIVATE KEY" ||
         label == "ENCRYPTED PRIVATE KEY" || label == "DSA PRIVATE KEY";
}

bool der_is_encrypted_pkcs8(std::string_view data) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
  std::unique_ptr<X509_SIG, ossl::Deleter<X509_SIG_free>> sig(
      d2i_X509_SIG(nullptr, &p, static_cast<long>(data.size())));
  ossl::drain_errors();
  return sig != nullptr;
}

Error encrypted_error(const std::string& source, size_t index) {
  return Error{ErrorCode::kPermission,
               fmt::format("{}: block {}: private key is password protected (encrypted); "
                           "Expressway needs an unencrypted key",
                           source, index)};
}

}  // namespace

PrivateKey::PrivateKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PrivateKey::PrivateKey(PrivateKey&&) noexcept = default;
PrivateKey& PrivateKey::operator=(PrivateKey&&) noexcept = default;
PrivateKey::~PrivateKey() = default;  // EVP_PKEY_free cleanses key material

PrivateKey wrap_private_key(ossl::EvpPkeyPtr pkey) {
  auto impl = std::make_unique<PrivateKey::Impl>();
  impl->pkey = std::move(pkey);
  return PrivateKey(std::move(impl));
}

Result<PrivateKey> PrivateKey::generate(KeyAlgorithm algorithm, int size) {
  ERR_clear_error();
  EVP_PKEY* pkey = nullptr;
  if (algorithm == KeyAlgorithm::kRsa) {
    if (size < 2048 || size > 16384) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("RSA key size {} is not supported", size));
    }
    pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(size));
  } else {
    const char* curve = size == 256   ? "P-256"
                        : size == 384 ? "P-384"
                        : size == 521 ? "P-521"
                                      : nullptr;
    if (!curve) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("ECDSA key size {} is not supported (256, 384 or 521)", size));
    }
    pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
  }
  if (!pkey) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("key generation failed"));
  }
  return wrap_private_key(ossl::EvpPkeyPtr(pkey));
}

Result<PrivateKey> PrivateKey::parse(std::string_view data, const std::string& source) {
  auto kf = inspect_private_key(data, source);
  if (!kf) return std::unexpected(kf.error());
  if (kf->encrypted) return std::unexpected(encrypted_error(source, 0));
  return std::move(*kf->key);
}

KeyInfo PrivateKey::info() const {
  return pkey_info(impl_->pkey.get());
}

Result<SecretString> PrivateKey::to_pem() const {
  std::unique_ptr<OSSL_ENCODER_CTX, ossl::Deleter<OSSL_ENCODER_CTX_free>> ectx(
      OSSL_ENCODER_CTX_new_for_pkey(impl_->pkey.get(), EVP_PKEY_KEYPAIR, "PEM", "PrivateKeyInfo",
                                    nullptr));
  if (!ectx || OSSL_ENCODER_CTX_get_num_encoders(ectx.get()) == 0) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("no PEM encoder for this key"));
  }
  unsigned char* buf = nullptr;
  size_t len = 0;
  if (OSSL_ENCODER_to_data(ectx.get(), &buf, &len) != 1) {
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot encode private key"));
  }
  SecretString out(std::string_view(reinterpret_cast<char*>(buf), len));
  OPENSSL_clear_free(buf, len);
  return out;
}

bool PrivateKey::matches(const Certificate& cert) const {
  EVP_PKEY* pub = X509_get0_pubkey(raw(cert));
  bool ok = pub && EVP_PKEY_eq(impl_->pkey.get(), pub) == 1;
  ossl::drain_errors();
  return ok;
}

bool PrivateKey::matches(const CertificateRequest& csr) const {
  EVP_PKEY* pub = X509_REQ_get0_pubkey(raw(csr));
  bool ok = pub && EVP_PKEY_eq(impl_->pkey.get(), pub) == 1;
  ossl::drain_errors();
  return ok;
}

// ---- Key files -------------------------------------------------------------

bool is_encrypted_key_pem(std::string_view data) {
  return data.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
         data.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

Result<KeyFile> inspect_private_key(std::string_view data, const std::string& source) {
  ERR_clear_error();
  KeyFile kf;
  kf.source = source;
  if (data.empty()) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("{}: empty input", source));
  }
  if (looks_like_pem(data)) {
    kf.pem = true;
    kf.trailing_newline = data.back() == '\n';
    auto blocks = split_pem(data, source);
    if (!blocks) return std::unexpected(blocks.error());
    for (size_t i = 0; i < blocks->size(); ++i) {
      const PemBlock& b = (*blocks)[i];
      if (!is_key_label(b.label)) continue;
      if (b.label == "ENCRYPTED PRIVATE KEY" || b.has_encrypted_header) {
        kf.encrypted = true;
        return kf;
      }
      ossl::EvpPkeyPtr pkey = decode_key(b.text, "PEM");
      if (!pkey) {
        return make_error(ErrorCode::kInvalidArgument,
                          ossl::with_errors(fmt::format(
                              "{}: block {}: cannot decode private key '{}'", source, i, b.label)));
      }
      kf.key = wrap_private_key(std::move(pkey));
      return kf;
    }
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: block 0: no private key among {} PEM block(s)", source, blocks->size()));
  }
  ossl::EvpPkeyPtr pkey = decode_key(data, "DER");
  if (pkey) {
    kf.key = wrap_private_key(std::move(pkey));
    return kf;
  }
  ossl::drain_errors();
  if (der_is_encrypted_pkcs8(data)) {
    kf.encrypted = true;
    return kf;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("{}: block 0: not a private key (neither PEM nor DER)", source));
}

Status write_private_key(Env& env, const std::string& path, const PrivateKey& key) {
  auto pem = key.to_pem();
  if (!pem) return std::unexpected(pem.error().with_context(path));
  return env.write_file_atomic(path, pem->str(), 0600);
}

}  // namespace edgecert::pki
