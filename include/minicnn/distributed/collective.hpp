// Collective: the few operations on a group of K processes (ranks 0 .. K-1) that data-parallel
// training needs, as an interface, so that the core (train/fit.hpp, data_parallel.hpp) compiles
// without MPI. distributed/mpi_collective.hpp implements it on MPI (the minicnn::mpi component).
//
// Contract, as MPI's collectives: every rank calls the same operations in the same order with
// the same sizes; a call returns once every rank has made it. A rank that never makes the call
// (it threw, it died) leaves the others waiting, which is why a distributed program must end the
// whole job when one of its ranks fails (mpi_session.hpp).
#pragma once

#include <cstddef>

namespace minicnn {

class Collective {
 public:
  virtual ~Collective() = default;

  virtual int rank() const = 0;  // this process, in [0, size())
  virtual int size() const = 0;  // K

  // Element-wise sum over the ranks, in place: after the call every rank holds
  //   data[i] = sum over ranks r of data_r[i].
  // For a given K and n the result is the same bit for bit on every rank and in every run (the
  // implementation must reduce in a fixed order), which keeps runs reproducible.
  virtual void sum(float* data, std::size_t n) = 0;
  virtual void sum(double* data, std::size_t n) = 0;

  // Rank 0's `bytes` bytes at `data` copied to every other rank's `data`.
  virtual void broadcast(void* data, std::size_t bytes) = 0;
};

}  // namespace minicnn
