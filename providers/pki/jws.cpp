// JWS signing with OpenSSL 3 EVP (no deprecated APIs).
#include "providers/pki/jws.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include <fmt/core.h>

#include "providers/pki/ossl.h"

namespace edgecert::pki {
namespace {

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

enum class KeyKind { kEs256, kEs384, kRs256, kOther };

struct EcInfo {
  const char* crv;
  size_t width;  // bytes per coordinate / per r and s
};

std::string group_name(EVP_PKEY* pk) {
  char name[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1)
    return "";
  return std::string(name, len);
}

KeyKind kind_of(EVP_PKEY* pk) {
  if (EVP_PKEY_is_a(pk, "EC")) {
    std::string g = group_name(pk);
    if (g == "prime256v1" || g == "P-256") return KeyKind::kEs256;
    if (g == "secp384r1" || g == "P-384") return KeyKind::kEs384;
    return KeyKind::kOther;
  }
  if (EVP_PKEY_is_a(pk, "RSA") && EVP_PKEY_get_bits(pk) >= 2048) return KeyKind::kRs256;
  return KeyKind::kOther;
}

EcInfo ec_info(KeyKind k) {
  return k == KeyKind::kEs256 ? EcInfo{"P-256", 32} : EcInfo{"P-384", 48};
}

Result<std::string> bn_param(EVP_PKEY* pk, const char* param, size_t pad_to) {
  BIGNUM* raw_bn = nullptr;
  if (EVP_PKEY_get_bn_param(pk, param, &raw_bn) != 1 || raw_bn == nullptr)
    return make_error(ErrorCode::kInternal,
                      ossl::with_errors(fmt::format("cannot read public key member {}", param)));
  ossl::BignumPtr bn(raw_bn);
  size_t n = static_cast<size_t>(BN_num_bytes(bn.get()));
  size_t width = pad_to > n ? pad_to : n;
  std::string out(width, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()),
                   static_cast<int>(width)) < 0)
    return make_error(ErrorCode::kInternal, "cannot encode public key member");
  return out;
}

Result<KeyKind> supported_kind(const PrivateKey& key) {
  KeyKind k = kind_of(raw(key));
  if (k == KeyKind::kOther)
    return make_error(ErrorCode::kInvalidArgument,
                      "unsupported JWS key: use ECDSA P-256/P-384 or RSA >= 2048");
  return k;
}

}  // namespace

std::string base64url_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t j) { return static_cast<unsigned>(static_cast<unsigned char>(data[j])); };
  for (; i + 3 <= data.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
    out += kB64Url[(v >> 6) & 63];
    out += kB64Url[v & 63];
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    unsigned v = byte(i) << 16;
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
  } else if (rest == 2) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
    out += kB64Url[(v >> 6) & 63];
  }
  return out;
}

Result<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return make_error(ErrorCode::kInvalidArgument, "bad base64url length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = b64_value(c);
    if (v < 0) return make_error(ErrorCode::kInvalidArgument, "bad base64url character");
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string sha256_raw(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

Result<std::string> jws_algorithm(const PrivateKey& key) {
  auto k = supported_kind(key);
  if (!k) return std::unexpected(k.error());
  switch (*k) {
    case KeyKind::kEs256:
      return std::string("ES256");
    case KeyKind::kEs384:
      return std::string("ES384");
    default:
      return std::string("RS256");
  }
}

Result<std::string> jwk_json(const PrivateKey& key) {
  auto k = supported_kind(key);
  if (!k) return std::unexpected(k.error());
  EVP_PKEY* pk = raw(key);
  if (*k == KeyKind::kRs256) {
    auto n = bn_param(pk, OSSL_PKEY_PARAM_RSA_N, 0);
    if (!n) return std::unexpected(n.error());
    auto e = bn_param(pk, OSSL_PKEY_PARAM_RSA_E, 0);
    if (!e) return std::unexpected(e.error());
    return fmt::format(R"({{"e":"{}","kty":"RSA","n":"{}"}})", base64url_encode(*e),
                       base64url_encode(*n));
  }
  EcInfo info = ec_info(*k);
  auto x = bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, info.width);
  if (!x) return std::unexpected(x.error());
  auto y = bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, info.width);
  if (!y) return std::unexpected(y.error());
  return fmt::format(R"({{"crv":"{}","kty":"EC","x":"{}","y":"{}"}})", info.crv,
                     base64url_encode(*x), base64url_encode(*y));
}

Result<std::string> jwk_thumbprint(const PrivateKey& key) {
  auto jwk = jwk_json(key);
  if (!jwk) return std::unexpected(jwk.error());
  return base64url_encode(sha256_raw(*jwk));
}

Result<std::string> jws_sign(const PrivateKey& key, std::string_view signing_input) {
  auto k = supported_kind(key);
  if (!k) return std::unexpected(k.error());
  const EVP_MD* md = *k == KeyKind::kEs384 ? EVP_sha384() : EVP_sha256();
  std::unique_ptr<EVP_MD_CTX, ossl::Deleter<EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, raw(key)) != 1)
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot start JWS signature"));
  size_t len = 0;
  auto in = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, signing_input.size()) != 1)
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot size JWS signature"));
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     signing_input.size()) != 1)
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot compute JWS signature"));
  sig.resize(len);
  if (*k == KeyKind::kRs256) return sig;

  // OpenSSL yields DER SEQUENCE{r, s}; JWS wants r||s, each left-padded to
  // the curve's width (RFC 7518 section 3.4).
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  std::unique_ptr<ECDSA_SIG, ossl::Deleter<ECDSA_SIG_free>> es(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!es)
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot decode ECDSA signature"));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(es.get(), &r, &s);
  size_t w = ec_info(*k).width;
  std::string out(2 * w, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, o, static_cast<int>(w)) < 0 ||
      BN_bn2binpad(s, o + w, static_cast<int>(w)) < 0)
    return make_error(ErrorCode::kInternal, "cannot encode ECDSA signature");
  return out;
}

Result<std::string> jws_flattened(const PrivateKey& key, std::string_view protected_json,
                                  std::string_view payload) {
  std::string prot = base64url_encode(protected_json);
  std::string pay = base64url_encode(payload);
  auto sig = jws_sign(key, prot + "." + pay);
  if (!sig) return std::unexpected(sig.error());
  return fmt::format(R"({{"protected":"{}","payload":"{}","signature":"{}"}})", prot, pay,
                     base64url_encode(*sig));
}

Result<std::string> hmac_sha256(const SecretString& key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.view().data(), key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
                out.size(), &len) == nullptr)
    return make_error(ErrorCode::kInternal, ossl::with_errors("cannot compute HMAC-SHA256"));
  std::string mac(reinterpret_cast<const char*>(out.data()), len);
  OPENSSL_cleanse(out.data(), out.size());
  return mac;
}

}  // namespace edgecert::pki
