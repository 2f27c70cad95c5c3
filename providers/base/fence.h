// The fence around every binary's main: nothing unexpected ends a process
// with an abort (exit 134, a core) or an exception's raw text; it ends with
// exit 1 and one line on stderr:
//
//   PROGRAM: internal error: WHAT; nothing further was changed; report this
//
// run_fenced catches what escapes `body` on the main thread (std::bad_alloc
// is "out of memory", a std::exception its what(), anything else "an unknown
// exception"); by then the stack has unwound, so RAII (the cluster lock,
// temporary files) has cleaned up. It also installs a std::terminate handler
// for what cannot be caught there (an exception escaping another thread, a
// throwing destructor): the same line, the FatalCleanup callbacks still
// registered (bounded in time: a cleanup blocked on a lock the dead thread
// held is abandoned), then _Exit(1).
//
// Test hook: EDGECERT_TEST_FAULT, read once by run_fenced, makes the process
// throw on purpose so tests can drive the real binaries through the fence. Its
// value is MODE or MODE@POINT; MODE is throw (std::runtime_error), bad-alloc,
// throw-int (an int) or thread-throw (a std::runtime_error escaping a new
// thread); POINT is where test_fault_point(POINT) is called: "main" (the
// default, run_fenced before `body`) or "apply-locked" (apply, right after it
// took the cluster lock). It only ever throws; any other value is ignored.
#pragma once

#include <functional>
#include <string_view>

namespace edgecert {

// Runs body() and returns its exit status, or 1 after printing the internal
// error line (see above) when it throws. `program` names the binary in the
// line ("edgecert", "edgecert-sim").
int run_fenced(const char* program, const std::function<int()>& body);

// Throws as EDGECERT_TEST_FAULT says when it names this point; otherwise (and
// always in a process that did not start through run_fenced) does nothing.
void test_fault_point(std::string_view point);

// While one of these is alive, its callback runs if the process dies through
// the terminate handler (where no destructor runs): e.g. the cluster lock
// removes its file. The callback must not throw and should not take locks
// other threads may hold. Moving transfers the registration.
class FatalCleanup {
 public:
  FatalCleanup() = default;
  explicit FatalCleanup(std::function<void()> callback);
  FatalCleanup(FatalCleanup&& other) noexcept;
  FatalCleanup& operator=(FatalCleanup&& other) noexcept;
  FatalCleanup(const FatalCleanup&) = delete;
  FatalCleanup& operator=(const FatalCleanup&) = delete;
  ~FatalCleanup();

 private:
  void unregister() noexcept;
  long id_ = 0;  // 0: nothing registered
};

}  // namespace edgecert
