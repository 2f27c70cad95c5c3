// libcurl plumbing shared by the HTTP transports (providers/rest for nodes,
// providers/acme for ACME servers): process-wide initialisation, a body sink
// and an owning header list. Private to transport .cpp files.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <string>

namespace edgecert::curl {

// curl_global_init exactly once per process (it is not thread-safe itself).
inline void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// CURLOPT_WRITEFUNCTION appending to the std::string in CURLOPT_WRITEDATA.
inline size_t write_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// Appends a header line; on allocation failure the list is left as it was.
inline void append(Slist& list, const std::string& line) {
  curl_slist* l = curl_slist_append(list.get(), line.c_str());
  if (l) {
    (void)list.release();
    list.reset(l);
  }
}

}  // namespace edgecert::curl
