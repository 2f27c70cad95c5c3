// libssh handles with their destructors and key fingerprints, shared by the
// client and the server of this layer. Not part of the layer's contract.
#pragma once

#include <libssh/libssh.h>

#include <memory>
#include <string>

namespace edgecert::ssh {

struct KeyFree {
  void operator()(ssh_key k) const { ssh_key_free(k); }
};
using KeyPtr = std::unique_ptr<std::remove_pointer_t<ssh_key>, KeyFree>;

struct EntryFree {
  void operator()(ssh_knownhosts_entry* e) const { ssh_knownhosts_entry_free(e); }
};
using EntryPtr = std::unique_ptr<ssh_knownhosts_entry, EntryFree>;

// "SHA256:<base64>" as OpenSSH prints it; "(unknown)" when libssh cannot hash.
std::string fingerprint(ssh_key key);

}  // namespace edgecert::ssh
