// Writes tests/golden/checkpoint_v1.mcnn: a checkpoint in format version 1 (chains, before graphs
// were stored), written by minicnn as it was at commit 9d0da54, so that tests/model/test_graph.cpp
// can prove every old file still loads. It prints the model's predictions on a fixed probe, which
// the test compares with. It compiles only against that commit's headers:
//
//   mkdir /tmp/v1 && git archive 9d0da54 include | tar x -C /tmp/v1
//   g++ -std=c++17 -O2 -fopenmp -I/tmp/v1/include -isystem /usr/include/eigen3 \
//       tools/make_checkpoint_v1.cpp -o /tmp/v1/make_v1 -lz && (cd tests/golden && /tmp/v1/make_v1)
#include <cstdio>

#include "minicnn/minicnn.hpp"

using namespace minicnn;
int main() {
  Sequential<float> model;
  model.add<Conv2D>(3, 3).add<BatchNorm>().add<ReLU>().add<MaxPool2D>(2).add<Flatten>();
  model.add<Dropout>(0.25).add<Dense>(4).add<Softmax>();
  model.build({1, 8, 8}, 7);
  model.set_loss(std::make_unique<SparseCategoricalCrossentropy<float>>());
  Tensor<float> x({6, 1, 8, 8}), y({6});
  Random r(3);
  x.fill_uniform(r, -1, 1);
  for (int n = 0; n < 6; ++n)
    y[n] = n % 4;
  Adam<float> adam(0.01);
  for (int s = 0; s < 3; ++s)
    model.train_on_batch(x, y, adam);
  model.save("checkpoint_v1.mcnn", &adam, 3);
  Tensor<float> probe({2, 1, 8, 8});
  Random q(5);
  probe.fill_uniform(q, -1, 1);
  Tensor<float> p = model.predict(probe);
  for (Index i = 0; i < p.size(); ++i)
    std::printf("%.9g,\n", p[i]);
}
