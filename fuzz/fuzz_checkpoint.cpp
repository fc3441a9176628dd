// libFuzzer target: the checkpoint reader, parse_checkpoint<T>(name, bytes) (checkpoint_file.hpp),
// which parses from memory.
//
// A mutated file almost always fails the CRC-32 check before its body is parsed, so each input
// is parsed twice: as it is (the magic, version and checksum paths), and with its last 4 bytes
// replaced by the checksum of the rest (the body parser, which must bound every count and size by
// the bytes that remain). Both are parsed as float and as double. Whatever the reader accepts
// must survive a round trip: written by checkpoint_bytes and parsed again, it gives the same
// bytes again. Then Model::from_checkpoint rebuilds the graph it describes, and
// Sequential::from_checkpoint the chain, as their load() do: the architecture comes from the
// file's layer configs and connections, so it must be refused with a minicnn::Error (never a
// crash, an overflow, a huge allocation or a cycle) unless every parameter matches a stored
// tensor and every connection a layer before; a model it accepts must give back its own
// checkpoint.
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "minicnn/io/checkpoint_file.hpp"
#include "minicnn/io/model_file.hpp"

namespace {

using minicnn::fuzz::require;

const std::string kName = "fuzz.ckpt";

template <typename Model, typename T>
void rebuild(const minicnn::Checkpoint<T>& checkpoint) {
  Model model;
  try {
    model = Model::from_checkpoint(checkpoint);
  } catch (const minicnn::Error&) {
    return;  // refused: the file describes a model its tensors do not fit
  }
  const minicnn::Checkpoint<T> back = model.checkpoint(nullptr, checkpoint.epochs_completed);
  require(back.layers.size() == checkpoint.layers.size(),
          "a rebuilt model does not have the file's layers");
  for (std::size_t i = 0; i < back.layers.size(); ++i) {
    require(back.layers[i].tensors.size() == checkpoint.layers[i].tensors.size(),
            "a rebuilt layer does not have the file's tensors");
    require(back.layers[i].inputs == checkpoint.layers[i].inputs,
            "a rebuilt layer does not read what the file says");
  }
}

template <typename T>
void parse(const std::string& bytes) {
  minicnn::Checkpoint<T> checkpoint;
  try {
    checkpoint = minicnn::parse_checkpoint<T>(kName, bytes);
  } catch (const minicnn::Error& error) {
    require(minicnn::fuzz::names(error.what(), kName), "a checkpoint error does not name the file");
    return;
  }
  const std::string written = minicnn::checkpoint_bytes(checkpoint);
  const std::string again = minicnn::checkpoint_bytes(minicnn::parse_checkpoint<T>(kName, written));
  require(again == written, "a checkpoint accepted by the reader does not round-trip");
  rebuild<minicnn::Model<T>>(checkpoint);
  rebuild<minicnn::Sequential<T>>(checkpoint);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  parse<float>(bytes);
  parse<double>(bytes);
  namespace f = minicnn::checkpoint_format;
  if (bytes.size() < f::kChecksumBytes) return 0;
  const std::size_t body = bytes.size() - f::kChecksumBytes;
  std::uint32_t crc = f::crc32_of(bytes.data(), body);
  for (std::size_t i = 0; i < f::kChecksumBytes; ++i, crc >>= 8)
    bytes[body + i] = static_cast<char>(crc & 0xFF);
  parse<float>(bytes);
  parse<double>(bytes);
  return 0;
}
