// Fuzz target "acme": what an ACME server sends, through the pure parsers of
// providers/acme/acme_wire.h. The first byte picks the document (directory,
// account, order, authorization, renewal information, or an HTTP response:
// status, headers and problem document); the rest is its body. For the
// response, the text up to the first blank line is "Name: value" header
// lines (the first line's first three digits, when digits, the status).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "providers/acme/acme_wire.h"
#include "providers/http/http_client.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using namespace edgecert;

http::Response response_from(std::string_view text) {
  http::Response r;
  r.status = 400;
  const auto end = text.find("\n\n");
  std::string_view head = text.substr(0, end);
  r.body = end == std::string_view::npos ? std::string() : std::string(text.substr(end + 2));
  bool first = true;
  while (!head.empty()) {
    const auto nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
    if (first && line.size() >= 3 && line[0] >= '0' && line[0] <= '9' && line[1] >= '0' &&
        line[1] <= '9' && line[2] >= '0' && line[2] <= '9') {
      r.status = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
      first = false;
      continue;
    }
    first = false;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (auto& ch : name)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(std::move(name), std::string(value));
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [choice, body] = fuzz::select(fuzz::as_text(data, size), 6);
  const std::string url = "https://acme.example/acme/x/1";
  switch (choice) {
    case 0:
      (void)acme::wire::parse_directory(body, "ACME GET /dir");
      break;
    case 1:
      (void)acme::wire::parse_account(body, url, "newAccount");
      break;
    case 2:
      (void)acme::wire::parse_order(body, url, "newOrder");
      break;
    case 3:
      (void)acme::wire::parse_authorization(body, url, "authorization");
      break;
    case 4:
      (void)acme::wire::parse_renewal_info(body, "renewalInfo");
      break;
    default: {
      const http::Response r = response_from(body);
      const acme::Problem p = acme::wire::parse_problem(r);
      (void)acme::wire::describe(p);
      (void)acme::wire::error_code(p, r.status);
      (void)acme::wire::retry_after(r);
      (void)acme::wire::links_with_rel(r, "alternate");
      (void)acme::wire::links_with_rel(r, "up");
      (void)acme::wire::url_path(r.header("location").value_or(""));
      break;
    }
  }
  return 0;
}
