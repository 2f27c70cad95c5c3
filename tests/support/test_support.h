// Helpers shared by tests: temporary folders, running the CLI in-process,
// and running the built binary as a subprocess.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "providers/base/env.h"
#include "providers/revocation/crl_fetch.h"

namespace edgecert {
// Tests read back what they wrote, whatever its kind: one generous cap.
inline constexpr ReadLimit kTestRead{"test file", 256 * read_limits::kMiB};
}  // namespace edgecert

namespace edgecert::testing {

// A fresh folder under $TMPDIR, removed (recursively) on destruction; with
// EDGECERT_TEST_SCAN_DIR set (ctest sets it), under that folder and kept for
// the secrets scan.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes a file below the folder (creating sub-folders) and returns its path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
  bool keep_ = false;
};

// A MemoryEnv whose waits can also take real time. A fake clock that jumps
// makes every wait instant, which is right for restarts and health gates but
// wrong against a real process such as Pebble: an ACME client polling an
// order would spend its whole (fake) minute in a few real milliseconds and
// give up before Pebble got the CPU to issue (CI failed that way on a fast
// machine). With pace(cap), each sleep_for(d) sleeps min(d, cap) for real, then
// moves the fake clock by d as usual. Off (cap 0) by default.
class PacedMemoryEnv : public MemoryEnv {
 public:
  using MemoryEnv::MemoryEnv;
  void pace(std::chrono::milliseconds cap) { cap_ = cap; }
  void sleep_for(std::chrono::milliseconds d) override {
    if (cap_.count() > 0) std::this_thread::sleep_for(std::min(d, cap_));
    MemoryEnv::sleep_for(d);
  }

 private:
  std::chrono::milliseconds cap_{0};
};

// What tests that talk to a real Pebble from a MemoryEnv pace their waits by:
// long enough for Pebble to be scheduled on a loaded 2-core machine, short
// enough that a dozen health-gate polls stay cheap.
inline constexpr std::chrono::milliseconds kPebblePace{200};

struct CliRun {
  int status = 0;
  std::string out;
  std::string err;
};

// The network CRL distribution points and OCSP responders are reached over
// in tests: answers by absolute URL (a canned response, or a handler that
// sees the request); any other URL fails kUnavailable ("cannot connect: ...
// no network in tests"), as a dead host does. Copies share their state.
class FakeNetwork {
 public:
  using Handler = std::function<Result<http::Response>(const http::Request&)>;
  FakeNetwork();
  void serve(const std::string& url, std::string body, long status = 200,
             std::vector<std::pair<std::string, std::string>> headers = {});
  void handle(const std::string& url, Handler handler);
  void fail(const std::string& url, Error error);
  // Every URL asked, in order.
  std::vector<std::string> requests() const;
  revocation::TransportFactory factory() const;

  struct State;  // shared with the transports factory() makes

 private:
  std::shared_ptr<State> state_;
};

// Runs the CLI in-process with the given Env (default: the real one);
// `input` feeds prompts. CRL sources and OCSP responders are reached through
// `network` (default: none reachable: in-process tests never touch the real
// network, so specs with example.com distribution points stay fast).
CliRun run_cli(const std::vector<std::string>& args, Env* env = nullptr,
               const std::string& input = "", bool tty = false,
               const revocation::TransportFactory& network = {});

// Runs a shell command, capturing stdout (and stderr when merge_stderr).
CliRun run_command(const std::string& command);

// Path of a file under tests/ (the source tree).
std::string test_data(const std::string& relative);
// Path of a file under the repository root.
std::string source_path(const std::string& relative);

}  // namespace edgecert::testing
