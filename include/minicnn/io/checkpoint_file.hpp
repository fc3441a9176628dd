// The checkpoint file: Checkpoint<T> (checkpoint.hpp) on disk. docs/checkpoint-format.md
// specifies it byte by byte; in short, all integers little-endian and fixed-width:
//
//   magic        8 bytes  "MCNNCKPT"
//   version      u32      2
//   scalar       u8       4 (float32) or 8 (float64): how tensor values are stored
//   input        name (string), shape (one sample)
//   layers       u32 count, then per layer: kind, name (strings), config (u32 count, then key
//                and value strings), inputs (u32 count, then names), u8 trainable, tensors (u32
//                count, then named tensors), u8 has_random, and when 1: 4 x u64 state words, u8
//                has_spare_normal, f64 spare_normal
//   output       name (string) of the layer whose output is the model's
//   optimizer    u8 present; when 1: kind, config, f64 learning rate, i64 iterations, u32
//                count and named tensors (the slots, "<slot>/<parameter path>")
//   epochs       i64      epochs completed
//   crc32        u32      CRC-32 (zlib's) of every byte before it
//
//   string       u32 length (<= 1 MiB), then the bytes
//   shape        u32 rank (<= 4), then rank x i64 extents (>= 0)
//   named tensor string name, shape, then size x scalar values
//
// Saving writes the whole file to a temporary and renames it over the target
// (atomic_file.hpp): a crash leaves the previous checkpoint intact. Loading checks the magic, the
// version, the length and the checksum before it reads anything else, then bounds every count
// and size by the bytes that remain, so a corrupt or truncated file is refused with an Error
// naming the file, and never makes minicnn allocate what a broken header claims.
//
// Version 1 files (chains, before graphs were stored) still load: no input name ("input"), no
// inputs, trainable flags or output name (each layer reads the one before; none is frozen), and
// optimizer slots named by parameter position ("m/3"), which are renamed by path.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "minicnn/atomic_file.hpp"
#include "minicnn/checkpoint.hpp"
#include "minicnn/error.hpp"

namespace minicnn {

namespace checkpoint_format {

inline constexpr char kMagic[8] = {'M', 'C', 'N', 'N', 'C', 'K', 'P', 'T'};
inline constexpr std::uint32_t kVersion = 2;
inline constexpr std::uint32_t kOldestVersion = 1;
inline constexpr std::uint32_t kMaxString = 1u << 20;
inline constexpr std::size_t kHeaderBytes = 8 + 4 + 1;
inline constexpr std::size_t kChecksumBytes = 4;

inline std::uint32_t crc32_of(const char* data, std::size_t size) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  while (size > 0) {  // zlib takes uInt lengths: feed it in chunks
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

inline bool has_magic(const std::string& bytes) {
  return bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0;
}
[[noreturn]] inline void not_a_checkpoint(const std::string& path) {
  fail("load_checkpoint: '", path, "' is not a minicnn checkpoint (expected the magic bytes ",
       "MCNNCKPT at its start)");
}

// Appends little-endian fixed-width values to a byte string.
class Writer {
 public:
  void bytes(const void* data, std::size_t size) {
    out_.append(static_cast<const char*>(data), size);
  }
  template <typename U>
  void integer(U value) {
    static_assert(std::is_integral_v<U>);
    using Unsigned = std::make_unsigned_t<U>;
    auto bits = static_cast<Unsigned>(value);
    for (std::size_t i = 0; i < sizeof(U); ++i) {
      out_.push_back(static_cast<char>(bits & 0xFF));
      bits = static_cast<Unsigned>(bits >> 8);
    }
  }
  void real64(double value) {
    std::uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    integer(bits);
  }
  void real32(float value) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    integer(bits);
  }
  void string(const std::string& text) {
    integer(static_cast<std::uint32_t>(text.size()));
    bytes(text.data(), text.size());
  }
  void shape(const Shape& s) {
    integer(static_cast<std::uint32_t>(s.rank()));
    for (int axis = 0; axis < s.rank(); ++axis)
      integer(static_cast<std::int64_t>(s[axis]));
  }
  void config(const Config& c) {
    integer(static_cast<std::uint32_t>(c.entries().size()));
    for (const auto& [key, value] : c.entries()) {
      string(key);
      string(value);
    }
  }
  template <typename T>
  void tensors(const std::vector<std::pair<std::string, Tensor<T>>>& named, std::uint8_t scalar) {
    integer(static_cast<std::uint32_t>(named.size()));
    for (const auto& [name, tensor] : named) {
      string(name);
      shape(tensor.shape());
      for (const T value : tensor) {
        if (scalar == 4)
          real32(static_cast<float>(value));
        else
          real64(static_cast<double>(value));
      }
    }
  }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

// Reads what Writer wrote, refusing to read past the end or to accept absurd sizes.
class Reader {
 public:
  Reader(const std::string& path, const char* data, std::size_t size)
      : path_(path), data_(data), size_(size) {}

  std::size_t offset() const { return offset_; }
  std::size_t remaining() const { return size_ - offset_; }

  // Refuses the file, naming the byte offset where the offending field starts.
  [[noreturn]] void corrupt(const std::string& what) const { corrupt_at(field_, what); }
  [[noreturn]] void corrupt_at(std::size_t offset, const std::string& what) const {
    fail("load_checkpoint: '", path_, "' is corrupt at byte ", offset, ": ", what);
  }

  void need(std::size_t bytes, const char* what) const {
    if (bytes > remaining())
      corrupt(detail::concat(what, " needs ", bytes, " bytes, only ", remaining(), " remain"));
  }
  template <typename U>
  U integer(const char* what) {
    field_ = offset_;
    need(sizeof(U), what);
    std::make_unsigned_t<U> bits = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i)
      bits |= static_cast<std::make_unsigned_t<U>>(
          static_cast<std::make_unsigned_t<U>>(static_cast<unsigned char>(data_[offset_ + i]))
          << (8 * i));
    offset_ += sizeof(U);
    return static_cast<U>(bits);
  }
  double real64(const char* what) {
    const auto bits = integer<std::uint64_t>(what);
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }
  float real32(const char* what) {
    const auto bits = integer<std::uint32_t>(what);
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }
  std::string string(const char* what) {
    const auto length = integer<std::uint32_t>(what);
    if (length > kMaxString)
      corrupt(detail::concat(what, " claims ", length, " bytes, more than the limit ", kMaxString));
    need(length, what);
    std::string text(data_ + offset_, length);
    offset_ += length;
    return text;
  }
  // A one-byte flag: 0 or 1.
  bool flag(const char* what) {
    const auto value = integer<std::uint8_t>(what);
    if (value > 1)
      corrupt(detail::concat(what, " is ", static_cast<int>(value), ", expected 0 or 1"));
    return value == 1;
  }
  // A non-negative i64 (a count of iterations or epochs).
  Index non_negative(const char* what) {
    const auto value = integer<std::int64_t>(what);
    if (value < 0) corrupt(detail::concat(what, " is ", value, ", expected >= 0"));
    return static_cast<Index>(value);
  }
  // A count of items each at least `min_item_bytes` long: bounded by the bytes that remain.
  std::uint32_t count(const char* what, std::size_t min_item_bytes) {
    const auto n = integer<std::uint32_t>(what);
    if (static_cast<std::size_t>(n) * min_item_bytes > remaining())
      corrupt(detail::concat(what, " claims ", n, " items, more than the ", remaining(),
                             " remaining bytes can hold"));
    return n;
  }
  Shape shape(const char* what) {
    const auto rank = integer<std::uint32_t>(what);
    if (rank > static_cast<std::uint32_t>(Shape::kMaxRank))
      corrupt(detail::concat(what, " has rank ", rank, ", at most ", Shape::kMaxRank, " allowed"));
    Shape s;
    for (std::uint32_t axis = 0; axis < rank; ++axis) {
      const auto extent = integer<std::int64_t>(what);
      if (extent < 0) corrupt(detail::concat(what, " has a negative extent ", extent));
      s.push_back(static_cast<Index>(extent));
    }
    return s;
  }
  Config config(const char* what) {
    Config c;
    const auto entries = count(what, 8);
    for (std::uint32_t i = 0; i < entries; ++i) {
      const std::size_t key_at = offset_;
      std::string key = string(what);
      if (c.has(key)) corrupt_at(key_at, detail::concat(what, " has the key '", key, "' twice"));
      c.set(key, string(what));
    }
    return c;
  }
  template <typename T>
  std::vector<std::pair<std::string, Tensor<T>>> tensors(const char* what, std::uint8_t scalar) {
    std::vector<std::pair<std::string, Tensor<T>>> named;
    const auto n = count(what, 8);
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::size_t tensor_at = offset_;
      std::string name = string(what);
      const Shape s = shape(what);
      // Extents are checked one by one against the bytes left, so their product cannot overflow.
      std::size_t elements = 1;
      for (int axis = 0; axis < s.rank(); ++axis) {
        const auto extent = static_cast<std::size_t>(s[axis]);
        if (extent != 0 && elements > remaining() / extent)
          corrupt_at(tensor_at, detail::concat("tensor '", name, "' of shape ", s,
                                               " is larger than the file"));
        elements *= extent;
      }
      field_ = offset_;
      need(elements * scalar, "tensor data");
      Tensor<T> tensor(s);
      for (T& value : tensor)
        value = static_cast<T>(scalar == 4 ? static_cast<double>(real32("tensor data"))
                                           : real64("tensor data"));
      named.emplace_back(std::move(name), std::move(tensor));
    }
    return named;
  }

 private:
  std::string path_;
  const char* data_;
  std::size_t size_;
  std::size_t offset_ = 0;
  std::size_t field_ = 0;  // where the field being read starts
};

}  // namespace checkpoint_format

namespace checkpoint_format {

// Version 1 named a slot "<slot>/<position>", the position counting every tensor of every layer
// in order; its path is "<layer name>/<tensor name>" (Parameter::path). A name that is not of that
// form is kept, and refused later by the model that reads it.
template <typename T>
void name_slots_by_path(Checkpoint<T>& c) {
  std::vector<std::string> paths;
  for (const auto& layer : c.layers)
    for (const auto& tensor : layer.tensors)
      paths.push_back(layer.name + "/" + tensor.first);
  for (auto& slot : c.optimizer_slots) {
    std::string& name = slot.first;
    const std::size_t slash = name.find('/');
    if (slash == std::string::npos || slash + 1 == name.size()) continue;
    std::size_t position = 0;
    bool digits = true;
    for (std::size_t i = slash + 1; i < name.size() && digits; ++i) {
      digits = name[i] >= '0' && name[i] <= '9' && position < paths.size();
      position = position * 10 + static_cast<std::size_t>(name[i] - '0');
    }
    if (digits && position < paths.size()) name = name.substr(0, slash + 1) + paths[position];
  }
}

}  // namespace checkpoint_format

// The bytes of a checkpoint file, values stored as T (float32 for float, float64 for double).
template <typename T>
std::string checkpoint_bytes(const Checkpoint<T>& c) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  constexpr std::uint8_t scalar = sizeof(T);
  checkpoint_format::Writer w;
  w.bytes(checkpoint_format::kMagic, sizeof checkpoint_format::kMagic);
  w.integer(checkpoint_format::kVersion);
  w.integer(scalar);
  w.string(c.input_name);
  w.shape(c.input_shape);
  w.integer(static_cast<std::uint32_t>(c.layers.size()));
  for (const auto& layer : c.layers) {
    w.string(layer.kind);
    w.string(layer.name);
    w.config(layer.config);
    w.integer(static_cast<std::uint32_t>(layer.inputs.size()));
    for (const std::string& input : layer.inputs)
      w.string(input);
    w.integer(static_cast<std::uint8_t>(layer.trainable ? 1 : 0));
    w.tensors(layer.tensors, scalar);
    w.integer(static_cast<std::uint8_t>(layer.has_random ? 1 : 0));
    if (layer.has_random) {
      for (std::uint64_t word : layer.random.words)
        w.integer(word);
      w.integer(static_cast<std::uint8_t>(layer.random.has_spare_normal ? 1 : 0));
      w.real64(layer.random.spare_normal);
    }
  }
  w.string(c.output_name);
  w.integer(static_cast<std::uint8_t>(c.has_optimizer ? 1 : 0));
  if (c.has_optimizer) {
    w.string(c.optimizer_kind);
    w.config(c.optimizer_config);
    w.real64(c.learning_rate);
    w.integer(static_cast<std::int64_t>(c.iterations));
    w.tensors(c.optimizer_slots, scalar);
  }
  w.integer(static_cast<std::int64_t>(c.epochs_completed));
  const std::uint32_t crc = checkpoint_format::crc32_of(w.str().data(), w.str().size());
  w.integer(crc);
  return std::move(w.str());
}

// Writes `c` to `path` atomically.
template <typename T>
void save_checkpoint(const std::string& path, const Checkpoint<T>& c) {
  write_file_atomically(path, checkpoint_bytes(c), "save_checkpoint");
}

// Parses checkpoint bytes read from `path` (the name is used in messages only).
template <typename T>
Checkpoint<T> parse_checkpoint(const std::string& path, const std::string& bytes) {
  namespace f = checkpoint_format;
  if (!f::has_magic(bytes)) f::not_a_checkpoint(path);
  if (bytes.size() < f::kHeaderBytes + f::kChecksumBytes)
    fail("load_checkpoint: '", path, "' is truncated: ", bytes.size(), " bytes, not even a header");
  f::Reader header(path, bytes.data(), bytes.size());
  header.need(sizeof f::kMagic, "magic");
  for (std::size_t i = 0; i < sizeof f::kMagic; ++i)
    header.integer<std::uint8_t>("magic");
  const auto version = header.integer<std::uint32_t>("version");
  if (version < f::kOldestVersion || version > f::kVersion)
    fail("load_checkpoint: '", path, "' has format version ", version,
         "; this minicnn reads versions ", f::kOldestVersion, " to ", f::kVersion);
  const std::size_t body = bytes.size() - f::kChecksumBytes;
  f::Reader trailer(path, bytes.data() + body, f::kChecksumBytes);
  const auto stored = trailer.integer<std::uint32_t>("checksum");
  const auto computed = f::crc32_of(bytes.data(), body);
  if (stored != computed)
    fail("load_checkpoint: '", path, "' is corrupt or truncated: checksum ", stored, " stored, ",
         computed, " computed over its ", body, " bytes");

  f::Reader r(path, bytes.data(), body);
  for (std::size_t i = 0; i < f::kHeaderBytes - 1; ++i)
    r.integer<std::uint8_t>("header");
  const auto scalar = r.integer<std::uint8_t>("scalar type");
  if (scalar != 4 && scalar != 8)
    r.corrupt(detail::concat("scalar type ", int(scalar), ", expected 4 or 8"));

  const bool graph = version >= 2;
  Checkpoint<T> c;
  if (graph) c.input_name = r.string("input name");
  c.input_shape = r.shape("input shape");
  const auto layers = r.count("layer count", graph ? 22 : 16);
  for (std::uint32_t i = 0; i < layers; ++i) {
    typename Checkpoint<T>::LayerEntry layer;
    layer.kind = r.string("layer kind");
    layer.name = r.string("layer name");
    layer.config = r.config("layer config");
    if (graph) {
      const auto inputs = r.count("layer inputs", 4);
      for (std::uint32_t k = 0; k < inputs; ++k)
        layer.inputs.push_back(r.string("layer input"));
      layer.trainable = r.flag("trainable flag");
    }
    layer.tensors = r.template tensors<T>("layer tensors", scalar);
    layer.has_random = r.flag("random flag");
    if (layer.has_random) {
      for (std::uint64_t& word : layer.random.words)
        word = r.integer<std::uint64_t>("random state");
      layer.random.has_spare_normal = r.flag("spare normal flag");
      layer.random.spare_normal = r.real64("random state");
    }
    c.layers.push_back(std::move(layer));
  }
  if (graph)
    c.output_name = r.string("output name");
  else
    c.link_as_chain();
  c.has_optimizer = r.flag("optimizer flag");
  if (c.has_optimizer) {
    c.optimizer_kind = r.string("optimizer kind");
    c.optimizer_config = r.config("optimizer config");
    c.learning_rate = r.real64("learning rate");
    c.iterations = r.non_negative("iterations");
    c.optimizer_slots = r.template tensors<T>("optimizer slots", scalar);
    if (!graph) f::name_slots_by_path(c);
  }
  c.epochs_completed = r.non_negative("epochs completed");
  if (r.remaining() != 0)
    r.corrupt_at(r.offset(),
                 detail::concat(r.remaining(), " unexpected bytes before the checksum"));
  return c;
}

// Reads and validates the checkpoint at `path`. The file is read with POSIX calls, so that
// every failure (missing file, a directory, an I/O error) becomes an Error with the system's
// reason instead of a stream's silent failbit or std::ios_base::failure. A file that is not a
// checkpoint (a dataset passed by mistake) is refused after its first bytes, not read whole; a
// checkpoint is read into one buffer of its size.
template <typename T>
Checkpoint<T> load_checkpoint(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("load_checkpoint: cannot open '", path, "': ", std::strerror(errno));
  std::string bytes;
  bool magic_checked = false;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int error = errno;
      ::close(fd);
      fail("load_checkpoint: cannot read '", path, "': ", std::strerror(error));
    }
    if (got == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(got));
    if (!magic_checked && bytes.size() >= sizeof checkpoint_format::kMagic) {
      magic_checked = true;
      if (!checkpoint_format::has_magic(bytes)) {
        ::close(fd);
        checkpoint_format::not_a_checkpoint(path);
      }
      struct stat status;
      if (::fstat(fd, &status) == 0 && status.st_size > 0)
        bytes.reserve(static_cast<std::size_t>(status.st_size));
    }
  }
  ::close(fd);
  return parse_checkpoint<T>(path, bytes);
}

}  // namespace minicnn
