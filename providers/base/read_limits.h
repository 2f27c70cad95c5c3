// Read limits: how many bytes edgecert reads from a file of each kind.
//
// Every Env::read_file names what it reads and the most it will read, so a
// path pointing at /dev/zero, /dev/urandom, a FIFO or a huge file is refused
// instead of growing memory without limit (issue 16). A read over the cap is
// an Error "<kind> <path>: larger than <cap>"; devices, FIFOs, sockets and
// directories are refused before anything is read ("<path>: not a regular
// file"). The caps are generous for real files of each kind and small enough
// that the largest allowed read is harmless.
#pragma once

#include <cstdint>
#include <string>

namespace edgecert {

struct ReadLimit {
  const char* kind;         // what the file is, for messages ("trusted CA file")
  std::uint64_t max_bytes;  // the most that is read; one byte more is an error
};

// "16 MiB", "4 KiB", "17 bytes": the cap as people read it.
std::string format_byte_size(std::uint64_t bytes);

namespace read_limits {

inline constexpr std::uint64_t kKiB = 1024;
inline constexpr std::uint64_t kMiB = 1024 * kKiB;

// The spec: the loader refuses text over schema::kMaxSpecBytes (1 MiB) with its
// own positioned message; this cap only keeps the read itself bounded.
inline constexpr ReadLimit kSpec{"spec file", 4 * kMiB};
// Trusted CA lists, CA bundles and CRLs: the Expressway's guide caps a CRL
// file at 16 MB, and a trusted CA list is of the same order (the appliance's
// own list holds a few hundred certificates at most).
inline constexpr ReadLimit kTrustedCa{"trusted CA file", 16 * kMiB};
inline constexpr ReadLimit kCaBundle{"CA bundle", 16 * kMiB};
inline constexpr ReadLimit kCrl{"CRL file", 16 * kMiB};
// One certificate chain, CSR or private key: a few KiB; 1 MiB is plenty even
// for a long chain.
inline constexpr ReadLimit kCertificate{"certificate file", 1 * kMiB};
inline constexpr ReadLimit kCsr{"CSR file", 1 * kMiB};
inline constexpr ReadLimit kKey{"key file", 1 * kMiB};
// Passwords and ACME EAB secrets are short; anything longer is a mistake
// (such as a path pointing at a device).
inline constexpr ReadLimit kSecret{"secret file", 4 * kKiB};
// A saved plan lists every action for every node with its parameters.
inline constexpr ReadLimit kSavedPlan{"saved plan", 64 * kMiB};
// The journal grows by a few lines per action over every run of a cluster.
inline constexpr ReadLimit kJournal{"journal", 256 * kMiB};
// A lock file holds one small JSON object (holder, pid, time).
inline constexpr ReadLimit kLock{"lock file", 64 * kKiB};
// State folders and other small JSON or text files edgecert writes itself
// (simulated nodes, manual steps, CA index and serial, caches, audit trails).
inline constexpr ReadLimit kState{"state file", 16 * kMiB};

}  // namespace read_limits
}  // namespace edgecert
