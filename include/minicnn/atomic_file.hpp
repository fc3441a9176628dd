// write_file_atomically: replaces a file's contents all at once. The bytes go to a temporary file
// next to the target, are flushed to the disk (fsync), and the temporary is renamed over the
// target (rename() is atomic on POSIX), then the directory entry is flushed too. A reader, a run
// killed mid-write or a power cut sees the old file or the new one, never half of one. When
// anything fails the target is untouched, the temporary removed, and an Error names the path.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "minicnn/error.hpp"

namespace minicnn {

// `who` names the caller in error messages, e.g. "History::write_csv".
inline void write_file_atomically(const std::string& path, const std::string& contents,
                                  const std::string& who) {
  const std::string temporary = path + ".tmp" + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(who, ": cannot open '", temporary, "' for writing: ", std::strerror(errno));
  const char* data = contents.data();
  std::size_t left = contents.size();
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      const int error = errno;
      ::close(fd);
      std::remove(temporary.c_str());
      fail(who, ": cannot write '", temporary, "': ", std::strerror(error));
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  // close() even when fsync() failed: the descriptor must not leak.
  const int synced = ::fsync(fd);
  const int sync_error = errno;
  const int closed = ::close(fd);
  if (synced != 0 || closed != 0) {
    const int error = synced != 0 ? sync_error : errno;
    std::remove(temporary.c_str());
    fail(who, ": cannot flush '", temporary, "' to disk: ", std::strerror(error));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    fail(who, ": cannot rename '", temporary, "' to '", path, "': ", std::strerror(error));
  }
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
