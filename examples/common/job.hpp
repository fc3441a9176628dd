// Job: the processes that run one trainer. Alone, or, when the trainers are built with the
// minicnn::mpi component and started by mpirun, one of K ranks training one model data-parallel
// (docs/distributed.md):
//
//   mpirun -np 2 build-release/examples/mnist --threads 1     (same flags as alone)
//
// mpirun is recognised by the variables it sets in each rank's environment (Open MPI's
// OMPI_COMM_WORLD_SIZE, or PMI_SIZE / PMIX_RANK of other launchers), so a program started
// without it never initialises MPI.
#pragma once

#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <string>

#include "minicnn/distributed/collective.hpp"
#if defined(MINICNN_HAS_MPI)
#include "minicnn/distributed/mpi_collective.hpp"
#include "minicnn/distributed/mpi_session.hpp"
#endif

namespace examples {

class Job {
 public:
  Job([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
#if defined(MINICNN_HAS_MPI)
    if (launched_by_mpirun()) {
      mpi_ = std::make_unique<minicnn::MpiSession>(argc, argv);
      world_ = std::make_unique<minicnn::MpiCollective>();
    }
#endif
  }

  int rank() const {
    return collective() != nullptr ? collective()->rank() : 0;
  }
  int size() const {
    return collective() != nullptr ? collective()->size() : 1;
  }
  // Rank 0 prints and writes the files; the others only train.
  bool root() const {
    return rank() == 0;
  }
  // FitOptions::collective: null alone.
  minicnn::Collective* collective() const {
#if defined(MINICNN_HAS_MPI)
    return world_.get();
#else
    return nullptr;
#endif
  }

  // After an exception: prints it and returns the exit status. In a job of several ranks it ends
  // every rank instead (MPI_Abort): the others would wait for this one in their next collective.
  int fail(const std::string& program, const std::exception& error) const {
#if defined(MINICNN_HAS_MPI)
    if (mpi_ != nullptr && mpi_->size() > 1) mpi_->abort(program + ": " + error.what());
#endif
    std::cerr << program << ": " << error.what() << '\n';
    return 1;
  }

 private:
#if defined(MINICNN_HAS_MPI)
  static bool launched_by_mpirun() {
    return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr ||
           std::getenv("PMIX_RANK") != nullptr;
  }

  std::unique_ptr<minicnn::MpiSession> mpi_;
  std::unique_ptr<minicnn::MpiCollective> world_;
#endif
};

}  // namespace examples
