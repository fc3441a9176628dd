// Specification of the checkpoint file (io/checkpoint_file.hpp) and the registry that rebuilds
// layers, optimizers and losses from it (layer_registry.hpp).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "minicnn/io/checkpoint_file.hpp"
#include "minicnn/layer_registry.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;
namespace fs = std::filesystem;

namespace {

template <typename T>
Checkpoint<T> sample_checkpoint() {
  Checkpoint<T> c;
  c.input_shape = {1, 28, 28};
  typename Checkpoint<T>::LayerEntry conv;
  conv.kind = "Conv2D";
  conv.name = "conv2d";
  conv.config = Conv2D<T>(4, 3).config();
  Random random(5);
  Tensor<T> kernel({4, 1, 3, 3}), bias({4});
  kernel.fill_uniform(random, T(-1), T(1));
  bias.fill_uniform(random, T(-1), T(1));
  conv.tensors = {{"kernel", kernel}, {"bias", bias}};
  typename Checkpoint<T>::LayerEntry dropout;
  dropout.kind = "Dropout";
  dropout.name = "dropout";
  dropout.config = Dropout<T>(0.25).config();
  random.normal();
  dropout.has_random = true;
  dropout.random = random.state();
  conv.inputs = {"input"};
  dropout.inputs = {"conv2d"};
  dropout.trainable = false;
  c.layers = {conv, dropout};
  c.output_name = "dropout";
  c.has_optimizer = true;
  c.optimizer_kind = "Adam";
  c.optimizer_config = Adam<T>().config();
  c.learning_rate = 5e-4;
  c.iterations = 17;
  Tensor<T> m({4, 1, 3, 3});
  m.fill_uniform(random, T(-1), T(1));
  c.optimizer_slots = {{"m/0", m}};
  c.epochs_completed = 3;
  return c;
}

template <typename T>
void check_equal(const Checkpoint<T>& a, const Checkpoint<T>& b) {
  CHECK(a.input_name == b.input_name);
  CHECK(a.input_shape == b.input_shape);
  CHECK(a.output_name == b.output_name);
  REQUIRE(a.layers.size() == b.layers.size());
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    CHECK(a.layers[i].kind == b.layers[i].kind);
    CHECK(a.layers[i].inputs == b.layers[i].inputs);
    CHECK(a.layers[i].trainable == b.layers[i].trainable);
    CHECK(a.layers[i].name == b.layers[i].name);
    CHECK(a.layers[i].config == b.layers[i].config);
    CHECK(a.layers[i].has_random == b.layers[i].has_random);
    CHECK(std::memcmp(&a.layers[i].random.words, &b.layers[i].random.words,
                      sizeof a.layers[i].random.words) == 0);
    CHECK(a.layers[i].random.has_spare_normal == b.layers[i].random.has_spare_normal);
    CHECK(a.layers[i].random.spare_normal == b.layers[i].random.spare_normal);
    REQUIRE(a.layers[i].tensors.size() == b.layers[i].tensors.size());
    for (std::size_t k = 0; k < a.layers[i].tensors.size(); ++k) {
      CHECK(a.layers[i].tensors[k].first == b.layers[i].tensors[k].first);
      CHECK(a.layers[i].tensors[k].second.shape() == b.layers[i].tensors[k].second.shape());
      CHECK(std::equal(a.layers[i].tensors[k].second.begin(), a.layers[i].tensors[k].second.end(),
                       b.layers[i].tensors[k].second.begin()));
    }
  }
  CHECK(a.has_optimizer == b.has_optimizer);
  CHECK(a.optimizer_kind == b.optimizer_kind);
  CHECK(a.optimizer_config == b.optimizer_config);
  CHECK(a.learning_rate == b.learning_rate);
  CHECK(a.iterations == b.iterations);
  REQUIRE(a.optimizer_slots.size() == b.optimizer_slots.size());
  CHECK(std::equal(a.optimizer_slots[0].second.begin(), a.optimizer_slots[0].second.end(),
                   b.optimizer_slots[0].second.begin()));
  CHECK(a.epochs_completed == b.epochs_completed);
}

// Replaces the trailing CRC-32 so that a deliberately malformed body passes the checksum.
std::string with_valid_checksum(std::string bytes) {
  const std::size_t body = bytes.size() - 4;
  const std::uint32_t crc = checkpoint_format::crc32_of(bytes.data(), body);
  for (int i = 0; i < 4; ++i)
    bytes[body + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  return bytes;
}

}  // namespace

TEST_CASE("a checkpoint reads back bit-identical, in float and in double") {
  testing::TempDir dir;
  const auto f = sample_checkpoint<float>();
  save_checkpoint((dir.path / "f.mcnn").string(), f);
  check_equal(f, load_checkpoint<float>((dir.path / "f.mcnn").string()));
  const auto d = sample_checkpoint<double>();
  save_checkpoint((dir.path / "d.mcnn").string(), d);
  check_equal(d, load_checkpoint<double>((dir.path / "d.mcnn").string()));
}

TEST_CASE("the same checkpoint always gives the same bytes") {
  CHECK(checkpoint_bytes(sample_checkpoint<float>()) ==
        checkpoint_bytes(sample_checkpoint<float>()));
  const std::string bytes = checkpoint_bytes(sample_checkpoint<float>());
  CHECK(bytes.substr(0, 8) == "MCNNCKPT");
  CHECK(bytes[8] == 2);   // version 2, little-endian
  CHECK(bytes[12] == 4);  // float32 values
}

TEST_CASE("a float checkpoint loads into double and back") {
  const auto f = sample_checkpoint<float>();
  const auto d = parse_checkpoint<double>("f.mcnn", checkpoint_bytes(f));
  CHECK(d.layers[0].tensors[0].second[5] == static_cast<double>(f.layers[0].tensors[0].second[5]));
}

TEST_CASE("a file that is not a checkpoint is refused by its magic") {
  CHECK_THROWS_WITH_AS(parse_checkpoint<float>("x.bin", "GIF89a..........."),
                       "load_checkpoint: 'x.bin' is not a minicnn checkpoint (expected the magic "
                       "bytes MCNNCKPT at its start)",
                       Error);
  CHECK_THROWS_WITH_AS(load_checkpoint<float>("/nonexistent/model.mcnn"),
                       "load_checkpoint: cannot open '/nonexistent/model.mcnn': No such file or "
                       "directory",
                       Error);
  testing::TempDir dir;
  // A file that is not a checkpoint gets the same message from load_checkpoint (which stops
  // reading after the first chunk; only the message is checked here).
  testing::Bytes image = {'G', 'I', 'F', '8', '9', 'a'};
  image.resize(3 << 20);
  const std::string gif = testing::write_raw(dir / "picture.gif", image);
  CHECK_THROWS_WITH_AS(load_checkpoint<float>(gif),
                       ("load_checkpoint: '" + gif +
                        "' is not a minicnn checkpoint (expected the magic bytes MCNNCKPT at its "
                        "start)")
                           .c_str(),
                       Error);
  CHECK_THROWS_WITH_AS(
      load_checkpoint<float>(dir.path.string()),
      ("load_checkpoint: cannot read '" + dir.path.string() + "': Is a directory").c_str(), Error);
}

TEST_CASE("an unknown format version is refused") {
  std::string bytes = checkpoint_bytes(sample_checkpoint<float>());
  bytes[8] = 3;
  CHECK_THROWS_WITH_AS(parse_checkpoint<float>("v3.mcnn", bytes),
                       "load_checkpoint: 'v3.mcnn' has format version 3; this minicnn reads "
                       "versions 1 to 2",
                       Error);
}

TEST_CASE("a checkpoint cut at any byte is refused") {
  const std::string bytes = checkpoint_bytes(sample_checkpoint<float>());
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    CAPTURE(length);
    CHECK_THROWS_AS(parse_checkpoint<float>("cut.mcnn", bytes.substr(0, length)), Error);
  }
  CHECK_THROWS_WITH_AS(parse_checkpoint<float>("cut.mcnn", bytes.substr(0, 14)),
                       "load_checkpoint: 'cut.mcnn' is truncated: 14 bytes, not even a header",
                       Error);
}

TEST_CASE("any flipped byte is caught by the checksum") {
  const std::string bytes = checkpoint_bytes(sample_checkpoint<float>());
  for (std::size_t i = 13; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    CAPTURE(i);
    CHECK_THROWS_AS(parse_checkpoint<float>("flip.mcnn", damaged), Error);
  }
  std::string damaged = bytes;
  damaged[100] = static_cast<char>(damaged[100] ^ 0x01);
  const auto stored = checkpoint_format::crc32_of(bytes.data(), bytes.size() - 4);
  const auto computed = checkpoint_format::crc32_of(damaged.data(), damaged.size() - 4);
  CHECK_THROWS_WITH_AS(parse_checkpoint<float>("flip.mcnn", damaged),
                       ("load_checkpoint: 'flip.mcnn' is corrupt or truncated: checksum " +
                        std::to_string(stored) + " stored, " + std::to_string(computed) +
                        " computed over its " + std::to_string(bytes.size() - 4) + " bytes")
                           .c_str(),
                       Error);
}

TEST_CASE("bytes after the last field are refused even with a valid checksum") {
  std::string bytes = checkpoint_bytes(sample_checkpoint<float>());
  bytes.insert(bytes.size() - 4, "junk");
  const std::size_t junk_at = bytes.size() - 8;
  CHECK_THROWS_WITH_AS(parse_checkpoint<float>("junk.mcnn", with_valid_checksum(bytes)),
                       ("load_checkpoint: 'junk.mcnn' is corrupt at byte " +
                        std::to_string(junk_at) + ": 4 unexpected bytes before the checksum")
                           .c_str(),
                       Error);
}

TEST_CASE("absurd counts and sizes are refused before anything is allocated") {
  Checkpoint<float> c;
  c.input_shape = {3};
  typename Checkpoint<float>::LayerEntry dense;
  dense.kind = "Dense";
  dense.name = "d";
  dense.tensors = {{"kernel", Tensor<float>({2, 2}, 1.0f)}};
  c.layers = {dense};
  const std::string bytes = checkpoint_bytes(c);
  // Offsets: header 13, input name 4 + 5, input shape 4 + 8, layer count 4 -> the first layer
  // starts at 38.
  const std::size_t layer_count_at = 34;
  std::string many_layers = bytes;
  many_layers[layer_count_at + 3] = 0x7f;  // 2^30-ish layers
  CHECK_THROWS_WITH_AS(parse_checkpoint<float>("big.mcnn", with_valid_checksum(many_layers)),
                       ("load_checkpoint: 'big.mcnn' is corrupt at byte 34: layer count claims " +
                        std::to_string(0x7f000001u) + " items, more than the " +
                        std::to_string(bytes.size() - 4 - 38) + " remaining bytes can hold")
                           .c_str(),
                       Error);
  // The kernel's first extent (after kind "Dense", name "d", 0 config entries, 0 inputs, the
  // trainable flag, 1 tensor, name "kernel", rank 2) becomes 2^40 + 2: the shape is read whole,
  // then its size is checked against the bytes left, and the message points at the start of the
  // tensor (its name, at byte 65).
  const std::size_t extent_at = 38 + (4 + 5) + (4 + 1) + 4 + 4 + 1 + 4 + (4 + 6) + 4;
  std::string huge = bytes;
  huge[extent_at + 5] = 1;
  CHECK_THROWS_WITH_AS(parse_checkpoint<float>("huge.mcnn", with_valid_checksum(huge)),
                       "load_checkpoint: 'huge.mcnn' is corrupt at byte 65: tensor 'kernel' of "
                       "shape (1099511627778, 2) is larger than the file",
                       Error);
  std::string negative = bytes;
  negative[extent_at + 7] = static_cast<char>(0xff);
  CHECK_THROWS_WITH_AS(parse_checkpoint<float>("neg.mcnn", with_valid_checksum(negative)),
                       "load_checkpoint: 'neg.mcnn' is corrupt at byte 79: layer tensors has a "
                       "negative extent -72057594037927934",
                       Error);
}

// The checkpoint the field-by-field refusals below damage: input (3), one Dense 'd' with a
// (2, 2) kernel of ones, no inputs named, no random state, no optimizer. Its 129 bytes, by offset:
//   0 magic, 8 version, 12 scalar, 13 input name "input", 22 input rank, 26 input extent,
//   34 layer count, 38 kind "Dense", 47 name "d", 52 config count, 56 input count,
//   60 trainable flag, 61 tensor count, 65 name "kernel", 75 rank, 79 and 87 extents,
//   95 four float32 values, 111 random flag, 112 output name "", 116 optimizer flag,
//   117 epochs completed, 125 CRC-32.
std::string small_dense_bytes() {
  Checkpoint<float> c;
  c.input_shape = {3};
  typename Checkpoint<float>::LayerEntry dense;
  dense.kind = "Dense";
  dense.name = "d";
  dense.tensors = {{"kernel", Tensor<float>({2, 2}, 1.0f)}};
  c.layers = {dense};
  const std::string bytes = checkpoint_bytes(c);
  REQUIRE(bytes.size() == 129);
  return bytes;
}

// `bytes` with `value` written little-endian over `width` bytes at `offset`, checksum renewed.
std::string patched(std::string bytes, std::size_t offset, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i)
    bytes[offset + static_cast<std::size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xFF);
  return with_valid_checksum(bytes);
}

TEST_CASE("every malformed field is refused, naming the byte where it starts") {
  const std::string bytes = small_dense_bytes();
  const auto refusal = [](const std::string& damaged) {
    try {
      parse_checkpoint<float>("bad.mcnn", damaged);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  const std::string prefix = "load_checkpoint: 'bad.mcnn' is corrupt at byte ";
  CHECK(refusal(patched(bytes, 12, 3, 1)) == prefix + "12: scalar type 3, expected 4 or 8");
  CHECK(refusal(patched(bytes, 13, 0x7f000005, 4)) ==
        prefix + "13: input name claims 2130706437 bytes, more than the limit 1048576");
  CHECK(refusal(patched(bytes, 22, 5, 4)) ==
        prefix + "22: input shape has rank 5, at most 4 allowed");
  CHECK(refusal(patched(bytes, 38, 0x7f000005, 4)) ==
        prefix + "38: layer kind claims 2130706437 bytes, more than the limit 1048576");
  CHECK(refusal(patched(bytes, 38, 0x10005, 4)) ==
        prefix + "38: layer kind needs 65541 bytes, only 83 remain");
  CHECK(refusal(patched(bytes, 56, 0x1000, 4)) ==
        prefix + "56: layer inputs claims 4096 items, more than the 65 remaining bytes can hold");
  CHECK(refusal(patched(bytes, 60, 2, 1)) == prefix + "60: trainable flag is 2, expected 0 or 1");
  CHECK(refusal(patched(bytes, 87, 4, 8)) ==
        prefix + "95: tensor data needs 32 bytes, only 30 remain");
  CHECK(refusal(patched(bytes, 111, 2, 1)) == prefix + "111: random flag is 2, expected 0 or 1");
  CHECK(refusal(patched(bytes, 112, 0x7f000005, 4)) ==
        prefix + "112: output name claims 2130706437 bytes, more than the limit 1048576");
  CHECK(refusal(patched(bytes, 116, 7, 1)) == prefix + "116: optimizer flag is 7, expected 0 or 1");
  CHECK(refusal(patched(bytes, 117, ~std::uint64_t{0}, 8)) ==
        prefix + "117: epochs completed is -1, expected >= 0");
}

TEST_CASE("a config with a repeated key and impossible optimizer or random state are refused") {
  Checkpoint<float> c;
  c.input_shape = {2};
  typename Checkpoint<float>::LayerEntry layer;
  layer.kind = "Dropout";
  layer.name = "x";
  layer.config.set("a", "1").set("b", "2");  // keys at 58 and 68 ("b" itself at 72)
  layer.has_random = true;
  c.layers = {layer};
  c.has_optimizer = true;
  c.optimizer_kind = "SGD";
  c.iterations = 4;
  const std::string bytes = checkpoint_bytes(c);
  // From the end: CRC 4, epochs 8, slot count 4, iterations 8, learning rate 8, optimizer config
  // count 4, kind 4 + 3, optimizer flag 1, output name 4 + 0, spare normal value 8, then the
  // spare normal flag.
  const std::size_t iterations_at = bytes.size() - 24;
  const std::size_t spare_flag_at = bytes.size() - 57;
  CHECK_THROWS_WITH_AS(parse_checkpoint<float>("dup.mcnn", patched(bytes, 72, 'a', 1)),
                       "load_checkpoint: 'dup.mcnn' is corrupt at byte 68: layer config has the "
                       "key 'a' twice",
                       Error);
  CHECK_THROWS_WITH_AS(
      parse_checkpoint<float>("it.mcnn", patched(bytes, iterations_at, ~std::uint64_t{4}, 8)),
      ("load_checkpoint: 'it.mcnn' is corrupt at byte " + std::to_string(iterations_at) +
       ": iterations is -5, expected >= 0")
          .c_str(),
      Error);
  CHECK_THROWS_WITH_AS(parse_checkpoint<float>("sn.mcnn", patched(bytes, spare_flag_at, 9, 1)),
                       ("load_checkpoint: 'sn.mcnn' is corrupt at byte " +
                        std::to_string(spare_flag_at) + ": spare normal flag is 9, expected 0 or 1")
                           .c_str(),
                       Error);
  CHECK(parse_checkpoint<float>("ok.mcnn", bytes).iterations == 4);
}

TEST_CASE("a failed save leaves the previous file intact") {
  testing::TempDir dir;
  const std::string path = (dir.path / "model.mcnn").string();
  save_checkpoint(path, sample_checkpoint<float>());
  const testing::Bytes before = testing::read_raw(path);
  // The target's directory disappears: the temporary cannot be created.
  const std::string missing = (dir.path / "gone" / "model.mcnn").string();
  CHECK_THROWS_WITH_AS(save_checkpoint(missing, sample_checkpoint<float>()),
                       ("save_checkpoint: cannot create a temporary file next to '" + missing +
                        "': No such file or directory")
                           .c_str(),
                       Error);
  // The target is a directory: the rename fails and the temporary is removed.
  fs::create_directories(dir.path / "taken.mcnn");
  const std::string taken = (dir.path / "taken.mcnn").string();
  CHECK_THROWS_WITH_AS(save_checkpoint(taken, sample_checkpoint<float>()),
                       ("save_checkpoint: cannot replace '" + taken + "': Is a directory").c_str(),
                       Error);
  CHECK(testing::read_raw(path) == before);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path))
    files += entry.is_regular_file();
  CHECK(files == 1);  // no temporary left behind
}

TEST_CASE("every layer kind is rebuilt from its config") {
  const std::vector<std::unique_ptr<Layer<float>>> layers = [] {
    std::vector<std::unique_ptr<Layer<float>>> all;
    all.push_back(std::make_unique<Add<float>>());
    all.push_back(std::make_unique<AvgPool2D<float>>(3, 2, Padding::same));
    all.push_back(std::make_unique<BatchNorm<float>>(0.9, 1e-5));
    all.push_back(std::make_unique<Concatenate<float>>(-1));
    all.push_back(std::make_unique<Conv2D<float>>(8, Size2(3, 5), 2, Padding::same, false));
    all.push_back(std::make_unique<Dense<float>>(7, false, Initializer::he_uniform));
    all.push_back(std::make_unique<DepthwiseConv2D<float>>(3, 2, Pads(1, 0, 1, 0), 2, false, 1));
    all.push_back(std::make_unique<Dropout<float>>(0.3));
    all.push_back(std::make_unique<Flatten<float>>());
    all.push_back(std::make_unique<GlobalAveragePooling2D<float>>());
    all.push_back(std::make_unique<LeakyReLU<float>>(0.1));
    all.push_back(std::make_unique<MaxPool2D<float>>(2, 1));
    all.push_back(std::make_unique<RandomAugmentation<float>>(augmentation_preset("flip_shift")));
    all.push_back(std::make_unique<ReLU<float>>());
    all.push_back(std::make_unique<SeparableConv2D<float>>(4, 3, 1, Padding::same, 2, true, 2));
    all.push_back(std::make_unique<Sigmoid<float>>());
    all.push_back(std::make_unique<Softmax<float>>());
    all.push_back(std::make_unique<Tanh<float>>());
    all.push_back(std::make_unique<ZeroPadding2D<float>>(1, 2));
    return all;
  }();
  CHECK(layers.size() == layer_factories<float>().size());
  for (const auto& layer : layers) {
    CAPTURE(layer->kind());
    const auto rebuilt = make_layer<float>(layer->kind(), layer->config());
    CHECK(rebuilt->kind() == layer->kind());
    CHECK(rebuilt->config() == layer->config());
  }
}

TEST_CASE("optimizers and losses are rebuilt from their configs") {
  const SGD<double> sgd(0.05, 0.9, true, 1e-4);
  CHECK(make_optimizer<double>("SGD", sgd.config())->config() == sgd.config());
  const Adam<double> adam(2e-3);
  CHECK(make_optimizer<double>("Adam", adam.config())->config() == adam.config());
  const RMSprop<double> rmsprop(1e-2, 0.8);
  CHECK(make_optimizer<double>("RMSprop", rmsprop.config())->config() == rmsprop.config());
  const SparseCategoricalCrossentropy<double> loss(true);
  CHECK(make_loss<double>(loss.kind(), loss.config())->config() == loss.config());
}

TEST_CASE("an unknown kind is refused with the list of known ones") {
  CHECK_THROWS_WITH_AS(make_layer<float>("Conv3D", Config()),
                       "make_layer: unknown kind 'Conv3D'; known kinds: Add, AveragePooling2D, "
                       "BatchNormalization, Concatenate, Conv2D, Dense, DepthwiseConv2D, Dropout, "
                       "Flatten, GlobalAveragePooling2D, LeakyReLU, MaxPooling2D, "
                       "RandomAugmentation, ReLU, SeparableConv2D, Sigmoid, Softmax, Tanh, "
                       "ZeroPadding2D",
                       Error);
  CHECK_THROWS_WITH_AS(make_optimizer<float>("Adagrad", Config()),
                       "make_optimizer: unknown kind 'Adagrad'; known kinds: Adam, RMSprop, SGD",
                       Error);
  CHECK_THROWS_WITH_AS(make_loss<float>("Hinge", Config()),
                       "make_loss: unknown kind 'Hinge'; known kinds: CategoricalCrossentropy, "
                       "MeanSquaredError, SparseCategoricalCrossentropy",
                       Error);
}
