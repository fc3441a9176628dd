// The doctest runner of the MPI tests: every rank runs every test case (they meet in the
// collectives inside), between MPI_Init and MPI_Finalize. Ranks other than 0 print only failures.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "minicnn/distributed/mpi_session.hpp"

int main(int argc, char** argv) {
  minicnn::MpiSession mpi(argc, argv);
  doctest::Context context(argc, argv);
  if (mpi.rank() != 0) context.setOption("minimal", true);
  const int failed = context.run();
  // A rank that failed may have left the others in a collective: end them all rather than hang.
  if (failed != 0) mpi.abort("a test case failed on this rank (its report is above)");
  return 0;
}
