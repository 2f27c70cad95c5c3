#include "reconciler/engine/synchronized_env.h"

namespace edgecert {

using Guard = std::lock_guard<std::mutex>;

Result<std::string> SynchronizedEnv::do_read_file(const std::string& path,
                                                  std::uint64_t max_bytes) {
  Guard g(mu_);
  return forward_read_file(inner_, path, max_bytes);
}

Status SynchronizedEnv::write_file_atomic(const std::string& path, const std::string& data,
                                          unsigned mode) {
  Guard g(mu_);
  return inner_.write_file_atomic(path, data, mode);
}

Status SynchronizedEnv::create_exclusive(const std::string& path, const std::string& data,
                                         unsigned mode) {
  Guard g(mu_);
  return inner_.create_exclusive(path, data, mode);
}

Status SynchronizedEnv::append_file(const std::string& path, const std::string& data,
                                    unsigned mode) {
  Guard g(mu_);
  return inner_.append_file(path, data, mode);
}

namespace {
class SynchronizedFileLock final : public FileLock {
 public:
  SynchronizedFileLock(std::mutex& mu, std::unique_ptr<FileLock> inner)
      : mu_(mu), inner_(std::move(inner)) {}
  ~SynchronizedFileLock() override {
    std::lock_guard g(mu_);
    inner_.reset();
  }

 private:
  std::mutex& mu_;
  std::unique_ptr<FileLock> inner_;
};
}  // namespace

Result<std::unique_ptr<FileLock>> SynchronizedEnv::lock_file(const std::string& path) {
  Guard g(mu_);
  auto held = inner_.lock_file(path);
  if (!held) return std::unexpected(held.error());
  return std::unique_ptr<FileLock>(std::make_unique<SynchronizedFileLock>(mu_, std::move(*held)));
}

bool SynchronizedEnv::exists(const std::string& path) {
  Guard g(mu_);
  return inner_.exists(path);
}

std::string SynchronizedEnv::real_path(const std::string& path) {
  Guard g(mu_);
  return inner_.real_path(path);
}

bool SynchronizedEnv::is_directory(const std::string& path) {
  Guard g(mu_);
  return inner_.is_directory(path);
}

Result<std::vector<std::string>> SynchronizedEnv::list_dir(const std::string& path) {
  Guard g(mu_);
  return inner_.list_dir(path);
}

Status SynchronizedEnv::create_dirs(const std::string& path, unsigned mode) {
  Guard g(mu_);
  return inner_.create_dirs(path, mode);
}

Status SynchronizedEnv::remove_file(const std::string& path) {
  Guard g(mu_);
  return inner_.remove_file(path);
}

Result<unsigned> SynchronizedEnv::file_mode(const std::string& path) {
  Guard g(mu_);
  return inner_.file_mode(path);
}

TimePoint SynchronizedEnv::now() {
  Guard g(mu_);
  return inner_.now();
}

void SynchronizedEnv::sleep_for(std::chrono::milliseconds duration) {
  Guard g(mu_);
  inner_.sleep_for(duration);
}

std::optional<std::string> SynchronizedEnv::get_env(const std::string& name) {
  Guard g(mu_);
  return inner_.get_env(name);
}

}  // namespace edgecert
