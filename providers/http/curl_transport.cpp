// libcurl implementation of http::Transport, and Response's header lookup.
#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include <fmt/core.h>

#include "providers/http/curl_util.h"
#include "providers/http/http_client.h"

namespace edgecert::http {
namespace {

using curl::append;
using curl::Slist;

bool is_safe_method(const std::string& method) {
  return method == "GET" || method == "HEAD";
}

// The body sink with the size cap of ClientOptions::max_response_bytes.
struct BodySink {
  std::string* body;
  std::size_t limit;  // 0 = none
  bool exceeded = false;
};

size_t write_capped(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t n = size * count;
  if (sink->limit != 0 && sink->body->size() + n > sink->limit) {
    sink->exceeded = true;
    return 0;  // libcurl aborts the transfer (CURLE_WRITE_ERROR)
  }
  sink->body->append(data, n);
  return n;
}

bool is_loopback_http(const std::string& url) {
  for (const char* prefix : {"http://localhost:", "http://localhost/", "http://127.0.0.1:",
                             "http://127.0.0.1/", "http://[::1]:", "http://[::1]/"})
    if (url.rfind(prefix, 0) == 0) return true;
  return false;
}

// One connection pool for the process: every transport's easy handle takes
// its connections, DNS answers and TLS sessions from this share, so
// concurrent reads across nodes and clusters go over one cache, and a
// transport opened again for a node (the next cluster of a fleet, a
// re-read after a restart) finds the node's keep-alive connection. libcurl
// reuses a pooled connection only for a request whose TLS settings (trust,
// verification) match the ones it was made with. Created once, never freed:
// easy handles may outlive any owner.
std::mutex g_share_locks[CURL_LOCK_DATA_LAST];

void lock_share(CURL*, curl_lock_data data, curl_lock_access, void*) {
  g_share_locks[data].lock();
}
void unlock_share(CURL*, curl_lock_data data, void*) {
  g_share_locks[data].unlock();
}

CURLSH* shared_pool() {
  static CURLSH* share = [] {
    CURLSH* s = curl_share_init();
    if (!s) return s;
    curl_share_setopt(s, CURLSHOPT_LOCKFUNC, lock_share);
    curl_share_setopt(s, CURLSHOPT_UNLOCKFUNC, unlock_share);
    for (curl_lock_data d :
         {CURL_LOCK_DATA_CONNECT, CURL_LOCK_DATA_DNS, CURL_LOCK_DATA_SSL_SESSION})
      curl_share_setopt(s, CURLSHOPT_SHARE, d);
    return s;
  }();
  return share;
}

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(ClientOptions o) : o_(std::move(o)), h_(curl_easy_init()) {}
  ~CurlTransport() override {
    if (h_) curl_easy_cleanup(h_);
  }
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  bool ok() const { return h_ != nullptr; }

  Result<Response> perform(const Request& req) override {
    auto url = url_of(req.target);
    if (!url) return std::unexpected(url.error());
    // Reset drops the previous request's options but keeps live connections,
    // so requests share one keep-alive connection.
    curl_easy_reset(h_);
    if (CURLSH* pool = shared_pool()) curl_easy_setopt(h_, CURLOPT_SHARE, pool);
    Response resp;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h_, CURLOPT_URL, url->c_str());
    curl_easy_setopt(h_, CURLOPT_PROTOCOLS_STR, url->rfind("http://", 0) == 0 ? "http" : "https");
    curl_easy_setopt(h_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, errbuf);
    BodySink sink{&resp.body, o_.max_response_bytes};
    curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, write_capped);
    curl_easy_setopt(h_, CURLOPT_WRITEDATA, &sink);
    if (o_.max_response_bytes != 0)
      curl_easy_setopt(h_, CURLOPT_MAXFILESIZE_LARGE,
                       static_cast<curl_off_t>(o_.max_response_bytes));
    curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, curl::write_header);
    curl_easy_setopt(h_, CURLOPT_HEADERDATA, &resp.headers);
    if (!o_.user_agent.empty()) curl_easy_setopt(h_, CURLOPT_USERAGENT, o_.user_agent.c_str());
    curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(o_.connect_timeout.count() * 1000));
    auto total = req.timeout
                     ? *req.timeout
                     : std::chrono::duration_cast<std::chrono::milliseconds>(o_.request_timeout);
    curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::max<long long>(1, total.count())));

    Slist connect_to;
    if (!o_.connect_host.empty() && o_.connect_host != o_.server_name) {
      append(connect_to,
             fmt::format("{}:{}:{}:{}", o_.server_name, o_.port, o_.connect_host, o_.port));
      curl_easy_setopt(h_, CURLOPT_CONNECT_TO, connect_to.get());
    }

    curl_blob ca_blob{};
    set_trust(ca_blob);

    if (!o_.username.empty()) {
      curl_easy_setopt(h_, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      curl_easy_setopt(h_, CURLOPT_USERNAME, o_.username.c_str());
      curl_easy_setopt(h_, CURLOPT_PASSWORD, o_.password.str().c_str());
    }

    Slist headers;
    for (const auto& [k, v] : req.headers) append(headers, k + ": " + v);
    if (!req.content_type.empty()) append(headers, "Content-Type: " + req.content_type);
    if (!req.accept.empty()) append(headers, "Accept: " + req.accept);
    append(headers, "Expect:");  // no 100-continue round trip for large uploads
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, headers.get());

    if (req.method == "GET") {
      curl_easy_setopt(h_, CURLOPT_HTTPGET, 1L);
    } else if (req.method == "HEAD") {
      curl_easy_setopt(h_, CURLOPT_NOBODY, 1L);
    } else {
      if (req.method != "POST") curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      if (req.method == "POST" || !req.body.empty()) {
        curl_easy_setopt(h_, CURLOPT_POST, 1L);
        curl_easy_setopt(h_, CURLOPT_POSTFIELDS, req.body.data());
        curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      }
    }
    if (req.capture_peer_chain) {
      curl_easy_setopt(h_, CURLOPT_CERTINFO, 1L);
      curl_easy_setopt(h_, CURLOPT_FRESH_CONNECT, 1L);
      // A resumed TLS session shows the certificate of the session's first
      // handshake, not what the server presents now.
      curl_easy_setopt(h_, CURLOPT_SSL_SESSIONID_CACHE, 0L);
      curl_easy_setopt(h_, CURLOPT_FORBID_REUSE, 1L);
    }
    if (!is_safe_method(req.method) && !o_.reuse_connections_for_writes) {
      // See ClientOptions::reuse_connections_for_writes; closing the
      // connection afterwards keeps idle ones from piling up on the server.
      curl_easy_setopt(h_, CURLOPT_FRESH_CONNECT, 1L);
      curl_easy_setopt(h_, CURLOPT_FORBID_REUSE, 1L);
    }

    CURLcode rc = curl_easy_perform(h_);
    if (sink.exceeded || rc == CURLE_FILESIZE_EXCEEDED)
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("response larger than {} bytes", o_.max_response_bytes));
    if (rc != CURLE_OK) return std::unexpected(transport_error(rc, errbuf));

    curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &resp.status);
    if (req.capture_peer_chain) resp.peer_chain = peer_chain();
    return resp;
  }

 private:
  // The URL for a request target, or why the client may not reach it.
  Result<std::string> url_of(const std::string& target) const {
    if (target.rfind('/', 0) == 0) {
      if (o_.server_name.empty())
        return make_error(ErrorCode::kInvalidArgument,
                          "request failed: no server configured for " + target);
      return fmt::format("https://{}:{}{}", o_.server_name, o_.port, target);
    }
    if (target.rfind("https://", 0) == 0) return target;
    if (o_.allow_loopback_http && is_loopback_http(target)) return target;
    if (o_.allow_plain_http && target.rfind("http://", 0) == 0) return target;
    return make_error(
        ErrorCode::kInvalidArgument,
        "request failed: only https:// URLs are allowed" +
            std::string(o_.allow_loopback_http ? " (http:// only for loopback)" : "") + ": " +
            target);
  }

  // `blob` must outlive the request: libcurl keeps a pointer to it.
  void set_trust(curl_blob& blob) {
    if (o_.insecure) {
      curl_easy_setopt(h_, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h_, CURLOPT_SSL_VERIFYHOST, 0L);
      return;
    }
    curl_easy_setopt(h_, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h_, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o_.ca_pem) {
      blob = curl_blob{o_.ca_pem->data(), o_.ca_pem->size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(h_, CURLOPT_CAINFO_BLOB, &blob);
      curl_easy_setopt(h_, CURLOPT_CAINFO, nullptr);
      curl_easy_setopt(h_, CURLOPT_CAPATH, nullptr);
    }
  }

  std::vector<std::string> peer_chain() {
    std::vector<std::string> out;
    curl_certinfo* info = nullptr;
    curl_easy_getinfo(h_, CURLINFO_CERTINFO, &info);
    if (!info) return out;
    for (int i = 0; i < info->num_of_certs; ++i) {
      for (curl_slist* s = info->certinfo[i]; s; s = s->next) {
        std::string_view line(s->data);
        if (line.rfind("Cert:", 0) == 0) out.emplace_back(line.substr(5));
      }
    }
    return out;
  }

  Error transport_error(CURLcode rc, const char* errbuf) const {
    std::string detail = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    detail += fmt::format(" (curl {})", static_cast<int>(rc));
    switch (rc) {
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
        return Error{ErrorCode::kPermission,
                     "TLS verification failed: " +
                         (o_.tls_failure_hint.empty() ? "" : o_.tls_failure_hint + ": ") + detail};
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

  ClientOptions o_;
  CURL* h_;
};

}  // namespace

std::optional<std::string> Response::header(std::string_view name) const {
  const std::string n = curl::lower_ascii(name);
  for (const auto& [k, v] : headers)
    if (k == n) return v;
  return std::nullopt;
}

std::vector<std::string> Response::header_all(std::string_view name) const {
  const std::string n = curl::lower_ascii(name);
  std::vector<std::string> out;
  for (const auto& [k, v] : headers)
    if (k == n) out.push_back(v);
  return out;
}

Result<std::unique_ptr<Transport>> make_curl_transport(ClientOptions options, Env& env) {
  // The bundle is read here, bounded, and given to libcurl as text: a path
  // handed to libcurl would be read by it without a cap (/dev/urandom).
  if (options.ca_bundle && !options.ca_pem) {
    auto pem = env.read_file(*options.ca_bundle, read_limits::kCaBundle);
    if (!pem) return std::unexpected(pem.error());
    options.ca_pem = std::move(*pem);
  }
  curl::global_init();
  auto t = std::make_unique<CurlTransport>(std::move(options));
  if (!t->ok()) return make_error(ErrorCode::kInternal, "cannot initialise libcurl");
  return std::unique_ptr<Transport>(std::move(t));
}

}  // namespace edgecert::http
