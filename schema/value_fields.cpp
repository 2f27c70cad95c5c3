// Value syntaxes of spec fields: durations, times, days, names, FQDNs, file
// paths, secret references, URLs, e-mail addresses and time zones. Each
// getter reports a bad value as a positioned diagnostic and returns nothing.
#include <algorithm>

#include <fmt/core.h>

#include "providers/base/fqdn.h"
#include "providers/base/time.h"
#include "schema/decode_internal.h"
#include "schema/values.h"

namespace edgecert::schema::detail {
namespace {

bool is_env_var_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return all_of_chars(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
}

// A host name as used in URLs and listen addresses: an IP literal (IPv6 in
// brackets) or dot-separated labels of letters, digits and hyphens (single
// labels such as "localhost" are fine here; certificate names use check_fqdn).
bool is_host(std::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[') return host.back() == ']' && looks_like_ip_address(host);
  if (looks_like_ip_address(host)) return host.find(':') == std::string_view::npos;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !all_of_chars(label, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

bool is_simple_name(std::string_view s) {
  return !s.empty() && s.size() <= 63 && all_of_chars(s, "abcdefghijklmnopqrstuvwxyz0123456789-") &&
         s.front() != '-' && s.back() != '-';
}

bool split_host_port(std::string_view s, bool port_required, std::string* host_out,
                     std::string* why) {
  std::string_view host = s;
  std::string_view port;
  size_t colon = s.rfind(':');
  if (colon != std::string_view::npos && (s.front() != '[' || colon > s.find(']'))) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (!all_of_chars(port, "0123456789") || port.size() > 5 || std::stoi(std::string(port)) < 1 ||
        std::stoi(std::string(port)) > 65535) {
      *why = fmt::format("port '{}' is not a number from 1 to 65535", clip_for_message(port));
      return false;
    }
  } else if (port_required) {
    *why = "a port is required (HOST:PORT)";
    return false;
  }
  if (!is_host(host)) {
    *why = fmt::format("'{}' is not a valid host name or IP address", clip_for_message(host));
    return false;
  }
  if (host_out) *host_out = std::string(host);
  return true;
}

namespace {

struct Url {
  std::string scheme;
  std::string host;
};

// Absolute http(s) URL with a valid host and optional port and path.
std::optional<Url> parse_http_url(std::string_view s, std::string* why) {
  Url u;
  for (std::string_view scheme : {"https", "http"}) {
    if (s.substr(0, scheme.size() + 3) == std::string(scheme) + "://") {
      u.scheme = scheme;
      s.remove_prefix(scheme.size() + 3);
      break;
    }
  }
  if (u.scheme.empty()) {
    *why = "it must start with http:// or https://";
    return std::nullopt;
  }
  size_t end = s.find_first_of("/?#");
  std::string_view authority = s.substr(0, end);
  if (authority.find('@') != std::string_view::npos) {
    *why = "credentials in URLs are not allowed";
    return std::nullopt;
  }
  if (s.find_first_of(" \t") != std::string_view::npos) {
    *why = "it contains white space";
    return std::nullopt;
  }
  if (authority.empty() || !split_host_port(authority, false, &u.host, why)) {
    if (authority.empty()) *why = "it has no host";
    return std::nullopt;
  }
  return u;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

// local@domain with a plausible domain: a sanity check, not RFC 5322.
bool is_plausible_email(std::string_view s) {
  size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos)
    return false;
  std::string_view local = s.substr(0, at);
  if (local.find_first_of(" \t<>()[],;:\"") != std::string_view::npos) return false;
  return is_valid_fqdn(s.substr(at + 1));
}

}  // namespace

std::optional<std::chrono::seconds> Decoder::duration(const Field& f) {
  auto s = str(f);
  if (!s) return std::nullopt;
  auto d = parse_duration(*s);
  if (!d) {
    error(f.value_pos, fmt::format("{}: invalid duration '{}'; use a number with a unit d, h, m or "
                                   "s, e.g. 30d, 4h, 10m, 90s or 1h30m",
                                   f.name(), clip_for_message(*s)));
  }
  return d;
}

std::optional<int> Decoder::time_of_day(const Field& f) {
  auto s = str(f);
  if (!s) return std::nullopt;
  auto t = parse_time_of_day(*s);
  if (!t)
    error(f.value_pos,
          fmt::format("{}: invalid time '{}'; use HH:MM from 00:00 to 23:59 (quote it)", f.name(),
                      clip_for_message(*s)));
  return t;
}

std::vector<spec::Weekday> Decoder::days(const Field& f) {
  std::vector<spec::Weekday> out;
  std::vector<Field> items = seq(f);
  if (f.value.IsSequence() && items.empty())
    error(f.value_pos, fmt::format("{}: at least one day is required", f.name()));
  for (const Field& item : items) {
    auto s = str(item);
    if (!s) continue;
    auto d = parse_weekday(*s);
    if (!d) {
      error(item.value_pos, fmt::format("{}: invalid day '{}'; allowed values: mon, tue, wed, thu, "
                                        "fri, sat, sun",
                                        item.name(), clip_for_message(*s)));
      continue;
    }
    if (std::find(out.begin(), out.end(), *d) != out.end()) {
      error(item.value_pos,
            fmt::format("{}: day '{}' is listed twice", item.name(), clip_for_message(*s)));
      continue;
    }
    out.push_back(*d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool Decoder::weekly_time(const Map& m, const std::string& time_key,
                          std::vector<spec::Weekday>* out_days, int* minute) {
  require(m, "days");
  require(m, time_key);
  bool ok = m.ok && m.has("days") && m.has(time_key);
  if (const Field* d = m.get("days")) {
    *out_days = days(*d);
    if (out_days->empty()) ok = false;
  }
  if (const Field* t = m.get(time_key)) {
    if (auto value = time_of_day(*t))
      *minute = *value;
    else
      ok = false;
  }
  return ok;
}

std::optional<std::string> Decoder::simple_name(const Field& f) {
  auto s = str(f);
  if (!s) return std::nullopt;
  if (!is_simple_name(*s)) {
    error(f.value_pos, fmt::format("{}: '{}' must be 1 to 63 lower-case letters, digits and "
                                   "hyphens, not starting or ending with a hyphen",
                                   f.name(), clip_for_message(*s)));
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> Decoder::fqdn(const Field& f) {
  auto s = str(f);
  if (!s) return std::nullopt;
  FqdnProblem p = check_fqdn(*s);
  if (p != FqdnProblem::kOk) {
    error(f.value_pos, fmt::format("{}: {}", f.name(), describe_fqdn_problem(*s, p)));
    return std::nullopt;
  }
  return s;
}

std::vector<std::string> Decoder::fqdn_list(const Field& f) {
  std::vector<std::string> out;
  std::map<std::string, SourcePos> seen;
  for (const Field& item : seq(f)) {
    auto name = fqdn(item);
    if (!name) continue;
    std::string lower = to_lower_ascii(*name);
    if (auto it = seen.find(lower); it != seen.end()) {
      error(item.value_pos, fmt::format("{}: '{}' is listed twice (first at line {})", item.name(),
                                        clip_for_message(*name), it->second.line));
      continue;
    }
    seen[lower] = item.value_pos;
    out.push_back(*name);
  }
  return out;
}

std::optional<std::string> Decoder::file_path(const Field& f, PathUse use) {
  auto s = str(f);
  if (!s) return std::nullopt;
  if (s->empty()) {
    error(f.value_pos, fmt::format("{}: the path is empty", f.name()));
    return std::nullopt;
  }
  std::string resolved = path_resolve(spec_.directory, *s);
  const std::string& root = options_.read_only_root;
  if (!root.empty() && use == PathUse::kWritten &&
      (resolved == root || resolved.starts_with(root + "/"))) {
    error(f.value_pos,
          fmt::format("{}: '{}' lies in the git commit the spec is read from (--git), where "
                      "nothing can be written: name a folder outside the repository by an "
                      "absolute path",
                      f.name(), clip_for_message(*s)));
    return std::nullopt;
  }
  if (!root.empty() && use == PathUse::kContent && path_is_absolute(resolved))
    warning(f.value_pos,
            fmt::format("{}: '{}' is read from this machine, not from the git commit (--git): "
                        "what it holds is not part of what was reviewed; keep it in the "
                        "repository and name it by a relative path",
                        f.name(), clip_for_message(*s)));
  return resolved;
}

std::optional<std::string> Decoder::ca_bundle(const Field& f) {
  auto p = file_path(f, PathUse::kContent);
  if (p && options_.check_files) check_certificate_file(f.path, *p);
  return p;
}

// "env:VAR" or "file:PATH" (PATH resolved). Only the reference is kept: the
// secret itself is used at apply time. With check_files, validation reads the
// file once through its cap (a device, FIFO or oversized file is refused
// here, positioned) and wipes what it read; a read error never holds the
// content, so nothing of the secret reaches a diagnostic.
std::optional<std::string> Decoder::secret_ref(const Field& f) {
  auto s = str(f, /*secret=*/true);
  if (!s) return std::nullopt;
  if (s->starts_with("env:")) {
    std::string var = s->substr(4);
    if (!is_env_var_name(var)) {
      error(f.value_pos, fmt::format("{}: '{}' is not a valid environment variable name (letters, "
                                     "digits and '_', not starting with a digit)",
                                     f.name(), clip_for_message(var)));
      return std::nullopt;
    }
    return s;
  }
  if (s->starts_with("file:")) {
    std::string file = s->substr(5);
    if (file.empty()) {
      error(f.value_pos, fmt::format("{}: 'file:' needs a path", f.name()));
      return std::nullopt;
    }
    std::string resolved = path_resolve(spec_.directory, file);
    if (options_.check_files && !env_.exists(resolved)) {
      error(f.value_pos,
            fmt::format("{}: file '{}' does not exist", f.name(), clip_for_message(resolved)));
    } else if (options_.check_files) {
      auto secret = env_.read_file(resolved, read_limits::kSecret);
      // The read error names the file and why in full (a long path stays
      // readable); the diagnostic cap bounds a hostile one.
      if (!secret)
        error(f.value_pos, fmt::format("{}: {}", f.name(), secret.error().message));
      else
        std::fill(secret->begin(), secret->end(), '\0');
    }
    return "file:" + resolved;
  }
  error(f.value_pos,
        fmt::format("{}: must be env:VARIABLE or file:PATH (the value is a reference, not the "
                    "secret itself)",
                    f.name()));
  return std::nullopt;
}

std::optional<std::string> Decoder::http_url(const Field& f, bool https_only) {
  auto s = str(f);
  if (!s) return std::nullopt;
  std::string why;
  auto u = parse_http_url(*s, &why);
  if (!u) {
    error(f.value_pos, fmt::format("{}: '{}' is not a valid http(s) URL: {}", f.name(),
                                   clip_for_message(*s), why));
    return std::nullopt;
  }
  if (https_only && u->scheme != "https" && !is_loopback_host(u->host)) {
    error(f.value_pos, fmt::format("{}: '{}' must be an https:// URL (http:// is accepted only for "
                                   "localhost and 127.0.0.1, for test servers)",
                                   f.name(), clip_for_message(*s)));
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> Decoder::email(const Field& f) {
  auto s = str(f);
  if (!s) return std::nullopt;
  if (!is_plausible_email(*s)) {
    error(f.value_pos,
          fmt::format("{}: '{}' is not a valid e-mail address", f.name(), clip_for_message(*s)));
    return std::nullopt;
  }
  return s;
}

bool Decoder::check_timezone(const Field& f, const std::string& zone) {
  if (is_known_time_zone(env_, zone)) return true;
  error(f.value_pos, fmt::format("{}: '{}' is not a known IANA time zone (e.g. UTC, Asia/Tokyo, "
                                 "Europe/Berlin)",
                                 f.name(), clip_for_message(zone)));
  return false;
}

}  // namespace edgecert::schema::detail
