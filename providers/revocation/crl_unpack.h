// Unpacking what a CRL distribution point (or the spec's manual CRL file)
// holds, the way the appliance accepts it (guide ch.7): PEM or DER, one CRL
// or several, or a ZIP or GZIP archive of such files, whatever the file name
// or URL says. Pure: no I/O. libarchive reads the archives.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "providers/base/error.h"
#include "providers/pki/crl.h"

namespace edgecert::revocation {

// Bounds that keep a hostile file from exhausting memory (a ZIP bomb, a
// 20 MB "CRL"): exceeding one is an error naming the source and the bound.
struct UnpackLimits {
  std::size_t max_input_bytes = 16u << 20;     // what the guide accepts for one file
  std::size_t max_expanded_bytes = 64u << 20;  // every archive member together
  std::size_t max_members = 256;               // files in one archive
  std::size_t max_ratio = 200;                 // expanded / compressed, per archive
};

struct UnpackedCrl {
  pki::Crl crl;
  // "PEM", "DER", "ZIP/DER", "ZIP/PEM", "GZIP/DER", "GZIP/PEM": the container
  // (if any) and the encoding, for `crl check`'s format column.
  std::string format;
  std::string member;  // the archive member's name; "" outside an archive
};

// Every CRL in `data`. Detection by content: ZIP ("PK\x03\x04"), GZIP
// (1f 8b), PEM ("-----BEGIN X509 CRL-----" blocks; other PEM blocks are an
// error naming their label), else one DER CRL. Errors (kInvalidArgument),
// each starting with `source` (a URL or a path):
// - "<source>: not a CRL: an HTML page" (a server's error page served as 200)
// - "<source>: <n> bytes of trailing data after the DER CRL at offset <o>"
//   (two DER CRLs concatenated are reported the same way)
// - "<source>: truncated DER at offset <o>", "<source>: empty file"
// - "<source>: archive member '<name>': ..." (garbage in a ZIP)
// - "<source>: the archive expands beyond <n> bytes" / "... more than <n>
//   members" / "... compression ratio above <n>" (a bomb)
// - "<source>: <n> bytes, more than the <m>-byte limit"
// - "<source>: not a CRL: text beginning \"...\"" (a plain-text error reply)
// - "<source>: archive member '<name>': an archive inside the ZIP archive ..."
//   (one level only, like the appliance)
// Archives are read whole within the bounds before any member is parsed, so
// a bomb is reported as a bomb. Bytes after the last GZIP member are ignored,
// as `gzip -d` ignores them; the CRLs inside are held to Crl::parse_all's
// strict DER either way.
Result<std::vector<UnpackedCrl>> unpack_crls(std::string_view data, const std::string& source,
                                             const UnpackLimits& limits = {});

}  // namespace edgecert::revocation
