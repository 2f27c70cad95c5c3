// SynchronizedEnv: an Env that many threads may share.
//
// apply runs CSR generation and signing for several nodes at once
// (executor.h), and every node provider and the issuer reach files, the clock
// and sleeping through the one Env the session was opened with. The POSIX Env
// is safe to share; MemoryEnv and FaultInjectionEnv (tests) are not. This
// wrapper makes any Env safe by running every call under one mutex — calls
// are short (a file read, a clock read), except sleep_for: a sleeping thread
// holds the mutex, because on MemoryEnv sleeping moves the shared clock. Only
// retries and ACME polling sleep during the concurrent phase, so other
// threads wait at most one backoff step.
#pragma once

#include <mutex>

#include "providers/base/env.h"

namespace edgecert {

class SynchronizedEnv final : public Env {
 public:
  explicit SynchronizedEnv(Env& inner) : inner_(inner) {}

  Status write_file_atomic(const std::string& path, const std::string& data,
                           unsigned mode) override;
  Status create_exclusive(const std::string& path, const std::string& data, unsigned mode) override;
  Status append_file(const std::string& path, const std::string& data, unsigned mode) override;
  // The returned lock takes the mutex again when it is released (MemoryEnv's
  // lock table is shared state too).
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override;
  bool exists(const std::string& path) override;
  bool is_directory(const std::string& path) override;
  std::string real_path(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;
  Status create_dirs(const std::string& path, unsigned mode) override;
  Status remove_file(const std::string& path) override;
  Result<unsigned> file_mode(const std::string& path) override;
  TimePoint now() override;
  void sleep_for(std::chrono::milliseconds duration) override;
  std::optional<std::string> get_env(const std::string& name) override;

 protected:
  Result<std::string> do_read_file(const std::string& path, std::uint64_t max_bytes) override;

 private:
  Env& inner_;
  std::mutex mu_;
};

}  // namespace edgecert
