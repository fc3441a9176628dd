// MpiCollective: Collective (collective.hpp) on an MPI communicator, for fit() in a program
// started with mpirun. Part of the optional minicnn::mpi component (it includes <mpi.h>); MPI must
// be initialised first (mpi_session.hpp).
//
//   MpiSession mpi(argc, argv);
//   MpiCollective world;              // MPI_COMM_WORLD
//   options.collective = &world;      // fit() now trains data-parallel over every rank
//
// sum() is MPI_Allreduce with MPI_SUM, in place. Open MPI picks its algorithm (ring, recursive
// doubling, ...) from the message size and the number of ranks, and each algorithm adds in a fixed
// order, so one K and one size give the same bits in every run. Errors: MPI's default handler on
// MPI_COMM_WORLD (MPI_ERRORS_ARE_FATAL) ends the whole job on a failed call, which is what a
// training job wants (a rank left waiting would hang).
#pragma once

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstddef>

#include "minicnn/distributed/collective.hpp"

namespace minicnn {

class MpiCollective : public Collective {
 public:
  explicit MpiCollective(MPI_Comm communicator = MPI_COMM_WORLD) : communicator_(communicator) {
    MPI_Comm_rank(communicator_, &rank_);
    MPI_Comm_size(communicator_, &size_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void sum(float* data, std::size_t n) override { sum_in_chunks(data, n, MPI_FLOAT); }
  void sum(double* data, std::size_t n) override { sum_in_chunks(data, n, MPI_DOUBLE); }

  void broadcast(void* data, std::size_t bytes) override {
    auto* at = static_cast<char*>(data);
    for (std::size_t done = 0; done < bytes;) {
      const std::size_t part = std::min(bytes - done, kChunk);
      MPI_Bcast(at + done, static_cast<int>(part), MPI_BYTE, 0, communicator_);
      done += part;
    }
  }

 private:
  // MPI counts are int: larger arrays go in several calls.
  static constexpr std::size_t kChunk = static_cast<std::size_t>(INT_MAX);

  template <typename Number>
  void sum_in_chunks(Number* data, std::size_t n, MPI_Datatype type) {
    for (std::size_t done = 0; done < n;) {
      const std::size_t part = std::min(n - done, kChunk);
      MPI_Allreduce(MPI_IN_PLACE, data + done, static_cast<int>(part), type, MPI_SUM,
                    communicator_);
      done += part;
    }
  }

  MPI_Comm communicator_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace minicnn
