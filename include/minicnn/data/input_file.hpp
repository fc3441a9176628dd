// InputFile: reads a data file that is either raw or gzip-compressed, transparently (zlib's gz*
// functions pass raw files through unchanged), and knows how many bytes of content it holds
// BEFORE the caller allocates anything. Readers compare that count with what a file's header
// claims, so a corrupt header that claims gigabytes is refused without allocating them.
//
// The content size of a raw file is its size on disk. A gzip file does not record it (the
// trailer's ISIZE is the size modulo 2^32 of the last member only), so it is counted by
// decompressing once into a small fixed buffer; the readers then rewind and read for real. Two
// passes cost a fraction of a second on MNIST and are exact where any bound would not be.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

#include "minicnn/error.hpp"

namespace minicnn {

class InputFile {
 public:
  // `kind` names the format in error messages ("IDX file", "CIFAR-10 file").
  InputFile(const std::string& path, const std::string& kind) : path_(path), kind_(kind) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error))
      fail(kind_, " '", path_, "': expected an existing regular file, found none");
    const auto size = std::filesystem::file_size(path, error);
    if (error) fail(kind_, " '", path_, "': cannot read its size (", error.message(), ")");
    size_on_disk_ = static_cast<std::uint64_t>(size);
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) fail(kind_, " '", path_, "': cannot open it for reading");
    compressed_ = gzdirect(file_) == 0;
  }
  ~InputFile() { gzclose_r(file_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  // "IDX file 'data/mnist/train-labels-idx1-ubyte'": the prefix of every error message.
  std::string describe() const { return kind_ + " '" + path_ + "'"; }
  bool compressed() const { return compressed_; }

  // Bytes of content: the file size when raw, the decompressed size when gzip. Leaves the read
  // position at the start.
  std::uint64_t content_size() {
    if (!compressed_) return size_on_disk_;
    std::uint64_t total = 0;
    std::array<unsigned char, 1 << 16> buffer;
    for (;;) {
      const std::size_t got = read_some(buffer.data(), buffer.size());
      if (got == 0) break;
      total += got;
    }
    rewind();
    return total;
  }

  // Reads exactly `count` bytes into `out`; the caller has checked content_size() first, so a
  // short read here means the file changed underneath us.
  void read_exactly(void* out, std::uint64_t count) {
    auto* bytes = static_cast<unsigned char*>(out);
    std::uint64_t done = 0;
    while (done < count) {
      const std::size_t got = read_some(bytes + done, count - done);
      if (got == 0)
        fail(describe(), ": expected ", count, " more bytes, got ", done,
             " (the file changed while it was read)");
      done += got;
    }
  }

  void rewind() {
    if (gzrewind(file_) != 0) fail(describe(), ": cannot rewind it");
  }

 private:
  // Up to `count` bytes; 0 only at the end of the content. gzread takes an unsigned int, hence
  // the cap per call.
  std::size_t read_some(unsigned char* out, std::uint64_t count) {
    const auto chunk = static_cast<unsigned>(std::min<std::uint64_t>(count, INT_MAX));
    const int got = gzread(file_, out, chunk);
    int status = Z_OK;
    const char* message = gzerror(file_, &status);
    if (got < 0 || (status != Z_OK && status != Z_BUF_ERROR))
      fail(describe(), ": corrupt gzip data (zlib: ", without_path(message), ")");
    // zlib reports a stream cut short as Z_BUF_ERROR ("unexpected end of file") once the input
    // is exhausted before the gzip trailer.
    if (got == 0 && status == Z_BUF_ERROR)
      fail(describe(), ": expected a complete gzip stream, got one cut short (truncated file)");
    return static_cast<std::size_t>(got);
  }

  // gzerror() prefixes its message with the path, which describe() already gives.
  std::string without_path(const char* message) const {
    const std::string text = message;
    const std::string prefix = path_ + ": ";
    return text.compare(0, prefix.size(), prefix) == 0 ? text.substr(prefix.size()) : text;
  }

  std::string path_;
  std::string kind_;
  std::uint64_t size_on_disk_ = 0;
  gzFile file_ = nullptr;
  bool compressed_ = false;
};

}  // namespace minicnn
