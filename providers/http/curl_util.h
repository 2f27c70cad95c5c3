// libcurl plumbing of the HTTP client (curl_transport.cpp): process-wide
// initialisation, body and header sinks, an owning header list. Private to
// providers/http.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// Lower-case ASCII (header names compare case-insensitively).
inline std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// CURLOPT_HEADERFUNCTION filling the HeaderList in CURLOPT_HEADERDATA with
// (lower-cased name, value) pairs. A status line starts the list afresh, so
// only the final response's headers remain (not those of a 100 Continue).
inline size_t write_header(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<HeaderList*>(user);
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();
    return size * count;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  headers->emplace_back(lower_ascii(line.substr(0, colon)), std::string(value));
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
