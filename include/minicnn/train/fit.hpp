// The training loop: Model::fit (and so Sequential::fit), Keras's model.fit.
//
// Each epoch: callbacks' on_epoch_begin, then mini-batches in the epoch's order, each a training
// step (Model::compute_gradients, then the optimizer's step on the layers not frozen), then
// validation, the progress line, and callbacks' on_epoch_end (any of which may stop training). The
// reported loss and accuracy are means over the epoch's batches, weighted by batch size, measured
// on the training-mode outputs, as in Keras.
//
// Ctrl-C: while fit() runs, SIGINT only raises a flag (interrupt.hpp). fit() stops after the
// batch in progress, records nothing of the unfinished epoch and calls no further callback (so no
// checkpoint of a half epoch is written and completed ones stay as they are), prints a note, and
// returns the history so far with interrupted = true. The previous SIGINT handler is restored on
// return.
//
// A loss that is NaN or infinite stops training with an Error naming the epoch and the batch,
// before the weights are updated with it.
//
// Distributed (options.collective set): the same loop on every rank, with the hooks of
// distributed/data_parallel.hpp: rank 0's model copied to all at the start, each batch split
// between the ranks and the gradients averaged before the step, BatchNorm's moving statistics
// copied from rank 0 and validation figures summed at the end of each epoch; progress and the
// callbacks that write files on rank 0 only; a stop or an interrupt on any rank stops all.
#pragma once

#include <chrono>
#include <vector>

#include "minicnn/distributed/data_parallel.hpp"
#include "minicnn/interrupt.hpp"
#include "minicnn/model/model.hpp"
#include "minicnn/progress_bar.hpp"

namespace minicnn {

namespace detail {

// The order of the samples in `epoch`: identity, or a Fisher-Yates permutation drawn from the
// epoch-th fork of Random(seed) (as BatchIterator does), a pure function of (seed, epoch).
inline void epoch_order(std::uint64_t seed, Index epoch, bool shuffle, std::vector<Index>& order) {
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = static_cast<Index>(i);
  if (!shuffle) return;
  Random root(seed);
  for (Index e = 0; e < epoch; ++e)
    root.next_u64();
  Random random = root.fork();
  random.shuffle(order);
}

// `fit` names the call in messages ("Sequential::fit").
template <typename T>
void check_fit_options(const std::string& fit, const FitOptions<T>& o) {
  if (o.batch_size <= 0) fail(fit, ": expected batch_size > 0, got ", o.batch_size);
  if (o.initial_epoch < 0 || o.initial_epoch > o.epochs)
    fail(fit, ": expected 0 <= initial_epoch <= epochs, got initial_epoch ", o.initial_epoch,
         " and epochs ", o.epochs);
  if (!(o.validation_split >= 0.0 && o.validation_split < 1.0))
    fail(fit, ": expected validation_split in [0, 1), got ", o.validation_split);
  if (o.validation_split > 0.0 && !o.validation_data.empty())
    fail(fit, ": got both validation_data and validation_split; pick one");
  if (o.output == nullptr) fail(fit, ": expected an output stream, got nullptr");
  for (const Callback<T>* callback : o.callbacks)
    if (callback == nullptr) fail(fit, ": expected callbacks, got a nullptr");
}

template <typename T>
History fit_model(Model<T>& model, const Samples<T>& data, Optimizer<T>& optimizer,
                  const FitOptions<T>& options) {
  model.check_built("fit");
  model.objective();  // throws when there is no loss
  check_fit_options(model.who("fit"), options);
  model.check_samples("fit", data.sample_shape());
  Samples<T> train = data, validation = options.validation_data;
  if (options.validation_split > 0.0) {
    // Keras: the last fraction of the samples, before any shuffling.
    const auto kept =
        static_cast<Index>(static_cast<double>(data.size()) * (1.0 - options.validation_split));
    train = data.slice(0, kept);
    validation = data.slice(kept, data.size() - kept);
  }
  if (train.empty()) fail(model.who("fit"), ": expected training samples, got none");
  if (!validation.empty()) model.check_samples("fit (validation data)", validation.sample_shape());

  const Index samples = train.size();
  const Index batches = (samples + options.batch_size - 1) / options.batch_size;
  std::vector<Index> order(static_cast<std::size_t>(samples));
  typename Model<T>::BorrowedWorkspace validation_workspace(*model.workspace_pool_);
  DataParallel<T> parallel(options.collective);
  parallel.start(model, optimizer, model.who("fit"));
  ProgressBar progress(*options.output, parallel.root() ? options.verbose : Verbose::silent);
  SigintGuard sigint;
  History history;

  for (Callback<T>* callback : options.callbacks)
    if (parallel.runs(*callback)) callback->on_train_begin(model, optimizer);
  for (Index epoch = options.initial_epoch; epoch < options.epochs; ++epoch) {
    for (Callback<T>* callback : options.callbacks)
      if (parallel.runs(*callback)) callback->on_epoch_begin(epoch, model, optimizer);
    const auto start = std::chrono::steady_clock::now();
    EpochLogs logs;
    logs.epoch = epoch;
    logs.learning_rate = optimizer.learning_rate();
    epoch_order(options.seed, epoch, options.shuffle, order);
    progress.start_epoch(epoch, options.epochs, batches);

    double loss_sum = 0.0;
    Index correct = 0, seen = 0;
    for (Index batch = 0; batch < batches; ++batch) {
      const Index first = batch * options.batch_size;
      const Index count = std::min(options.batch_size, samples - first);
      // This process's part of the batch: all of it, or its shard in a distributed fit.
      const auto shard = parallel.shard(count);
      typename DataParallel<T>::StepFigures step;
      if (shard.count > 0) {
        train.gather(order.data() + first + shard.first, shard.count, model.batch_x_,
                     model.batch_y_);
        step.loss = model.forward_backward(model.batch_x_, model.batch_y_, &step.correct, epoch,
                                           batch, batches);
      } else {  // fewer samples than ranks: this rank adds nothing to the sum
        Optimizer<T>::zero_grad(model.parameters());
      }
      step.interrupted = sigint.interrupted();
      parallel.average_gradients(model.trainable_parameters(), shard.count, count, step);
      optimizer.step(model.trainable_parameters());
      loss_sum += static_cast<double>(step.loss) * static_cast<double>(count);
      correct += step.correct;
      seen += count;
      progress.update(batch + 1, loss_sum / static_cast<double>(seen),
                      static_cast<double>(correct) / static_cast<double>(seen));
      if (step.interrupted) {
        progress.interrupted(batch + 1);
        history.interrupted = true;
        return history;
      }
    }
    logs.loss = loss_sum / static_cast<double>(seen);
    logs.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
    parallel.share_state(model);
    if (!validation.empty()) {
      // Each rank validates its shard; the figures are then combined over the ranks.
      const auto shard = parallel.shard(validation.size());
      typename Model<T>::Evaluation figures;
      if (shard.count > 0)
        figures = model.evaluate_with(validation.slice(shard.first, shard.count),
                                      options.batch_size, *validation_workspace);
      parallel.combine(figures.loss, figures.accuracy, shard.count, validation.size());
      logs.has_validation = true;
      logs.val_loss = figures.loss;
      logs.val_accuracy = figures.accuracy;
    }
    logs.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.end_epoch(logs);
    history.epochs.push_back(logs);

    bool stop = false;
    for (Callback<T>* callback : options.callbacks)
      if (parallel.runs(*callback)) stop = callback->on_epoch_end(logs, model, optimizer) || stop;
    if (parallel.any(sigint.interrupted())) {  // arrived during validation: the epoch was complete
      history.interrupted = true;
      return history;
    }
    if (parallel.any(stop)) break;
  }
  for (Callback<T>* callback : options.callbacks)
    if (parallel.runs(*callback)) callback->on_train_end(model, optimizer);
  return history;
}

}  // namespace detail

template <typename T>
History Model<T>::fit(const Samples<T>& data, Optimizer<T>& optimizer,
                      const FitOptions<T>& options) {
  return detail::fit_model(*this, data, optimizer, options);
}

}  // namespace minicnn
