// write_file_atomically: replaces a file's contents all at once. The bytes go to a temporary file
// next to the target, are flushed to the disk (fsync), and the temporary is renamed over the
// target (rename() is atomic on POSIX), then the directory entry is flushed too. A reader, a run
// killed mid-write or a power cut sees the old file or the new one, never half of one. When
// anything fails the target is untouched, the temporary removed, and an Error names the path.
//
// The temporary is made by mkstemp(): `PATH.tmpXXXXXX` with a fresh random suffix, created with
// O_EXCL, so every call has its own, whether the calls come from several processes or from
// several threads of one process. The last rename wins: the target always holds the whole
// contents of one of the writes. mkstemp creates the file with mode 0600; it is set to 0644 before
// the rename, the mode a plain open() would give with the usual umask (reading the umask is not
// thread-safe, so it is not applied).
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "minicnn/error.hpp"

namespace minicnn {

// `who` names the caller in error messages, e.g. "History::write_csv".
inline void write_file_atomically(const std::string& path, const std::string& contents,
                                  const std::string& who) {
  const std::string pattern = path + ".tmpXXXXXX";
  std::vector<char> temporary(pattern.begin(), pattern.end());
  temporary.push_back('\0');  // mkstemp replaces the X's in place
  const int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
  if (fd < 0)
    fail(who, ": cannot create a temporary file next to '", path, "': ", std::strerror(errno));
  // Every failure from here on closes the temporary (when still open) and removes it. Messages
  // name the target: the temporary's random name means nothing to the user and is gone.
  const auto give_up = [&](int error, bool close_it, const char* action, const char* rest) {
    if (close_it) ::close(fd);
    std::remove(temporary.data());
    fail(who, ": cannot ", action, " '", path, "'", rest, ": ", std::strerror(error));
  };
  if (::fchmod(fd, 0644) != 0) give_up(errno, true, "create a temporary file next to", "");
  const char* data = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) give_up(written < 0 ? errno : EIO, true, "write", "");
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  // close() even when fsync() failed: the descriptor must not leak.
  const int synced = ::fsync(fd);
  const int sync_error = errno;
  const int closed = ::close(fd);
  if (synced != 0 || closed != 0)
    give_up(synced != 0 ? sync_error : errno, false, "flush", " to disk");
  if (std::rename(temporary.data(), path.c_str()) != 0) give_up(errno, false, "replace", "");
  // Flush the directory so that the rename itself survives a crash.
  std::string directory = std::filesystem::path(path).parent_path().string();
  if (directory.empty()) directory = ".";
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace minicnn
