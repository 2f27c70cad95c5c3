#include "providers/base/fence.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "providers/base/env.h"

namespace edgecert {
namespace {

const char* g_program = "edgecert";

// EDGECERT_TEST_FAULT, split once by run_fenced.
enum class FaultMode { kNone, kThrow, kBadAlloc, kThrowInt, kThreadThrow };
FaultMode g_fault_mode = FaultMode::kNone;
std::string g_fault_point;

std::mutex& cleanup_mutex() {
  static std::mutex m;
  return m;
}
std::map<long, std::function<void()>>& cleanups() {
  static std::map<long, std::function<void()>> m;
  return m;
}
std::atomic<long> g_next_cleanup{1};

// Writes without allocating: after std::bad_alloc there may be no memory.
void write_err(const char* text) {
  size_t n = 0;
  while (text[n] != '\0') ++n;
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, text, n);
    if (w <= 0) return;
    text += w;
    n -= static_cast<size_t>(w);
  }
}

void report(const char* what) {
  std::fflush(stdout);
  write_err(g_program);
  write_err(": internal error: ");
  write_err(what);
  write_err("; nothing further was changed; report this\n");
}

// What the exception being handled says; call only inside a catch or a
// terminate handler.
void report_current(std::exception_ptr e) {
  if (!e) {
    report("the program was terminated (std::terminate without an exception)");
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    report("out of memory");
  } catch (const std::exception& ex) {
    report(ex.what());
  } catch (...) {
    report("an unknown exception");
  }
}

// The registered cleanups, on a thread of their own so that one blocked on a
// mutex the dead thread held cannot keep the process alive: after a short
// while the process exits regardless.
void run_cleanups_bounded() {
  std::map<long, std::function<void()>> todo;
  {
    std::unique_lock<std::mutex> lock(cleanup_mutex(), std::try_to_lock);
    if (!lock.owns_lock()) return;
    todo = cleanups();
  }
  if (todo.empty()) return;
  auto done = std::make_shared<std::atomic<bool>>(false);
  try {
    std::thread([todo = std::move(todo), done] {
      for (auto& [id, fn] : todo) {
        try {
          fn();
        } catch (...) {
        }
      }
      done->store(true);
    }).detach();
  } catch (...) {
    return;
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!done->load() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

[[noreturn]] void on_terminate() {
  static std::atomic<bool> once{false};
  if (once.exchange(true)) std::_Exit(1);  // a second thread terminating meanwhile
  report_current(std::current_exception());
  run_cleanups_bounded();
  std::fflush(nullptr);
  // _Exit: static destructors must not run while other threads still do.
  std::_Exit(1);
}

void read_fault_hook() {
  auto value = default_env().get_env("EDGECERT_TEST_FAULT");
  if (!value || value->empty()) return;
  std::string mode = *value;
  std::string point = "main";
  if (auto at = mode.find('@'); at != std::string::npos) {
    point = mode.substr(at + 1);
    mode.resize(at);
  }
  if (mode == "throw")
    g_fault_mode = FaultMode::kThrow;
  else if (mode == "bad-alloc")
    g_fault_mode = FaultMode::kBadAlloc;
  else if (mode == "throw-int")
    g_fault_mode = FaultMode::kThrowInt;
  else if (mode == "thread-throw")
    g_fault_mode = FaultMode::kThreadThrow;
  else
    return;
  g_fault_point = point;
}

}  // namespace

void test_fault_point(std::string_view point) {
  if (g_fault_mode == FaultMode::kNone || point != g_fault_point) return;
  switch (g_fault_mode) {
    case FaultMode::kThrow:
      throw std::runtime_error("EDGECERT_TEST_FAULT=throw at " + std::string(point));
    case FaultMode::kBadAlloc:
      throw std::bad_alloc();
    case FaultMode::kThrowInt:
      throw 16;
    case FaultMode::kThreadThrow: {
      std::thread t([p = std::string(point)] {
        throw std::runtime_error("EDGECERT_TEST_FAULT=thread-throw at " + p);
      });
      t.join();
      return;
    }
    case FaultMode::kNone:
      return;
  }
}

int run_fenced(const char* program, const std::function<int()>& body) {
  g_program = program;
  std::set_terminate(on_terminate);
  try {
    read_fault_hook();
    test_fault_point("main");
    return body();
  } catch (...) {
    report_current(std::current_exception());
    return 1;
  }
}

FatalCleanup::FatalCleanup(std::function<void()> callback) {
  id_ = g_next_cleanup++;
  std::lock_guard<std::mutex> lock(cleanup_mutex());
  cleanups().emplace(id_, std::move(callback));
}

FatalCleanup::FatalCleanup(FatalCleanup&& other) noexcept : id_(other.id_) {
  other.id_ = 0;
}

FatalCleanup& FatalCleanup::operator=(FatalCleanup&& other) noexcept {
  if (this != &other) {
    unregister();
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

FatalCleanup::~FatalCleanup() {
  unregister();
}

void FatalCleanup::unregister() noexcept {
  if (id_ == 0) return;
  std::lock_guard<std::mutex> lock(cleanup_mutex());
  cleanups().erase(id_);
  id_ = 0;
}

}  // namespace edgecert
