#include "tests/support/test_support.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "reconciler/cli/cli.h"

namespace edgecert::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/edgecert-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
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

CliRun run_cli(const std::vector<std::string>& args, Env* env, const std::string& input, bool tty) {
  std::ostringstream out, err;
  std::istringstream in(input);
  CliContext ctx{env ? *env : default_env(), out, err, tty, &in};
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
