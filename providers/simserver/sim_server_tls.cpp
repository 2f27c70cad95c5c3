// Each listener's TLS identity: the node's active certificate, chain and key,
// asked of SimNode (tls_identity) at every handshake, so that a certificate
// the node activates (restart, ACME deploy) is served from the next
// handshake on. The parsed OpenSSL objects are cached until SimNode reports
// another identity.
#include <openssl/pem.h>

#include "providers/simserver/sim_server_internal.h"

namespace edgecert::simserver::internal {

namespace {

void free_certs(std::vector<X509*>& certs) {
  for (X509* x : certs) X509_free(x);
  certs.clear();
}

}  // namespace

NodeServer::~NodeServer() {
  free_certs(certs);
  if (key) EVP_PKEY_free(key);
}

bool NodeServer::refresh_identity() {
  auto id = sim().tls_identity();
  if (!id) return !certs.empty();
  bool same = id->chain == chain_pems && same_secret(id->key.view(), key_pem.view());
  if (same && !certs.empty()) return true;
  std::vector<X509*> fresh;
  for (const std::string& pem : id->chain) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* x = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (!x) {
      free_certs(fresh);
      return !certs.empty();
    }
    fresh.push_back(x);
  }
  std::string_view kp = id->key.view();
  BIO* kbio = BIO_new_mem_buf(kp.data(), static_cast<int>(kp.size()));
  EVP_PKEY* k = kbio ? PEM_read_bio_PrivateKey(kbio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(kbio);
  if (!k || fresh.empty()) {
    free_certs(fresh);
    if (k) EVP_PKEY_free(k);
    return !certs.empty();
  }
  free_certs(certs);
  if (key) EVP_PKEY_free(key);
  certs = std::move(fresh);
  key = k;
  chain_pems = std::move(id->chain);
  key_pem = std::move(id->key);
  return true;
}

int NodeServer::cert_callback(SSL* ssl, void* arg) {
  auto* self = static_cast<NodeServer*>(arg);
  std::lock_guard lock(self->mu);
  if (!self->refresh_identity()) return 0;
  if (SSL_use_certificate(ssl, self->certs.front()) != 1) return 0;
  if (SSL_use_PrivateKey(ssl, self->key) != 1) return 0;
  SSL_clear_chain_certs(ssl);
  for (size_t i = 1; i < self->certs.size(); ++i) {
    if (SSL_add1_chain_cert(ssl, self->certs[i]) != 1) return 0;
  }
  return 1;
}

}  // namespace edgecert::simserver::internal
