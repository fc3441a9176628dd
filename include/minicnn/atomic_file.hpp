// write_file_atomically: replaces a file's contents all at once. The text goes to a temporary file
// next to the target, which is then renamed over it (rename() is atomic on POSIX): a reader, or a
// run interrupted mid-write, sees the old file or the new one, never half of one.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "minicnn/error.hpp"

namespace minicnn {

// `who` names the caller in error messages, e.g. "History::write_csv".
inline void write_file_atomically(const std::string& path, const std::string& contents,
                                  const std::string& who) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) fail(who, ": cannot open '", temporary, "' for writing: ", std::strerror(errno));
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      fail(who, ": cannot write '", temporary, "'");
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    fail(who, ": cannot rename '", temporary, "' to '", path, "': ", std::strerror(error));
  }
}

}  // namespace minicnn
