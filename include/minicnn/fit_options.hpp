// FitOptions<T>: how Sequential::fit() trains, with Keras's defaults.
#pragma once

#include <cstdint>
#include <iostream>
#include <ostream>
#include <vector>

#include "minicnn/callback.hpp"
#include "minicnn/distributed/collective.hpp"
#include "minicnn/progress_bar.hpp"
#include "minicnn/samples.hpp"

namespace minicnn {

template <typename T>
struct FitOptions {
  // Trains epochs initial_epoch .. epochs-1 (Keras: `epochs` is the index to stop at, so a run
  // resumed with initial_epoch = 1 and epochs = 2 trains one more epoch).
  Index epochs = 1;
  Index initial_epoch = 0;
  Index batch_size = 32;  // the last batch of an epoch holds the remainder

  // Shuffles the training samples every epoch; the order of epoch e is a pure function of
  // (seed, e) (the e-th fork of Random(seed), as BatchIterator), so a resumed run sees the same
  // batches as an uninterrupted one.
  bool shuffle = true;
  std::uint64_t seed = 0;

  // Validation after every epoch: either explicit data or, as Keras, the last fraction of the
  // training samples (taken before shuffling, so the same samples every epoch). Not both.
  Samples<T> validation_data;
  double validation_split = 0.0;

  Verbose verbose = Verbose::automatic;
  std::ostream* output = &std::cout;  // where the progress goes; tests pass a stringstream

  std::vector<Callback<T>*> callbacks;  // not owned; called in this order

  // Data-parallel training over the ranks of a group of processes (not owned; null: this process
  // alone). Every rank calls fit() with the same model, data and options; each batch is split
  // between the ranks and their gradients averaged (distributed/data_parallel.hpp); rank 0 alone
  // prints progress and runs the callbacks that write files. MpiCollective
  // (distributed/mpi_collective.hpp, the minicnn::mpi component) is the one for mpirun.
  Collective* collective = nullptr;
};

}  // namespace minicnn
