// Env: the process's window onto files, clock and environment variables.
//
// Modelled on leveldb's Env. Everything edgecert does to the local machine goes
// through an Env so tests can substitute MemoryEnv (in-memory files, a settable
// clock) or wrap a real Env with fault injection. Paths are plain strings; an
// Env never interprets "~" or resolves relative paths against anything but the
// process's working directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "providers/base/clock.h"
#include "providers/base/error.h"
#include "providers/base/read_limits.h"

namespace edgecert {

// An advisory lock taken with Env::lock_file. Destroying it releases the lock.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // Whole-file read of at most `limit.max_bytes` bytes (read_limits.h names
  // the cap of each kind of file). NotFound when the file does not exist;
  // kInvalidArgument "<path>: not a regular file (...)" for a directory,
  // device, FIFO or socket, refused without reading or blocking;
  // kInvalidArgument "<kind> <path>: larger than <cap>" over the cap. Never
  // reads more than the cap plus one byte, whatever the file claims to be.
  Result<std::string> read_file(const std::string& path, const ReadLimit& limit);

  // Writes `data` so that readers see either the old file or the whole new one:
  // temp file in the same folder, fsync, chmod `mode`, rename, fsync folder.
  // Secrets (keys) are written with mode 0600.
  virtual Status write_file_atomic(const std::string& path, const std::string& data,
                                   unsigned mode = 0644) = 0;

  // Creates `path` with `data` only if it does not exist yet (O_EXCL), fsynced:
  // AlreadyExists otherwise. Used for lock files.
  virtual Status create_exclusive(const std::string& path, const std::string& data,
                                  unsigned mode = 0644) = 0;

  // Appends and fsyncs (journals, audit logs). Creates the file with `mode`.
  virtual Status append_file(const std::string& path, const std::string& data,
                             unsigned mode = 0644) = 0;

  // Takes an exclusive advisory lock on `path` without waiting (leveldb's
  // Env::LockFile): the file is created with mode 0600 if needed and stays
  // when the lock is released. Conflict when any other holder has it, in this
  // process or another. The operating system drops the lock when the holder
  // exits however it exits (kill -9 included), so a crashed holder never
  // leaves a stale lock behind: callers need no "is it stale?" guesswork.
  virtual Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) = 0;

  virtual bool exists(const std::string& path) = 0;
  virtual bool is_directory(const std::string& path) = 0;
  // The path with symbolic links resolved and "." and ".." removed, for
  // telling whether two spellings name one file or folder (fleet.h); one
  // that cannot be resolved comes back lexically normalised. Reads only.
  virtual std::string real_path(const std::string& path);
  // Names (not paths) of entries in a folder, sorted.
  virtual Result<std::vector<std::string>> list_dir(const std::string& path) = 0;
  // mkdir -p.
  virtual Status create_dirs(const std::string& path, unsigned mode = 0755) = 0;
  virtual Status remove_file(const std::string& path) = 0;
  // Permission bits of an existing file.
  virtual Result<unsigned> file_mode(const std::string& path) = 0;

  virtual TimePoint now() = 0;
  // Waits (real Env) or moves the clock forward (MemoryEnv): every wait in
  // edgecert (health gates, polling, backoff) goes through here so tests run
  // in no time.
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;
  virtual std::optional<std::string> get_env(const std::string& name) = 0;

 protected:
  // What read_file runs: the file's bytes, at most `max_bytes` + 1 of them
  // (the one extra byte tells read_file the file is over the cap), or the
  // errors read_file documents. Anything that is not a regular file is
  // refused before a byte is read (a FIFO must never block).
  virtual Result<std::string> do_read_file(const std::string& path, std::uint64_t max_bytes) = 0;
  // For wrappers: another Env's do_read_file (protected members of another
  // object are reachable only through the base class).
  static Result<std::string> forward_read_file(Env& target, const std::string& path,
                                               std::uint64_t max_bytes) {
    return target.do_read_file(path, max_bytes);
  }
};

// The real thing: POSIX files, the system clock, the process environment.
Env& default_env();
std::unique_ptr<Env> make_posix_env();

// In-memory files, a clock that only moves when told, and a private variable
// table. For tests; not thread-safe.
class MemoryEnv : public Env {
 public:
  explicit MemoryEnv(TimePoint start = TimePoint(std::chrono::seconds(1798761600)));

  Status write_file_atomic(const std::string& path, const std::string& data,
                           unsigned mode) override;
  Status create_exclusive(const std::string& path, const std::string& data, unsigned mode) override;
  Status append_file(const std::string& path, const std::string& data, unsigned mode) override;
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override;
  bool exists(const std::string& path) override;
  bool is_directory(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;
  Status create_dirs(const std::string& path, unsigned mode) override;
  Status remove_file(const std::string& path) override;
  Result<unsigned> file_mode(const std::string& path) override;
  TimePoint now() override { return now_; }
  void sleep_for(std::chrono::milliseconds duration) override { now_ += duration; }
  std::optional<std::string> get_env(const std::string& name) override;

  void set_now(TimePoint t) { now_ = t; }
  void advance(std::chrono::seconds d) { now_ += d; }
  void set_env(const std::string& name, const std::string& value) { vars_[name] = value; }
  // Test convenience: write a file (creating parent folders).
  void put(const std::string& path, const std::string& data, unsigned mode = 0644);

 protected:
  Result<std::string> do_read_file(const std::string& path, std::uint64_t max_bytes) override;

 private:
  struct File {
    std::string data;
    unsigned mode = 0644;
  };
  std::map<std::string, File> files_;
  std::map<std::string, unsigned> dirs_;
  std::map<std::string, std::string> vars_;
  // Paths locked through lock_file; shared with the FileLock objects so a
  // lock outliving its MemoryEnv does not touch freed memory.
  std::shared_ptr<std::set<std::string>> locked_ = std::make_shared<std::set<std::string>>();
  TimePoint now_;
};

// Path helpers (pure string functions).
std::string path_join(const std::string& a, const std::string& b);
std::string path_dirname(const std::string& path);
std::string path_basename(const std::string& path);
bool path_is_absolute(const std::string& path);
// Resolves `path` against `base_dir` unless it is absolute.
std::string path_resolve(const std::string& base_dir, const std::string& path);

}  // namespace edgecert
