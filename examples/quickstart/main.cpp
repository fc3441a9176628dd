// The README's example, compiled by the build so that it cannot go stale.
#include <minicnn/minicnn.hpp>

#include <iostream>

using namespace minicnn;

int main() {
  const Dataset train = load_mnist(data_dir(), Split::train);  // scripts/fetch_data.sh mnist
  const Dataset test = load_mnist(data_dir(), Split::test);

  Sequential<float> model;
  model.add<Conv2D>(32, 3).add<ReLU>().add<MaxPool2D>(2);
  model.add<Conv2D>(64, 3).add<ReLU>().add<MaxPool2D>(2);
  model.add<Flatten>().add<Dropout>(0.5).add<Dense>(10).add<Softmax>();
  model.build({1, 28, 28}, /*seed=*/42);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  std::cout << model.summary();

  Adam<float> adam;  // Keras's defaults: learning rate 1e-3, epsilon 1e-7
  FitOptions<float> options;
  options.epochs = 5;
  options.batch_size = 64;
  options.validation_split = 0.1;
  const auto scale = Normalization<float>::scale();  // bytes to [0, 1]
  const History history = model.fit(Samples<float>(train, scale), adam, options);
  history.write_csv("history.csv");

  const auto [loss, accuracy] = model.evaluate(Samples<float>(test, scale));
  std::cout << "test loss " << loss << ", test accuracy " << accuracy << '\n';
  model.save("mnist.mcnn");  // Sequential<float>::load("mnist.mcnn") reads it back
}
