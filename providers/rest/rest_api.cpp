#include "providers/rest/rest_api.h"

#include <fmt/core.h>

namespace edgecert::rest {

using nlohmann::json;

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kPermission:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string message_of(std::string_view body) {
  try {
    json j = json::parse(body);
    if (j.is_object() && j.contains("Message") && j["Message"].is_string())
      return j["Message"].get<std::string>();
  } catch (const std::exception&) {
  }
  std::string s(body);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  // A proxy's HTML error page can be long; a message only needs its start.
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s.empty() ? std::string("(empty reply)") : s;
}

namespace {

template <class T, class F>
Result<T> decode(std::string_view body, const char* what, F&& f) {
  try {
    return f(json::parse(body));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, fmt::format("malformed {} JSON: {}", what, e.what()));
  }
}

const char* on_off(bool b) {
  return b ? "On" : "Off";
}
bool from_on_off(const json& j, const char* field) {
  const std::string s = j.at(field).get<std::string>();
  if (s == "On") return true;
  if (s == "Off") return false;
  throw std::runtime_error(fmt::format("{} must be On or Off, not '{}'", field, s));
}

json revocation_json(const spec::RevocationChecking& r) {
  return json{{"Mode", on_off(r.enabled)},
              {"OcspMode", on_off(r.ocsp)},
              {"CrlMode", on_off(r.crl)},
              {"CrlNetworkFetchMode", on_off(r.cdp_downloads)},
              {"SourceInaccessibilityBehavior",
               r.fallback == spec::RevocationFallback::kTreatAsRevoked ? "Fail" : "Ignore"}};
}

spec::RevocationChecking revocation_from(const json& j) {
  spec::RevocationChecking r;
  r.enabled = from_on_off(j, "Mode");
  r.ocsp = from_on_off(j, "OcspMode");
  r.crl = from_on_off(j, "CrlMode");
  r.cdp_downloads = from_on_off(j, "CrlNetworkFetchMode");
  const std::string f = j.at("SourceInaccessibilityBehavior").get<std::string>();
  if (f != "Fail" && f != "Ignore")
    throw std::runtime_error("SourceInaccessibilityBehavior must be Fail or Ignore, not '" + f +
                             "'");
  r.fallback = f == "Fail" ? spec::RevocationFallback::kTreatAsRevoked
                           : spec::RevocationFallback::kTreatAsNotRevoked;
  return r;
}

}  // namespace

json encode_revocation(const spec::RevocationChecking& s) {
  return revocation_json(s);
}
Result<spec::RevocationChecking> decode_revocation(std::string_view body) {
  return decode<spec::RevocationChecking>(body, "revocation checking",
                                          [](const json& j) { return revocation_from(j); });
}

}  // namespace edgecert::rest
