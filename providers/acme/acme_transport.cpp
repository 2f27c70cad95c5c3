// libcurl implementation of AcmeTransport.
#include "providers/acme/acme_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include <fmt/core.h>

#include "providers/rest/curl_util.h"

namespace edgecert::acme {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

size_t write_header(char* data, size_t size, size_t count, void* user) {
  auto* resp = static_cast<AcmeHttpResponse*>(user);
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    resp->headers.clear();  // a new status line (redirect, 100): start afresh
    return size * count;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  resp->headers.emplace_back(lower(line.substr(0, colon)), std::string(value));
  return size * count;
}

using curl::append;
using curl::Slist;
using curl::write_body;

class CurlAcmeTransport final : public AcmeTransport {
 public:
  explicit CurlAcmeTransport(AcmeCurlOptions o) : o_(std::move(o)), h_(curl_easy_init()) {}
  ~CurlAcmeTransport() override {
    if (h_) curl_easy_cleanup(h_);
  }
  CurlAcmeTransport(const CurlAcmeTransport&) = delete;
  CurlAcmeTransport& operator=(const CurlAcmeTransport&) = delete;
  bool ok() const { return h_ != nullptr; }

  Result<AcmeHttpResponse> perform(const AcmeHttpRequest& req) override {
    curl_easy_reset(h_);  // keeps the connection cache
    AcmeHttpResponse resp;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h_, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h_, CURLOPT_PROTOCOLS_STR,
                     acme_url_allows_plain_http(req.url) ? "https,http" : "https");
    curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(h_, CURLOPT_WRITEDATA, &resp.body);
    curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, write_header);
    curl_easy_setopt(h_, CURLOPT_HEADERDATA, &resp);
    curl_easy_setopt(h_, CURLOPT_USERAGENT, o_.user_agent.c_str());
    curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(o_.connect_timeout.count() * 1000));
    curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, static_cast<long>(o_.request_timeout.count() * 1000));
    curl_easy_setopt(h_, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h_, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_blob blob{};
    if (o_.ca_pem) {
      blob = curl_blob{o_.ca_pem->data(), o_.ca_pem->size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(h_, CURLOPT_CAINFO_BLOB, &blob);
      curl_easy_setopt(h_, CURLOPT_CAINFO, nullptr);
      curl_easy_setopt(h_, CURLOPT_CAPATH, nullptr);
    } else if (o_.ca_bundle) {
      curl_easy_setopt(h_, CURLOPT_CAINFO, o_.ca_bundle->c_str());
      curl_easy_setopt(h_, CURLOPT_CAPATH, nullptr);
    }
    Slist headers;
    if (!req.content_type.empty()) append(headers, "Content-Type: " + req.content_type);
    if (!req.accept.empty()) append(headers, "Accept: " + req.accept);
    append(headers, "Expect:");
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, headers.get());
    if (req.method == "HEAD") {
      curl_easy_setopt(h_, CURLOPT_NOBODY, 1L);
    } else if (req.method == "POST") {
      curl_easy_setopt(h_, CURLOPT_POST, 1L);
      curl_easy_setopt(h_, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    } else {
      curl_easy_setopt(h_, CURLOPT_HTTPGET, 1L);
    }
    CURLcode rc = curl_easy_perform(h_);
    if (rc != CURLE_OK) {
      std::string detail = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
      detail += fmt::format(" (curl {})", static_cast<int>(rc));
      if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
        return make_error(
            ErrorCode::kPermission,
            "TLS verification failed" +
                (o_.tls_failure_hint.empty() ? std::string() : " (" + o_.tls_failure_hint + ")") +
                ": " + detail);
      return make_error(ErrorCode::kUnavailable, "request failed: " + detail);
    }
    curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &resp.status);
    return resp;
  }

 private:
  AcmeCurlOptions o_;
  CURL* h_;
};

}  // namespace

bool acme_url_allows_plain_http(const std::string& url) {
  for (const char* prefix : {"http://localhost:", "http://localhost/", "http://127.0.0.1:",
                             "http://127.0.0.1/", "http://[::1]:", "http://[::1]/"})
    if (url.rfind(prefix, 0) == 0) return true;
  return false;
}

std::optional<std::string> AcmeHttpResponse::header(std::string_view name) const {
  std::string n = lower(name);
  for (const auto& [k, v] : headers)
    if (k == n) return v;
  return std::nullopt;
}

std::vector<std::string> AcmeHttpResponse::header_all(std::string_view name) const {
  std::string n = lower(name);
  std::vector<std::string> out;
  for (const auto& [k, v] : headers)
    if (k == n) out.push_back(v);
  return out;
}

Result<std::unique_ptr<AcmeTransport>> make_acme_curl_transport(AcmeCurlOptions options) {
  curl::global_init();
  auto t = std::make_unique<CurlAcmeTransport>(std::move(options));
  if (!t->ok()) return make_error(ErrorCode::kInternal, "cannot initialise libcurl");
  return std::unique_ptr<AcmeTransport>(std::move(t));
}

}  // namespace edgecert::acme
