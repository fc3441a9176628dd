// Specification of transfer learning (model/transfer.hpp) and of the backbones' preprocessing
// (Normalization::preprocess_input): where a backbone is cut, the copy of its weights onto new
// images, frozen and unfrozen layers, feature extraction and fine-tuning on a folder of photos
// written by the test (three colour classes, PNG and JPEG, mixed sizes), and every refusal.
//
// The "pretrained" backbone is a small residual CNN with random weights and made-up BatchNorm
// statistics: what is checked is what the workflows do with a backbone's weights, not ImageNet's.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "minicnn/data/image_folder.hpp"
#include "minicnn/minicnn.hpp"
#include "minicnn/model/transfer.hpp"
#include "support/image_files.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;
using namespace minicnn::testing;

namespace {

// input (3, 16, 16) -> conv2d, BN, ReLU -> conv2d_1, BN, + -> ReLU -> max pool -> conv2d_2, BN,
// ReLU -> global average pool (16) -> dense (5) -> softmax. Layer k of the list below is
// model.layer(k).
Model<float> small_backbone() {
  Model<float> m;
  const Node x = m.input({3, 16, 16}, "images");
  Node y = m.add<ReLU>(m.add<BatchNorm>(m.add<Conv2D>(x, 8, 3, 1, Padding::same)));  // 0 1 2
  const Node z = m.add<BatchNorm>(m.add<Conv2D>(y, 8, 3, 1, Padding::same));         // 3 4
  y = m.add<ReLU>(m.add<Add>({z, y}));                                               // 5 6
  y = m.add<MaxPool2D>(y, 2);                                                        // 7
  y = m.add<ReLU>(m.add<BatchNorm>(m.add<Conv2D>(y, 16, 3, 1, Padding::same)));      // 8 9 10
  y = m.add<GlobalAveragePooling2D>(y);                                              // 11
  m.build(m.add<Softmax>(m.add<Dense>(y, 5)), /*seed=*/7);                           // 12 13
  // Statistics as if trained: moving means around 0.1, variances around 1.5.
  Index k = 0;
  for (Parameter<float>* p : m.parameters())
    if (!p->trainable)
      for (Index i = 0; i < p->value.size(); ++i)
        p->value.data()[i] = (p->name.find("var") != std::string::npos ? 1.5f : 0.1f) +
                             0.01f * static_cast<float>(k++ % 7);
  return m;
}

// Every tensor of the layers named in `names`, as bytes, in order.
std::vector<unsigned char> bytes_of(Model<float>& model, const std::vector<std::string>& names) {
  std::vector<unsigned char> bytes;
  for (const std::string& name : names)
    for (Parameter<float>* p : model.layer(name).parameters()) {
      const auto* first = reinterpret_cast<const unsigned char*>(p->value.data());
      bytes.insert(bytes.end(), first, first + p->value.size() * static_cast<Index>(sizeof(float)));
    }
  return bytes;
}

std::vector<std::string> names_of(const Model<float>& model, Index first, Index last) {
  std::vector<std::string> names;
  for (Index i = first; i <= last; ++i)
    names.push_back(model.layer(i).name());
  return names;
}

// dir/blue, dir/green, dir/red: 12 photos each, mostly one colour with noise and stripes, PNG and
// JPEG, grey-free, sizes from 14x18 to 35x29.
struct ColourPhotos {
  TempDir temp;
  std::string dir = temp / "photos";
  ColourPhotos() {
    const std::vector<std::uint8_t> colours[] = {{30, 50, 210}, {40, 190, 60}, {220, 40, 30}};
    const char* names[] = {"blue", "green", "red"};
    for (int c = 0; c < 3; ++c) {
      std::filesystem::create_directories(std::filesystem::path(dir) / names[c]);
      for (int k = 0; k < 12; ++k) {
        const Index width = 14 + 3 * k % 22, height = 18 + 5 * k % 12;
        std::vector<std::uint8_t> pixels = noise(width * height * 3, 100 * c + k);
        for (Index i = 0; i < width * height; ++i)
          for (int ch = 0; ch < 3; ++ch) {
            const int stripe = (i % width / 3) % 2 == 0 ? 20 : -20;
            const int v = colours[c][ch] + stripe + (pixels[3 * i + ch] % 40) - 20;
            pixels[3 * i + ch] = static_cast<std::uint8_t>(std::clamp(v, 0, 255));
          }
        const char* format = k % 2 == 0 ? "png" : "jpg";
        write_raw(dir + "/" + names[c] + "/" + std::to_string(k) + "." + format,
                  encode(format, width, height, 3, pixels));
      }
    }
  }
};

ImageFolder load_photos(const ColourPhotos& photos, Index size) {
  ImageFolderOptions options;
  options.height = options.width = size;
  options.validation_split = 0.25;
  options.seed = 3;
  return load_image_folder(photos.dir, options);
}

FitOptions<float> quiet(Index epochs, Index batch_size) {
  FitOptions<float> options;
  options.epochs = epochs;
  options.batch_size = batch_size;
  options.seed = 11;
  options.verbose = Verbose::silent;
  return options;
}

}  // namespace

TEST_CASE("preprocess_input gives Keras's three modes: torch, caffe (BGR, means) and tf") {
  Dataset one;
  one.images.resize({1, 3, 1, 2});
  const std::uint8_t pixels[] = {0, 255, 10, 20, 100, 200};  // R plane, G plane, B plane
  std::memcpy(one.images.data(), pixels, sizeof pixels);
  one.labels.resize({1});
  one.labels[0] = 0;
  one.classes = 1;
  Tensor<float> x, y;
  const auto inputs = [&](const Normalization<float>& n) {
    to_tensors(one, n, x, y);
    return std::vector<float>(x.begin(), x.end());
  };
  const std::vector<float> torch = inputs(Normalization<float>::preprocess_input("torch"));
  CHECK(torch[0] == static_cast<float>((0 / 255.0 - 0.485) / 0.229));
  CHECK(torch[3] == static_cast<float>((20 / 255.0 - 0.456) / 0.224));
  CHECK(torch[5] == static_cast<float>((200 / 255.0 - 0.406) / 0.225));
  // caffe: channel 0 is B (the input's channel 2) minus B's mean, channel 2 is R minus R's.
  const std::vector<float> caffe = inputs(Normalization<float>::preprocess_input("caffe"));
  CHECK(caffe ==
        std::vector<float>{static_cast<float>(100 - 103.939), static_cast<float>(200 - 103.939),
                           static_cast<float>(10 - 116.779), static_cast<float>(20 - 116.779),
                           static_cast<float>(0 - 123.68), static_cast<float>(255 - 123.68)});
  const std::vector<float> tf = inputs(Normalization<float>::preprocess_input("tf"));
  CHECK(tf[0] == -1.0f);
  CHECK(tf[1] == 1.0f);
  CHECK(tf[4] == static_cast<float>(100 / 127.5 - 1));
  CHECK(message_of([] { Normalization<float>::preprocess_input("keras"); }) ==
        "Normalization::preprocess_input: expected the mode 'torch', 'caffe' or 'tf', got 'keras'");
  CHECK(message_of([&] {
          Dataset grey = one;
          grey.images.resize({1, 1, 1, 2});
          to_tensors(grey, Normalization<float>::preprocess_input("caffe"), x, y);
        }) == "Normalization: statistics are for 3 channels, the images have 1");
}

TEST_CASE("A backbone is cut at its last global average pool, or below its last Dense") {
  Model<float> backbone = small_backbone();
  CHECK(feature_layer(backbone) == backbone.layer(11).name());
  CHECK(feature_map_layer(backbone) == backbone.layer(10).name());

  Sequential<float> flat;  // conv, ReLU, Flatten, Dense: the features are the Flatten's output
  flat.add<Conv2D>(4, 3).add<ReLU>().add<Flatten>().add<Dense>(3);
  flat.build({3, 8, 8}, 1);
  CHECK(feature_layer(flat) == flat.layer(2).name());
  CHECK(feature_map_layer(flat) == flat.layer(1).name());

  Sequential<float> headless;  // a backbone without its classifier: its output map
  headless.add<Conv2D>(4, 3).add<ReLU>();
  headless.build({3, 8, 8}, 1);
  CHECK(feature_layer(headless) == headless.layer(1).name());
  CHECK(feature_map_layer(headless) == headless.layer(1).name());

  Sequential<float> flattened;
  flattened.add<Conv2D>(4, 3).add<Flatten>();
  flattened.build({3, 8, 8}, 1);
  CHECK(message_of([&] { feature_layer(flattened); }) ==
        "feature_layer: expected a backbone with a GlobalAveragePooling2D layer, a Dense "
        "classifier to cut below or a (C, H, W) output, got none of them among its 2 layers "
        "(output (144)); name the layer to cut at");
  Sequential<float> mlp;
  mlp.add<Dense>(3);
  mlp.build({5}, 1);
  CHECK(message_of([&] { feature_layer(mlp); }) ==
        "feature_layer: the last Dense layer Dense 'dense' reads the backbone's input: there are "
        "no features to cut at; name the layer");
}

TEST_CASE("transfer_model copies the backbone's weights onto other images and adds a new head") {
  Model<float> backbone = small_backbone();
  TransferOptions options;
  options.input_shape = {3, 24, 20};
  options.classes = 4;
  options.hidden_units = 6;
  options.dropout = 0.5;
  Model<float> model = transfer_model(backbone, options, 5);
  // The backbone below its classifier, then the head; names kept.
  REQUIRE(model.size() == 12 + 5);
  for (Index i = 0; i < 12; ++i) {
    CHECK(model.layer(i).name() == backbone.layer(i).name());
    CHECK_FALSE(model.layer(i).trainable());  // trainable_from "": the backbone frozen
  }
  CHECK(names_of(model, 12, 16) == std::vector<std::string>{"head_hidden", "head_relu",
                                                            "head_dropout", "head_logits",
                                                            "head_softmax"});
  for (Index i = 12; i < 17; ++i)
    CHECK(model.layer(i).trainable());
  CHECK(model.input_shape() == Shape({3, 24, 20}));
  CHECK(model.output_shape() == Shape({4}));
  CHECK(bytes_of(model, names_of(backbone, 0, 11)) ==
        bytes_of(backbone, names_of(backbone, 0, 11)));

  // Cut at a feature map: pooled by the head, by averaging or flattening.
  options.cut = feature_map_layer(backbone);
  options.classes = 0;
  CHECK(transfer_model(backbone, options, 5).output_shape() == Shape({16}));
  options.pooling = FeaturePooling::flatten;
  CHECK(transfer_model(backbone, options, 5).output_shape() == Shape({16 * 12 * 10}));

  // Unfrozen from a named layer on, in the model's order.
  options.trainable_from = backbone.layer(8).name();
  Model<float> top = transfer_model(backbone, options, 5);
  for (Index i = 0; i < top.size(); ++i)
    CHECK(top.layer(i).trainable() == (i >= 8));
}

TEST_CASE("transfer_model and extract_features refuse what they cannot do, naming it") {
  Model<float> backbone = small_backbone();
  TransferOptions options;
  options.cut = "layer4";
  CHECK(message_of([&] { transfer_model(backbone, options, 1); }) ==
        "transfer_model: expected a layer of the backbone to cut at, got 'layer4', which is not "
        "the name of one");
  options.cut = "";
  options.input_shape = {1, 16, 16};
  CHECK(message_of([&] { transfer_model(backbone, options, 1); }) ==
        "transfer_model: the backbone takes samples of shape (3, 16, 16), got images of shape "
        "(1, 16, 16)");
  options.input_shape = {3, 1, 1};  // the 2x2 max pool cannot take a 1x1 map
  const std::string small = message_of([&] { transfer_model(backbone, options, 1); });
  CHECK(contains(small, "transfer_model: the backbone cut at '" + backbone.layer(11).name() +
                            "' cannot take images of shape (3, 1, 1): MaxPooling2D '" +
                            backbone.layer(7).name() + "'"));
  options.input_shape = {};
  options.trainable_from = "head_logits";
  options.classes = 2;
  CHECK(message_of([&] { transfer_model(backbone, options, 1); }) ==
        "transfer_model: expected trainable_from to name a backbone layer at or below the cut '" +
            backbone.layer(11).name() + "', got 'head_logits'");

  options.trainable_from = "";
  options.classes = 0;
  const Model<float> extractor = transfer_model(backbone, options, 1);
  Dataset wrong;
  wrong.images.resize({2, 3, 8, 8});
  wrong.labels.resize({2});
  wrong.classes = 1;
  CHECK(message_of([&] {
          extract_features(extractor, wrong, Normalization<float>::preprocess_input("torch"));
        }) ==
        "extract_features: expected images of shape (3, 16, 16) (the extractor's input), got a "
        "data set of (2, 3, 8, 8)");
  CHECK(message_of([] { head_model<float>(Shape({16}), TransferOptions(), 1); }) ==
        "head_model: expected classes > 0, got 0");
}

TEST_CASE("Feature extraction: a frozen backbone's features once, a small head trained on them") {
  const ColourPhotos photos;
  const ImageFolder folder = load_photos(photos, 20);
  REQUIRE(folder.training.size() == 27);
  Model<float> backbone = small_backbone();
  const std::vector<std::string> all = names_of(backbone, 0, backbone.size() - 1);
  const std::vector<unsigned char> before = bytes_of(backbone, all);

  TransferOptions options;
  options.input_shape = folder.training.sample_shape();  // 20x20, not the backbone's 16x16
  const auto input = Normalization<float>::preprocess_input("torch");
  const Model<float> extractor = transfer_model(backbone, options, 1);
  const Features<float> train = extract_features(extractor, folder.training, input, 8);
  const Features<float> validation = extract_features(extractor, folder.validation, input, 8);
  CHECK(train.x.shape() == Shape({27, 16}));
  CHECK(train.classes == 3);
  CHECK(train.class_names == std::vector<std::string>{"blue", "green", "red"});
  for (Index i = 0; i < 27; ++i)
    CHECK(train.y[i] == static_cast<float>(folder.training.labels[i]));

  // The same features whatever the thread count and the batch size.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Features<float> serial = extract_features(extractor, folder.training, input, 5);
  omp_set_num_threads(threads);
  CHECK(std::memcmp(serial.x.data(), train.x.data(), sizeof(float) * 27 * 16) == 0);

  options.classes = 3;
  Model<float> head = head_model<float>(Shape({16}), options, 2);
  head.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  Adam<float> adam(0.02);
  head.fit(train.x, train.y, adam, quiet(60, 9));
  const auto trained = head.evaluate(validation.x, validation.y);
  MESSAGE("head on features: validation accuracy ", trained.accuracy);
  CHECK(trained.accuracy >= 0.8);  // chance: 1/3

  // The whole pipeline on images, the head loaded by name: the same predictions.
  Model<float> full = transfer_model(backbone, options, 3);
  full.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  CHECK(full.load_weights(head.checkpoint(), Match::by_name) ==
        std::vector<std::string>{"head_logits", "head_softmax"});
  const auto pipeline = full.evaluate(Samples<float>(folder.validation, input));
  CHECK(pipeline.accuracy == doctest::Approx(trained.accuracy));
  CHECK(pipeline.loss == doctest::Approx(trained.loss).epsilon(1e-4));

  // Nothing of the backbone changed: every weight and moving statistic, bit for bit, in the
  // backbone and in its copies.
  CHECK(bytes_of(backbone, all) == before);
  const std::vector<std::string> cut = names_of(backbone, 0, 11);
  CHECK(bytes_of(full, cut) == bytes_of(backbone, cut));
}

TEST_CASE("Fine-tuning: frozen layers and BatchNorm statistics stay, the top blocks learn") {
  const ColourPhotos photos;
  const ImageFolder folder = load_photos(photos, 20);
  Model<float> backbone = small_backbone();
  const auto input = Normalization<float>::preprocess_input("torch");
  const std::vector<std::string> bottom = names_of(backbone, 0, 7), top = names_of(backbone, 8, 11);

  SUBCASE("the whole backbone frozen: only the head changes") {
    TransferOptions options;
    options.input_shape = folder.training.sample_shape();
    options.classes = 3;
    Model<float> model = transfer_model(backbone, options, 4);
    model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
    Adam<float> adam(0.02);
    model.fit(Samples<float>(folder.training, input), adam, quiet(25, 9));
    const auto result = model.evaluate(Samples<float>(folder.validation, input));
    MESSAGE("frozen backbone, trained head: validation accuracy ", result.accuracy);
    CHECK(result.accuracy >= 0.8);
    // BatchNorm ran in inference mode: its moving statistics are the backbone's, bit for bit.
    CHECK(bytes_of(model, bottom) == bytes_of(backbone, bottom));
    CHECK(bytes_of(model, top) == bytes_of(backbone, top));
  }
  SUBCASE("unfrozen from the third convolution: it and its BatchNorm learn, below stays") {
    TransferOptions options;
    options.input_shape = folder.training.sample_shape();
    options.classes = 3;
    options.trainable_from = backbone.layer(8).name();
    Model<float> model = transfer_model(backbone, options, 4);
    model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
    Adam<float> adam(0.005);
    model.fit(Samples<float>(folder.training, input), adam, quiet(15, 9));
    const auto result = model.evaluate(Samples<float>(folder.validation, input));
    MESSAGE("fine-tuned from conv2d_2: validation accuracy ", result.accuracy);
    CHECK(result.accuracy >= 0.8);
    CHECK(bytes_of(model, bottom) == bytes_of(backbone, bottom));
    for (const char* which : {"conv", "batch_norm"}) {
      CAPTURE(which);
      const std::string name = backbone.layer(which[0] == 'c' ? 8 : 9).name();
      CHECK(bytes_of(model, {name}) != bytes_of(backbone, {name}));
    }
  }
}
