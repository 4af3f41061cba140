#pragma once
// flock(2) for the JS side, which has none: a lock file per global setting serializes mcbench
// processes from saving a setting to restoring it. The lock belongs to the open file
// description, so the kernel drops it when the process dies however it dies (SIGKILL included).
// Non-blocking only: the caller polls, so its event loop (signals, timers) keeps running.

namespace mcbench {

// Takes an exclusive lock on fd; false when another open file description holds one (EWOULDBLOCK).
// Throws SystemError on any other error (EBADF, ENOLCK, ...).
bool tryLockExclusive(int fd);

// Drops the lock on fd (closing the fd does the same).
void unlock(int fd);

}  // namespace mcbench
