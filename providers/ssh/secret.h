// A password held by the ssh layer: wiped on destruction and on move-from,
// not copyable, never printed. The ssh layer sits on base only, so it cannot
// use pki::SecretString; the caller moves the password in from one
// (Secret(secret_string.view())).
#pragma once

#include <string>
#include <string_view>

namespace edgecert::ssh {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view data) : data_(data) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : data_(std::move(other.data_)) { other.wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      wipe();
      data_ = std::move(other.data_);
      other.wipe();
    }
    return *this;
  }
  ~Secret() { wipe(); }

  const char* c_str() const { return data_.c_str(); }
  std::string_view view() const { return data_; }
  bool empty() const { return data_.empty(); }
  // Constant-time comparison (no early exit on the first differing byte).
  bool equals(std::string_view other) const;

 private:
  void wipe();
  std::string data_;
};

}  // namespace edgecert::ssh
