// Real POSIX files with a clock of the test's choosing: persistence tests on a
// real filesystem without real waiting (PosixFilesVirtualClockEnv), or with
// a clock the test moves (subclasses of PosixFilesEnv).
#pragma once

#include <memory>

#include "providers/base/env.h"

namespace edgecert::testing {

// Everything from the real POSIX Env; subclasses override now() and
// sleep_for().
class PosixFilesEnv : public Env {
 public:
  PosixFilesEnv() : files_(make_posix_env()) {}
  Status write_file_atomic(const std::string& p, const std::string& d, unsigned m) override {
    return files_->write_file_atomic(p, d, m);
  }
  Status create_exclusive(const std::string& p, const std::string& d, unsigned m) override {
    return files_->create_exclusive(p, d, m);
  }
  Status append_file(const std::string& p, const std::string& d, unsigned m) override {
    return files_->append_file(p, d, m);
  }
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& p) override {
    return files_->lock_file(p);
  }
  bool exists(const std::string& p) override { return files_->exists(p); }
  bool is_directory(const std::string& p) override { return files_->is_directory(p); }
  Result<std::vector<std::string>> list_dir(const std::string& p) override {
    return files_->list_dir(p);
  }
  Status create_dirs(const std::string& p, unsigned m) override {
    return files_->create_dirs(p, m);
  }
  Status remove_file(const std::string& p) override { return files_->remove_file(p); }
  Result<unsigned> file_mode(const std::string& p) override { return files_->file_mode(p); }
  TimePoint now() override { return files_->now(); }

 protected:
  Result<std::string> do_read_file(const std::string& p, std::uint64_t max) override {
    return forward_read_file(*files_, p, max);
  }

 public:
  void sleep_for(std::chrono::milliseconds d) override { files_->sleep_for(d); }
  std::optional<std::string> get_env(const std::string& n) override { return files_->get_env(n); }

 private:
  std::unique_ptr<Env> files_;
};

// Starts at the real time; sleeps move the clock instead of waiting.
class PosixFilesVirtualClockEnv : public PosixFilesEnv {
 public:
  TimePoint now() override { return now_; }
  void sleep_for(std::chrono::milliseconds d) override { now_ += d; }

 private:
  TimePoint now_ = Clock::now();
};

}  // namespace edgecert::testing
