// What the fuzz targets share: a scratch file per process for the readers that take a path, and
// the rule that decides what is a finding.
//
// The data readers (idx.hpp, cifar.hpp) read files through InputFile and have no in-memory entry
// point, so each input is written to one file in a per-process directory on a tmpfs (/dev/shm
// when it exists): no disk traffic, and parallel fuzzers (-jobs) never share a file.
//
// A finding is anything but a clean return or a minicnn::Error: another exception type escapes
// LLVMFuzzerTestOneInput and libFuzzer reports it; crashes, sanitizer reports, timeouts and
// out-of-memory are reported by libFuzzer itself. require() turns a broken invariant into an
// abort, which libFuzzer also reports, with the input that caused it.
#pragma once

#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace minicnn::fuzz {

// Aborts with `what` when an invariant of the reader under test does not hold.
inline void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

// One directory per process, created on first use and removed at exit.
class ScratchDir {
 public:
  static const std::string& path() {
    static ScratchDir dir;
    return dir.path_;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

 private:
  ScratchDir() {
    const std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string name = base + "/minicnn-fuzz-XXXXXX";
    require(mkdtemp(name.data()) != nullptr, "cannot create the scratch directory");
    path_ = name;
  }
  ~ScratchDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  std::string path_;
};

// Writes `bytes` as they are to `name` in the scratch directory; returns the full path.
inline std::string write_raw(const std::string& name, const std::uint8_t* bytes, std::size_t size) {
  const std::string path = ScratchDir::path() + "/" + name;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  require(file != nullptr, "cannot create a scratch file");
  require(size == 0 || std::fwrite(bytes, 1, size, file) == size, "cannot write a scratch file");
  require(std::fclose(file) == 0, "cannot close a scratch file");
  return path;
}

// Writes `bytes` gzip-compressed (fastest level: the content matters, not the ratio).
inline std::string write_gz(const std::string& name, const std::uint8_t* bytes, std::size_t size) {
  const std::string path = ScratchDir::path() + "/" + name;
  gzFile file = gzopen(path.c_str(), "wb1");
  require(file != nullptr, "cannot create a scratch gzip file");
  require(size == 0 || gzwrite(file, bytes, static_cast<unsigned>(size)) == static_cast<int>(size),
          "cannot write a scratch gzip file");
  require(gzclose(file) == Z_OK, "cannot close a scratch gzip file");
  return path;
}

// True when zlib will decompress the file rather than pass it through: the gzip magic bytes.
inline bool looks_gzip(const std::uint8_t* bytes, std::size_t size) {
  return size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

// Every error of a file reader names the file: the message must contain its path.
inline bool names(const std::string& message, const std::string& path) {
  return message.find("'" + path + "'") != std::string::npos;
}

}  // namespace minicnn::fuzz
