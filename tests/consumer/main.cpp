// A program outside the minicnn tree: includes the umbrella header, builds a layer, runs it.
#include <minicnn/minicnn.hpp>

#include <iostream>

int main() {
  minicnn::Dense<float> dense(3);
  minicnn::Random random(1);
  dense.build({4}, random);
  minicnn::Tensor<float> x({2, 4}, 1.0f), y;
  dense.forward(x, y, minicnn::Mode::inference);
  std::cout << "consumer: output shape " << y.shape() << "\n";
  return y.shape() == minicnn::Shape{2, 3} ? 0 : 1;
}
