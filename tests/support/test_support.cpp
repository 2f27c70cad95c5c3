#include "tests/support/test_support.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "reconciler/cli/cli.h"

namespace edgecert::testing {

// Under ctest, EDGECERT_TEST_SCAN_DIR names the folder the secrets scan
// (tests/scripts/secrets_scan.py) reads after the suite: the folder is made
// there and kept, so every file a test wrote is scanned.
TempDir::TempDir() {
  const char* scan = std::getenv("EDGECERT_TEST_SCAN_DIR");
  const char* base = scan && *scan ? scan : std::getenv("TMPDIR");
  if (scan && *scan) {
    std::error_code ec;
    std::filesystem::create_directories(scan, ec);
    keep_ = true;
  }
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/edgecert-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  if (keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string p = file(name);
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + p);
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
  return p;
}

struct FakeNetwork::State {
  std::mutex mu;
  std::map<std::string, Handler> handlers;
  std::vector<std::string> requests;
};

namespace {

class FakeTransport : public http::Transport {
 public:
  explicit FakeTransport(std::shared_ptr<FakeNetwork::State> state) : state_(std::move(state)) {}
  Result<http::Response> perform(const http::Request& request) override;

 private:
  std::shared_ptr<FakeNetwork::State> state_;
};

}  // namespace

Result<http::Response> FakeTransport::perform(const http::Request& request) {
  FakeNetwork::Handler handler;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->requests.push_back(request.target);
    if (auto it = state_->handlers.find(request.target); it != state_->handlers.end())
      handler = it->second;
  }
  if (!handler)
    return make_error(ErrorCode::kUnavailable,
                      "cannot connect: " + request.target + ": no network in tests");
  return handler(request);
}

FakeNetwork::FakeNetwork() : state_(std::make_shared<State>()) {}

void FakeNetwork::serve(const std::string& url, std::string body, long status,
                        std::vector<std::pair<std::string, std::string>> headers) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  handle(url, [r](const http::Request&) -> Result<http::Response> { return r; });
}

void FakeNetwork::handle(const std::string& url, Handler handler) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->handlers[url] = std::move(handler);
}

void FakeNetwork::fail(const std::string& url, Error error) {
  handle(url, [error](const http::Request&) -> Result<http::Response> {
    return std::unexpected(error);
  });
}

std::vector<std::string> FakeNetwork::requests() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->requests;
}

revocation::TransportFactory FakeNetwork::factory() const {
  auto state = state_;
  return [state](http::ClientOptions) -> Result<std::unique_ptr<http::Transport>> {
    return std::unique_ptr<http::Transport>(std::make_unique<FakeTransport>(state));
  };
}

CliRun run_cli(const std::vector<std::string>& args, Env* env, const std::string& input, bool tty,
               const revocation::TransportFactory& network) {
  std::ostringstream out, err;
  std::istringstream in(input);
  CliContext ctx{env ? *env : default_env(), out, err, tty, &in};
  ctx.crl_transport = network ? network : FakeNetwork().factory();
  CliRun r;
  r.status = edgecert::run_cli(args, ctx);
  r.out = out.str();
  r.err = err.str();
  return r;
}

CliRun run_command(const std::string& command) {
  CliRun r;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + command);
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string test_data(const std::string& relative) {
  return std::string(EDGECERT_TEST_DATA) + "/" + relative;
}

std::string source_path(const std::string& relative) {
  return std::string(EDGECERT_SOURCE_DIR) + "/" + relative;
}

}  // namespace edgecert::testing
