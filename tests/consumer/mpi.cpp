// A program outside the minicnn tree that uses the minicnn::mpi component: built (not run) by
// tests/consumer/run.sh to show that the component is exported with MPI's flags.
#include <minicnn/distributed/mpi_collective.hpp>
#include <minicnn/distributed/mpi_session.hpp>

int main(int argc, char** argv) {
  minicnn::MpiSession mpi(argc, argv);
  minicnn::MpiCollective world;
  double one = 1.0;
  world.sum(&one, 1);
  return one == world.size() ? 0 : 1;
}
