// edgecert-crl-bench: the CRL parse and lookup benchmark (bench/crl/README.md).
//
//   edgecert-crl-bench generate FILE [--entries N]
//       writes a DER CRL with N entries (default 500000: about 16 MB), signed
//       by a throwaway ECDSA CA with edgecert's own signer (`openssl ca` takes
//       hours for that many), and FILE.serials: one revoked serial per line.
//   edgecert-crl-bench measure FILE [--repeat R] [--lookups L] [--openssl PATH]
//       in one run: edgecert reading and parsing FILE (revocation::unpack_crls,
//       the path every CRL source takes) in process and as a child process
//       (`edgecert-crl-bench parse FILE`: start, read, parse, free, exit),
//       `openssl crl -inform DER -noout -in FILE` as a child process, R times
//       each, interleaved; then L lookups
//       (half revoked serials, half absent) after the first lookup built the
//       index; peak RSS of this process and of openssl.
//
// Prints "key: value" lines; nothing is asserted (the script tests only that
// it runs).
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "providers/pki/crl.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"
#include "providers/revocation/crl_unpack.h"

extern char** environ;

namespace {

using namespace edgecert;
using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "edgecert-crl-bench: %s\n", message.c_str());
  std::exit(2);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  if (!out) die("cannot write " + path);
}

double ms_since(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string hex(const std::vector<unsigned char>& bytes) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

// 12-byte serials with the top bit clear (positive, no padding byte), from
// a fixed seed so every run builds the same CRL.
std::string random_serial(std::mt19937_64& rng) {
  std::vector<unsigned char> b(12);
  for (auto& x : b) x = static_cast<unsigned char>(rng());
  b[0] = static_cast<unsigned char>((b[0] & 0x7f) | 0x10);
  return hex(b);
}

int generate(const std::string& file, long entries) {
  auto start = SteadyClock::now();
  TimePoint now = Clock::now();
  auto key = pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256);
  if (!key) die(key.error().message);
  pki::CaOptions ca;
  ca.common_name = "CRL Bench CA";
  ca.not_before = now - std::chrono::hours(24);
  ca.not_after = now + std::chrono::hours(24 * 365);
  ca.serial_hex = "01";
  auto cert = pki::create_self_signed_ca(*key, ca);
  if (!cert) die(cert.error().message);
  pki::CrlOptions o;
  o.last_update = now - std::chrono::hours(1);
  o.next_update = now + std::chrono::hours(24 * 7);
  o.number = 4242;
  std::mt19937_64 rng(20261202);
  std::string serials;
  o.revoked.reserve(static_cast<size_t>(entries));
  for (long i = 0; i < entries; ++i) {
    std::string s = random_serial(rng);
    serials += s + "\n";
    // One in ten with a reasonCode, as a CA that records reasons would.
    o.revoked.push_back(
        {s, now - std::chrono::minutes(i % 500000), i % 10 == 0 ? "keyCompromise" : ""});
  }
  auto crl = pki::Crl::create(*cert, *key, o);
  if (!crl) die(crl.error().message);
  std::string der = crl->to_der();
  write_file(file, der);
  write_file(file + ".serials", serials);
  write_file(file + ".ca.pem", cert->to_pem());
  fmt::print("generated: {}\nentries: {}\nbytes: {}\ngenerate_s: {:.1f}\n", file, entries,
             der.size(), ms_since(start) / 1000);
  return 0;
}

struct ChildRun {
  double ms = 0;
  long max_rss_kb = 0;
};

ChildRun run_child(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  auto start = SteadyClock::now();
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
    die("cannot run " + argv[0]);
  }
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  rusage ru{};
  if (wait4(pid, &status, 0, &ru) != pid) die("wait4 failed");
  ChildRun r;
  r.ms = ms_since(start);
  r.max_rss_kb = ru.ru_maxrss;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die(argv[0] + " failed on " + argv.back());
  return r;
}

// `parse FILE`: what the measure step runs as a child, so edgecert is also
// timed the way openssl is: process start, read, parse, free, exit.
int parse_only(const std::string& file) {
  std::string data = read_file(file);
  auto crls = revocation::unpack_crls(data, file);
  if (!crls) die(crls.error().message);
  return crls->front().crl.entry_count() > 0 ? 0 : 1;
}

int measure(const std::string& file, int repeat, int lookups, const std::string& openssl) {
  std::vector<double> ours;
  std::vector<double> ours_process;
  std::vector<double> theirs;
  long openssl_rss = 0;
  long process_rss = 0;
  size_t entries = 0;
  size_t bytes = 0;
  std::optional<pki::Crl> kept;
  for (int i = 0; i < repeat; ++i) {
    // Interleaved, so a change in machine load touches both sides alike.
    ChildRun o = run_child({openssl, "crl", "-inform", "DER", "-noout", "-in", file});
    theirs.push_back(o.ms);
    openssl_rss = std::max(openssl_rss, o.max_rss_kb);
    kept.reset();
    auto start = SteadyClock::now();
    std::string data = read_file(file);
    auto crls = revocation::unpack_crls(data, file);
    double ms = ms_since(start);
    if (!crls) die(crls.error().message);
    ours.push_back(ms);
    entries = crls->front().crl.entry_count();
    bytes = data.size();
    kept.emplace(std::move(crls->front().crl));
    ChildRun e = run_child({"/proc/self/exe", "parse", file});
    ours_process.push_back(e.ms);
    process_rss = std::max(process_rss, e.max_rss_kb);
  }
  // openssl's fixed cost (process start, config) on a one-entry CRL.
  std::string tiny = file + ".tiny.der";
  {
    auto key = pki::PrivateKey::generate(pki::KeyAlgorithm::kEcdsa, 256);
    pki::CaOptions ca;
    ca.common_name = "tiny";
    ca.not_before = Clock::now();
    ca.not_after = Clock::now() + std::chrono::hours(24);
    ca.serial_hex = "01";
    auto cert = pki::create_self_signed_ca(*key, ca);
    pki::CrlOptions o;
    o.last_update = Clock::now();
    o.next_update = Clock::now() + std::chrono::hours(24);
    o.revoked = {{"01", Clock::now(), ""}};
    write_file(tiny, pki::Crl::create(*cert, *key, o)->to_der());
  }
  std::vector<double> startup;
  for (int i = 0; i < repeat; ++i) {
    startup.push_back(run_child({openssl, "crl", "-inform", "DER", "-noout", "-in", tiny}).ms);
  }
  std::remove(tiny.c_str());

  // Lookups: half serials the CRL revokes, half it does not.
  std::vector<std::string> revoked;
  {
    std::istringstream in(read_file(file + ".serials"));
    for (std::string line; std::getline(in, line);) revoked.push_back(line);
  }
  std::mt19937_64 rng(7);
  std::vector<std::string> queries;
  for (int i = 0; i < lookups; ++i) {
    if (i % 2 == 0 && !revoked.empty()) {
      queries.push_back(revoked[rng() % revoked.size()]);
    } else {
      queries.push_back(random_serial(rng) + "01");  // 13 bytes: never in the CRL
    }
  }
  auto first = SteadyClock::now();
  bool first_found = kept->find_revoked(queries.front()).has_value();
  double index_ms = ms_since(first);
  auto start = SteadyClock::now();
  int found = 0;
  for (const std::string& q : queries) found += kept->find_revoked(q) ? 1 : 0;
  double lookup_us = ms_since(start) * 1000 / lookups;
  int expected = (lookups + 1) / 2;
  if (!first_found || found != expected) {
    die(fmt::format("lookups found {} of the {} revoked serials asked", found, expected));
  }
  rusage self{};
  getrusage(RUSAGE_SELF, &self);

  double ours_ms = median(ours);
  double theirs_ms = median(theirs);
  fmt::print("file: {}\nbytes: {}\nentries: {}\nrepeat: {}\n", file, bytes, entries, repeat);
  double process_ms = median(ours_process);
  fmt::print("edgecert_parse_ms: {:.1f}\n", ours_ms);
  fmt::print("edgecert_process_ms: {:.1f}\n", process_ms);
  fmt::print("openssl_crl_noout_ms: {:.1f}\n", theirs_ms);
  // The headline compares like with like: a process that reads, parses,
  // frees and exits, on each side.
  fmt::print("ratio: {:.2f}\n", process_ms / theirs_ms);
  fmt::print("ratio_in_process_parse: {:.2f}\n", ours_ms / theirs_ms);
  fmt::print("openssl_startup_ms: {:.1f}\n", median(startup));
  fmt::print("index_build_ms: {:.1f}\n", index_ms);
  fmt::print("lookups: {} ({} revoked, {} absent)\n", lookups, found, lookups - found);
  fmt::print("lookup_us_per_serial: {:.2f}\n", lookup_us);
  fmt::print("edgecert_peak_rss_mb: {:.1f}\n", static_cast<double>(self.ru_maxrss) / 1024);
  fmt::print("edgecert_parse_process_peak_rss_mb: {:.1f}\n",
             static_cast<double>(process_rss) / 1024);
  fmt::print("openssl_peak_rss_mb: {:.1f}\n", static_cast<double>(openssl_rss) / 1024);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "parse") return parse_only(args[1]);
  if (args.size() < 2 || (args[0] != "generate" && args[0] != "measure")) {
    std::fprintf(stderr,
                 "usage: edgecert-crl-bench generate FILE [--entries N]\n"
                 "       edgecert-crl-bench measure FILE [--repeat R] [--lookups L] "
                 "[--openssl PATH]\n");
    return 2;
  }
  long entries = 500000;
  int repeat = 5;
  int lookups = 1000;
  std::string openssl = "openssl";
  for (size_t i = 2; i < args.size(); i += 2) {
    const std::string& flag = args[i];
    if (i + 1 == args.size()) die(flag + " needs a value");
    const std::string& value = args[i + 1];
    if (flag == "--entries") {
      entries = std::stol(value);
    } else if (flag == "--repeat") {
      repeat = std::max(1, std::stoi(value));
    } else if (flag == "--lookups") {
      lookups = std::max(2, std::stoi(value));
    } else if (flag == "--openssl") {
      openssl = value;
    } else {
      die("unknown option " + flag);
    }
  }
  return args[0] == "generate" ? generate(args[1], entries)
                               : measure(args[1], repeat, lookups, openssl);
}
