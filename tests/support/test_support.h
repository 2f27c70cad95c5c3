// Helpers shared by tests: temporary folders, running the CLI in-process,
// and running the built binary as a subprocess.
#pragma once

#include <string>
#include <vector>

#include "providers/base/env.h"

namespace edgecert::testing {

// A fresh folder under $TMPDIR, removed (recursively) on destruction.
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
};

struct CliRun {
  int status = 0;
  std::string out;
  std::string err;
};

// Runs the CLI in-process with the given Env (default: the real one);
// `input` feeds prompts.
CliRun run_cli(const std::vector<std::string>& args, Env* env = nullptr,
               const std::string& input = "", bool tty = false);

// Runs a shell command, capturing stdout (and stderr when merge_stderr).
CliRun run_command(const std::string& command);

// Path of a file under tests/ (the source tree).
std::string test_data(const std::string& relative);
// Path of a file under the repository root.
std::string source_path(const std::string& relative);

}  // namespace edgecert::testing
