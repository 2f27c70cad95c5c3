#include "providers/revocation/crl_unpack.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <memory>

#include <fmt/core.h>

namespace edgecert::revocation {

namespace {

std::unexpected<Error> invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

bool starts_with(std::string_view data, std::string_view prefix) {
  return data.substr(0, prefix.size()) == prefix;
}

bool is_zip(std::string_view d) {
  // A local file header; an empty archive is only its end-of-central-directory.
  return starts_with(d, std::string_view("PK\x03\x04", 4)) ||
         starts_with(d, std::string_view("PK\x05\x06", 4));
}
bool is_gzip(std::string_view d) {
  return d.size() >= 2 && static_cast<unsigned char>(d[0]) == 0x1f &&
         static_cast<unsigned char>(d[1]) == 0x8b;
}
bool is_pem(std::string_view d) {
  return d.find("-----BEGIN ") != std::string_view::npos;
}

std::string lower_prefix(std::string_view d, size_t n) {
  std::string out(d.substr(0, n));
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A web server's page (an error page or a login portal served with 200).
bool is_html(std::string_view d) {
  size_t start = starts_with(d, "\xEF\xBB\xBF") ? 3 : 0;  // UTF-8 BOM
  while (start < d.size() && std::isspace(static_cast<unsigned char>(d[start]))) ++start;
  if (start >= d.size() || d[start] != '<') return false;
  std::string head = lower_prefix(d.substr(start), 4096);
  for (const char* tag : {"<!doctype html", "<html", "<head", "<body", "<title"}) {
    if (head.find(tag) != std::string::npos) return true;
  }
  return false;
}

// Text that is neither PEM nor HTML ("404 Not Found", a JSON error): its
// first line, quoted, says more than "not DER".
std::optional<std::string> text_excerpt(std::string_view d) {
  std::string_view head = d.substr(0, 64);
  for (char c : head) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || (u < 0x20 && c != '\n' && c != '\r' && c != '\t')) return std::nullopt;
  }
  std::string line(head.substr(0, head.find_first_of("\r\n")));
  if (line.empty()) return std::nullopt;
  return line;
}

// max_ratio * compressed without overflowing (a limit of SIZE_MAX is "none").
size_t ratio_bound(size_t ratio, size_t compressed) {
  if (compressed != 0 && ratio > std::numeric_limits<size_t>::max() / compressed) {
    return std::numeric_limits<size_t>::max();
  }
  return ratio * compressed;
}

// The CRLs in one file's bytes (outside an archive or one member of it).
// `where` starts every error; `container` is "" / "ZIP" / "GZIP".
Result<std::vector<UnpackedCrl>> parse_payload(std::string_view data, const std::string& where,
                                               const std::string& container,
                                               const std::string& member) {
  if (data.empty()) return invalid(fmt::format("{}: empty file", where));
  if (!container.empty() && (is_zip(data) || is_gzip(data))) {
    return invalid(
        fmt::format("{}: an archive inside the {} archive; edgecert (like the "
                    "appliance) reads CRL files one archive level deep",
                    where, container));
  }
  bool pem = is_pem(data);
  if (!pem && is_html(data)) return invalid(fmt::format("{}: not a CRL: an HTML page", where));
  if (!pem && static_cast<unsigned char>(data[0]) != 0x30) {
    if (auto text = text_excerpt(data)) {
      return invalid(
          fmt::format("{}: not a CRL: text beginning \"{}\" (neither PEM nor DER)", where, *text));
    }
  }
  auto crls = pki::Crl::parse_all(data, where);
  if (!crls) return std::unexpected(crls.error());
  std::string encoding = pem ? "PEM" : "DER";
  std::string format = container.empty() ? encoding : container + "/" + encoding;
  std::vector<UnpackedCrl> out;
  out.reserve(crls->size());
  for (pki::Crl& c : *crls) out.push_back({std::move(c), format, member});
  return out;
}

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

std::string archive_message(archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unreadable data";
}

// The original file name a gzip header may carry (FNAME), "" when none.
std::string gzip_name(std::string_view d) {
  if (d.size() < 10) return {};
  auto flags = static_cast<unsigned char>(d[3]);
  size_t pos = 10;
  if (flags & 0x04) {  // FEXTRA: two length bytes, little-endian, then the field
    if (d.size() < pos + 2) return {};
    size_t xlen = static_cast<unsigned char>(d[pos]) |
                  (static_cast<size_t>(static_cast<unsigned char>(d[pos + 1])) << 8);
    pos += 2 + xlen;
  }
  if (!(flags & 0x08) || pos >= d.size()) return {};
  size_t end = d.find('\0', pos);
  if (end == std::string_view::npos || end - pos > 255) return {};
  return std::string(d.substr(pos, end - pos));
}

// Every CRL in a ZIP archive's members, or in a GZIP stream (libarchive's
// raw format: the stream is one member).
Result<std::vector<UnpackedCrl>> read_archive(std::string_view data, const std::string& source,
                                              const UnpackLimits& limits, bool gzip) {
  const std::string container = gzip ? "GZIP" : "ZIP";
  ArchivePtr a(archive_read_new());
  if (!a) return make_error(ErrorCode::kInternal, "libarchive: cannot allocate a reader");
  if (gzip) {
    archive_read_support_filter_gzip(a.get());
    archive_read_support_format_raw(a.get());
  } else {
    archive_read_support_format_zip(a.get());
  }
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) {
    return invalid(fmt::format("{}: not a readable {} archive: {}", source, container,
                               archive_message(a.get())));
  }
  const size_t ratio_limit = ratio_bound(limits.max_ratio, data.size());
  struct Member {
    std::string where;
    std::string name;
    std::string payload;
  };
  std::vector<Member> members_read;
  std::vector<UnpackedCrl> out;
  size_t members = 0;
  size_t expanded = 0;
  std::array<char, 64 * 1024> buffer{};
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return invalid(fmt::format("{}: not a readable {} archive: {}", source, container,
                                 archive_message(a.get())));
    }
    if (++members > limits.max_members) {
      return invalid(
          fmt::format("{}: the archive holds more than {} members", source, limits.max_members));
    }
    std::string name;
    if (gzip) {
      name = gzip_name(data);
    } else if (const char* p = archive_entry_pathname(entry)) {
      name = p;
    }
    std::string where = name.empty() ? fmt::format("{}: {} content", source, container)
                                     : fmt::format("{}: archive member '{}'", source, name);
    if (!gzip && archive_entry_filetype(entry) == AE_IFDIR) continue;
    if (!gzip && archive_entry_filetype(entry) != AE_IFREG) {
      return invalid(fmt::format("{}: not a regular file", where));
    }
    if (archive_entry_is_encrypted(entry)) {
      return invalid(
          fmt::format("{}: encrypted; the appliance reads only unencrypted archives", where));
    }
    std::string payload;
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buffer.data(), buffer.size());
      if (n == 0) break;
      if (n < 0) {
        return invalid(fmt::format("{}: {}", where, archive_message(a.get())));
      }
      expanded += static_cast<size_t>(n);
      if (expanded > limits.max_expanded_bytes) {
        return invalid(fmt::format("{}: the archive expands beyond {} bytes", source,
                                   limits.max_expanded_bytes));
      }
      if (expanded > ratio_limit) {
        return invalid(
            fmt::format("{}: the archive's compression ratio is above {} ({} "
                        "compressed bytes expand beyond {})",
                        source, limits.max_ratio, data.size(), ratio_limit));
      }
      payload.append(buffer.data(), static_cast<size_t>(n));
      if (payload.size() > limits.max_input_bytes) {
        return invalid(fmt::format("{}: expands beyond the {}-byte limit for one CRL file", where,
                                   limits.max_input_bytes));
      }
    }
    members_read.push_back({std::move(where), std::move(name), std::move(payload)});
  }
  // Parsed once the whole archive is read within its bounds: a bomb is
  // reported as a bomb even when its first member is garbage.
  for (const Member& m : members_read) {
    auto crls = parse_payload(m.payload, m.where, container, m.name);
    if (!crls) return std::unexpected(crls.error());
    for (UnpackedCrl& c : *crls) out.push_back(std::move(c));
  }
  if (out.empty())
    return invalid(fmt::format("{}: the {} archive holds no CRL", source, container));
  return out;
}

}  // namespace

Result<std::vector<UnpackedCrl>> unpack_crls(std::string_view data, const std::string& source,
                                             const UnpackLimits& limits) {
  if (data.empty()) return invalid(fmt::format("{}: empty file", source));
  if (data.size() > limits.max_input_bytes) {
    return invalid(fmt::format("{}: {} bytes, more than the {}-byte limit", source, data.size(),
                               limits.max_input_bytes));
  }
  if (is_zip(data)) return read_archive(data, source, limits, false);
  if (is_gzip(data)) return read_archive(data, source, limits, true);
  return parse_payload(data, source, "", "");
}

}  // namespace edgecert::revocation
