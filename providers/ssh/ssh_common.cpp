#include <string.h>  // explicit_bzero

#include "providers/ssh/secret.h"
#include "providers/ssh/ssh_internal.h"

namespace edgecert::ssh {

bool Secret::equals(std::string_view other) const {
  // Length differences are not secret; equal lengths compare every byte.
  if (other.size() != data_.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < data_.size(); ++i) diff |= static_cast<unsigned char>(data_[i] ^ other[i]);
  return diff == 0;
}

void Secret::wipe() {
  // explicit_bzero is not optimised away. The whole capacity: a moved-from
  // short string is empty but keeps its characters in the inline buffer.
  explicit_bzero(data_.data(), data_.capacity());
  data_.clear();
}

std::string fingerprint(ssh_key key) {
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) != 0) return "(unknown)";
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
  ssh_clean_pubkey_hash(&hash);
  if (text == nullptr) return "(unknown)";
  std::string out(text);
  ssh_string_free_char(text);
  return out;
}

}  // namespace edgecert::ssh
