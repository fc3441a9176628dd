// DataParallel<T>: what fit() does differently when K processes train one model together
// (FitOptions::collective set; docs/distributed.md). fit() keeps one loop and calls these hooks;
// without a collective each is a no-op or the identity, so one process pays a few branches per
// batch and nothing else.
//
// The scheme (PyTorch's DistributedDataParallel, Horovod):
//   start of fit   rank 0's weights, non-trainable state, optimizer state and random streams
//                  are copied to every rank (broadcast), so all start from one model; each rank
//                  then derives its own random streams from rank 0's (Dropout and augmentation
//                  draw different masks for different samples), rank 0 keeping rank 0's.
//   each batch     every rank shuffles the epoch with the same seed, so all agree on the batch's
//                  B samples; rank r takes its shard (shard(): B/K samples, the first B mod K
//                  ranks one more) and runs forward and backward on it. Its gradients are the
//                  mean over its n_r samples, g_r = (1/n_r) sum_{i in r} g_i; the batch's mean is
//                    g = (1/B) sum_i g_i = sum_r (n_r / B) g_r,
//                  so each rank scales by n_r / B and one sum over the ranks (Collective::sum, an
//                  MPI_Allreduce) leaves g on every rank, which then takes the same optimizer step.
//                  This equals one process on batch B up to float rounding (the sums are grouped
//                  differently), also when B does not split evenly or a rank gets no sample.
//   end of epoch   BatchNorm's moving statistics are copied from rank 0 (DDP's default,
//                  broadcast_buffers, copies them before every forward; a training forward reads
//                  the batch's statistics, not the moving ones, so copying once before validation
//                  gives the same result); each rank validates a shard of the validation data and
//                  the loss and accuracy are summed over the ranks.
//
// Where K ranks differ from one process on batch B: BatchNorm normalises each rank's shard with
// that shard's own mean and variance (per-rank statistics, DDP's default without SyncBatchNorm),
// and Dropout/augmentation draw other numbers. Models without either match to rounding.
//
// One flat buffer: every trainable gradient is packed into one array (with the batch's loss,
// correct count and interrupt flag at its end) and reduced in one call, one network latency per
// step instead of one per tensor; overlapping buckets with backward (DDP) would hide part of the
// transfer but needs hooks inside the backward walk (docs/distributed.md weighs it).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "minicnn/callback.hpp"
#include "minicnn/distributed/collective.hpp"
#include "minicnn/error.hpp"
#include "minicnn/optimizer.hpp"
#include "minicnn/random.hpp"

namespace minicnn {

template <typename T>
class Model;

template <typename T>
class DataParallel {
 public:
  // A contiguous part of a batch: positions [first, first + count).
  struct Shard {
    Index first = 0;
    Index count = 0;
  };

  // A batch's figures: this rank's before average_gradients(), the whole batch's after.
  struct StepFigures {
    T loss = 0;         // mean over the samples
    Index correct = 0;  // samples whose highest output is the label
    bool interrupted = false;
  };

  // `collective` null: one process.
  explicit DataParallel(Collective* collective) : collective_(collective) {}

  bool active() const { return collective_ != nullptr; }
  int rank() const { return active() ? collective_->rank() : 0; }
  int size() const { return active() ? collective_->size() : 1; }
  bool root() const { return rank() == 0; }

  // Whether this rank runs `callback`: every rank runs those that only decide (they see the same
  // figures, so decide alike); only rank 0 those that write files.
  bool runs(const Callback<T>& callback) const { return root() || !callback.rank_zero_only(); }

  // This rank's shard of `count` samples: count / K each, and one more for the first
  // count mod K ranks (so sizes differ by at most one and some may be empty when count < K).
  Shard shard(Index count) const {
    const Index k = size(), r = rank(), base = count / k, extra = count % k;
    return {r * base + std::min(r, extra), base + (r < extra ? 1 : 0)};
  }

  // Start of fit: every rank takes rank 0's model and optimizer state (see the top of the file).
  // A rank whose model or optimizer differs in size from rank 0's gets an Error naming both.
  void start(Model<T>& model, Optimizer<T>& optimizer, const std::string& who) {
    if (!active()) return;
    const auto slots = optimizer.slots();
    std::vector<Random*> streams;
    for (Index i = 0; i < model.size(); ++i)
      if (Random* random = model.layer(i).random_stream()) streams.push_back(random);
    // Sizes first: broadcasting tensors of different sizes would be undefined, not an error.
    std::int64_t mine[3] = {0, static_cast<std::int64_t>(slots.size()),
                            static_cast<std::int64_t>(streams.size())};
    for (const Parameter<T>* p : model.parameters())
      mine[0] += p->value.size();
    for (const auto& slot : slots)
      mine[1] += slot.second->size();
    std::int64_t root_sizes[3] = {mine[0], mine[1], mine[2]};
    collective_->broadcast(root_sizes, sizeof root_sizes);
    int differs = -1;
    for (int k = 0; k < 3; ++k)
      if (differs < 0 && mine[k] != root_sizes[k]) differs = k;
    // Every rank learns whether any differs, so that all throw (a rank left alone in the next
    // broadcast would wait for ever).
    double differing_ranks = differs >= 0 ? 1.0 : 0.0;
    collective_->sum(&differing_ranks, 1);
    const char* what[3] = {"parameter values", "optimizer slot values", "random streams"};
    const char* advice = " (every rank must build the same model and restore the same file)";
    if (differs >= 0)
      fail(who, ": rank ", rank(), " has ", mine[differs], " ", what[differs], ", rank 0 has ",
           root_sizes[differs], advice);
    if (differing_ranks > 0.0)
      fail(who, ": ", differing_ranks, " of ", size(),
           " ranks hold a model or optimizer state of other sizes than rank 0's", advice);

    for (Parameter<T>* p : model.parameters())
      broadcast(p->value);
    for (const auto& slot : slots)
      broadcast(*slot.second);
    double learning_rate = optimizer.learning_rate();
    std::int64_t iterations = optimizer.iterations();
    collective_->broadcast(&learning_rate, sizeof learning_rate);
    collective_->broadcast(&iterations, sizeof iterations);
    optimizer.set_learning_rate(learning_rate);
    optimizer.set_iterations(static_cast<Index>(iterations));
    for (Random* random : streams) {
      Random::State state = random->state();
      collective_->broadcast(&state, sizeof state);
      random->set_state(state);
      // Rank r's stream: the r-th fork of rank 0's, so that K = 1 is exactly one process.
      for (int r = 0; r < rank(); ++r)
        *random = random->fork();
    }
  }

  // After this rank's backward on its shard (`figures`, of `local` samples) of a batch of
  // `count`: every trainable gradient becomes the batch's mean gradient, and `figures` the
  // batch's (its mean loss, its correct count, whether any rank was interrupted), identical on
  // every rank. See the top of the file for the formula.
  void average_gradients(const std::vector<Parameter<T>*>& parameters, Index local, Index count,
                         StepFigures& figures) {
    if (!active()) return;
    std::size_t total = 0;
    for (const Parameter<T>* p : parameters)
      if (p->trainable) total += static_cast<std::size_t>(p->grad.size());
    buffer_.resize(total + 3);
    const T weight = static_cast<T>(local) / static_cast<T>(count);
    std::size_t at = 0;
    for (const Parameter<T>* p : parameters)
      if (p->trainable)
        for (Index i = 0; i < p->grad.size(); ++i)
          buffer_[at++] = p->grad[i] * weight;
    buffer_[at] = figures.loss * static_cast<T>(local);  // the shard's summed loss
    buffer_[at + 1] = static_cast<T>(figures.correct);   // exact in float up to 2^24
    buffer_[at + 2] = figures.interrupted ? T(1) : T(0);
    collective_->sum(buffer_.data(), buffer_.size());
    at = 0;
    for (Parameter<T>* p : parameters)
      if (p->trainable)
        for (Index i = 0; i < p->grad.size(); ++i)
          p->grad[i] = buffer_[at++];
    figures.loss = buffer_[at] / static_cast<T>(count);
    figures.correct = static_cast<Index>(std::lround(static_cast<double>(buffer_[at + 1])));
    figures.interrupted = buffer_[at + 2] > T(0);
  }

  // End of an epoch, before validation and checkpoints: rank 0's non-trainable state (BatchNorm's
  // moving statistics) on every rank.
  void share_state(Model<T>& model) {
    if (!active()) return;
    for (Parameter<T>* p : model.parameters())
      if (!p->trainable) broadcast(p->value);
  }

  // A validation shard's mean loss and accuracy over `local` samples to the means over all
  // `count` validation samples, on every rank.
  void combine(double& loss, double& accuracy, Index local, Index count) {
    if (!active()) return;
    double sums[2] = {loss * static_cast<double>(local), accuracy * static_cast<double>(local)};
    collective_->sum(sums, 2);
    loss = sums[0] / static_cast<double>(count);
    accuracy = sums[1] / static_cast<double>(count);
  }

  // True on every rank when `flag` is true on any (a stop or an interrupt must end every rank at
  // the same epoch, or the others would wait for it forever).
  bool any(bool flag) {
    if (!active()) return flag;
    double votes = flag ? 1.0 : 0.0;
    collective_->sum(&votes, 1);
    return votes > 0.0;
  }

 private:
  void broadcast(Tensor<T>& tensor) {
    collective_->broadcast(tensor.data(), static_cast<std::size_t>(tensor.size()) * sizeof(T));
  }

  Collective* collective_;
  std::vector<T> buffer_;  // the flat gradient buffer, reused every step
};

}  // namespace minicnn
