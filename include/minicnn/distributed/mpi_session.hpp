// MpiSession: MPI's lifetime in a program (MPI_Init_thread in the constructor, MPI_Finalize in the
// destructor), and abort(), which ends every rank of the job. Part of the optional minicnn::mpi
// component.
//
//   int main(int argc, char** argv) {
//     MpiSession mpi(argc, argv);
//     try {
//       ...  // fit() with an MpiCollective
//     } catch (const std::exception& error) {
//       mpi.abort(error.what());  // the other ranks would wait for this one forever
//     }
//   }
//
// Why abort: the ranks meet in collectives (every batch); a rank that throws never arrives, and
// the others would wait in MPI_Allreduce for ever. MPI_Abort makes mpirun kill every rank, and
// mpirun also ends the job when a rank dies (a signal, or exiting without MPI_Finalize), so a
// failure anywhere ends the job with a non-zero status within seconds (docs/distributed.md).
//
// Threads: MPI_THREAD_FUNNELED, only the main thread calls MPI; OpenMP's threads run the layers'
// loops between the calls.
#pragma once

#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "minicnn/error.hpp"

namespace minicnn {

class MpiSession {
 public:
  MpiSession(int& argc, char**& argv) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    if (provided < MPI_THREAD_FUNNELED) {
      MPI_Finalize();
      fail("MpiSession: expected MPI thread support MPI_THREAD_FUNNELED (", MPI_THREAD_FUNNELED,
           "), the MPI library provides ", provided);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiSession() { MPI_Finalize(); }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  // Prints "rank r of K: <message>" on stderr and ends every rank of the job with status 1.
  [[noreturn]] void abort(const std::string& message) const {
    std::fprintf(stderr, "rank %d of %d: %s; ending every rank (MPI_Abort)\n", rank_, size_,
                 message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::abort();  // MPI_Abort does not return; this tells the compiler so
  }

 private:
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace minicnn
