#include "flock.h"

#include <sys/file.h>

#include <cerrno>

#include "error.h"

namespace mcbench {

bool tryLockExclusive(int fd) {
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return false;
    throw SystemError(errno, "flock", "flock(LOCK_EX)");
  }
}

void unlock(int fd) {
  for (;;) {
    if (::flock(fd, LOCK_UN) == 0) return;
    if (errno == EINTR) continue;
    throw SystemError(errno, "flock", "flock(LOCK_UN)");
  }
}

}  // namespace mcbench
