#pragma once
// Errors of the core. Setup code runs on the caller's thread and throws SystemError; the
// worker threads never throw, they record a ThreadError that the caller reads after the fact.
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace mcbench {

class SystemError : public std::runtime_error {
 public:
  SystemError(int err, std::string syscall, const std::string& what)
      : std::runtime_error(what + ": " + std::strerror(err)), errno_(err), syscall_(std::move(syscall)) {}
  int code() const { return errno_; }
  const std::string& syscall() const { return syscall_; }

 private:
  int errno_;
  std::string syscall_;
};

struct ThreadError {
  int err = 0;               // 0: none
  const char* syscall = "";  // static string, safe to read after the thread stopped
};

}  // namespace mcbench
