// libcurl implementation of HttpTransport.
#include <curl/curl.h>

#include <mutex>

#include <fmt/core.h>

#include "providers/rest/curl_util.h"

#include "providers/rest/http_transport.h"

namespace edgecert::rest {
namespace {

using curl::global_init;

using curl::append;
using curl::Slist;
using curl::write_body;

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(CurlTransportOptions o) : o_(std::move(o)), handle_(curl_easy_init()) {}
  ~CurlTransport() override {
    if (handle_) curl_easy_cleanup(handle_);
  }
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  bool ok() const { return handle_ != nullptr; }

  Result<HttpResponse> perform(const HttpRequest& req) override {
    CURL* h = handle_;
    // Reset drops the previous request's options but keeps live connections,
    // so requests share one keep-alive connection.
    curl_easy_reset(h);
    HttpResponse resp;
    char errbuf[CURL_ERROR_SIZE] = {0};
    const std::string url = fmt::format("https://{}:{}{}", o_.server_name, o_.port, req.path);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp.body);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(o_.connect_timeout.count() * 1000));
    auto total = req.timeout
                     ? *req.timeout
                     : std::chrono::duration_cast<std::chrono::milliseconds>(o_.request_timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::max<long long>(1, total.count())));

    // Connect to the endpoint's address but verify the peer FQDN (SNI and
    // certificate name): the endpoint may be an IP or a management alias.
    Slist connect_to;
    if (o_.host != o_.server_name) {
      append(connect_to, fmt::format("{}:{}:{}:{}", o_.server_name, o_.port, o_.host, o_.port));
      curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to.get());
    }

    if (o_.insecure) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
      if (o_.ca_bundle) {
        // Only the configured bundle: the system store must not widen trust.
        curl_easy_setopt(h, CURLOPT_CAINFO, o_.ca_bundle->c_str());
        curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
      }
    }

    curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(h, CURLOPT_USERNAME, o_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, o_.password.str().c_str());

    Slist headers;
    for (const auto& [k, v] : req.headers) append(headers, k + ": " + v);
    if (!req.content_type.empty()) append(headers, "Content-Type: " + req.content_type);
    append(headers, "Expect:");  // no 100-continue round trip for large uploads
    append(headers, "Accept: application/json, application/x-pem-file, */*");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

    if (req.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
      if (req.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      if (req.method == "POST" || !req.body.empty()) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      }
    }
    if (req.capture_peer_chain) {
      curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
      curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
      // A resumed TLS session shows the certificate of the session's first
      // handshake, not what the node serves now.
      curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
      curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    }
    if (req.method != "GET") {
      // libcurl silently re-sends a request once when a reused connection
      // dies before any reply; a state-changing request must never be sent
      // twice behind the caller's back, so it always gets its own connection
      // (closed afterwards, so idle connections do not pile up on the node).
      curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
      curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    }

    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) return std::unexpected(transport_error(rc, errbuf));

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
    if (req.capture_peer_chain) {
      curl_certinfo* info = nullptr;
      curl_easy_getinfo(h, CURLINFO_CERTINFO, &info);
      if (info) {
        for (int i = 0; i < info->num_of_certs; ++i) {
          for (curl_slist* s = info->certinfo[i]; s; s = s->next) {
            std::string_view line(s->data);
            if (line.rfind("Cert:", 0) == 0) resp.peer_chain.emplace_back(line.substr(5));
          }
        }
      }
    }
    return resp;
  }

 private:
  static Error transport_error(CURLcode rc, const char* errbuf) {
    std::string detail = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    detail += fmt::format(" (curl {})", static_cast<int>(rc));
    switch (rc) {
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
        return Error{ErrorCode::kPermission,
                     "TLS verification failed: the node's certificate does not verify against "
                     "access.caBundle for the peer FQDN: " +
                         detail};
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_CONNECT:
        return Error{ErrorCode::kUnavailable, "cannot connect: " + detail};
      case CURLE_OPERATION_TIMEDOUT:
        return Error{ErrorCode::kUnavailable, "timed out: " + detail};
      case CURLE_GOT_NOTHING:
      case CURLE_RECV_ERROR:
      case CURLE_SEND_ERROR:
      case CURLE_PARTIAL_FILE:
        return Error{ErrorCode::kUnavailable, "connection dropped without a reply: " + detail};
      case CURLE_SSL_CONNECT_ERROR:
        return Error{ErrorCode::kUnavailable, "TLS handshake failed: " + detail};
      default:
        return Error{ErrorCode::kUnavailable, "request failed: " + detail};
    }
  }

  CurlTransportOptions o_;
  CURL* handle_;
};

}  // namespace

Result<std::unique_ptr<HttpTransport>> make_curl_transport(CurlTransportOptions options) {
  global_init();
  auto t = std::make_unique<CurlTransport>(std::move(options));
  if (!t->ok()) return make_error(ErrorCode::kInternal, "cannot initialise libcurl");
  return std::unique_ptr<HttpTransport>(std::move(t));
}

}  // namespace edgecert::rest
