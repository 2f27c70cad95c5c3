// Helpers shared by tests: temporary folders, running the CLI in-process,
// and running the built binary as a subprocess.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
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
