// allreduce_cost: the time of the gradient allreduce of one data-parallel training step
// (distributed/data_parallel.hpp: one flat float buffer, MpiCollective::sum), for the trainable
// parameter counts of the reference models (bench/reference_models.hpp) and of ResNet-50
// (25,557,032, torchvision's). docs/distributed.md explains the columns and holds the figures.
//
//   mpirun -np 2 build-release/bench/allreduce_cost [--repeats 50] [--warmup 5]
//
// Each size is summed `warmup` times untimed, then `repeats` times, each after a barrier and
// timed on every rank with MPI_Wtime; a step's time is the slowest rank's, and the table gives
// the median over the repeats. Columns: the buffer's megabytes, the median milliseconds, and the
// bus bandwidth 2 (K - 1) / K x bytes / time, the bytes each rank sends in a ring allreduce per
// second (NCCL's busbw), comparable across K with the link's speed.
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "minicnn/distributed/mpi_collective.hpp"
#include "minicnn/distributed/mpi_session.hpp"
#include "reference_models.hpp"

using namespace minicnn;

namespace {

// The median of `values` (sorted in place).
double median(std::vector<double>& values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

int option(int argc, char** argv, const std::string& name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == "--" + name) return std::stoi(argv[i + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(argc, argv);
  try {
    const int repeats = std::max(1, option(argc, argv, "repeats", 50));
    const int warmup = std::max(0, option(argc, argv, "warmup", 5));
    std::vector<std::pair<std::string, Index>> sizes;
    for (const auto& reference : bench::reference_models())
      sizes.emplace_back(reference.name,
                         bench::build_reference_model<float>(reference, 1).parameter_count(true));
    sizes.emplace_back("ResNet-50", 25557032);

    MpiCollective world;
    const double k = world.size();
    if (mpi.rank() == 0)
      std::printf(
          "allreduce of the gradients, %d ranks, median of %d\n\n"
          "| model | parameters | MB | ms per step | bus GB/s |\n"
          "| --- | ---: | ---: | ---: | ---: |\n",
          world.size(), repeats);
    for (const auto& [name, parameters] : sizes) {
      // The gradients plus the 3 figures data_parallel.hpp appends.
      std::vector<float> buffer(static_cast<std::size_t>(parameters) + 3, 1e-3f);
      std::vector<double> seconds;
      for (int r = 0; r < warmup + repeats; ++r) {
        MPI_Barrier(MPI_COMM_WORLD);
        const double start = MPI_Wtime();
        world.sum(buffer.data(), buffer.size());
        double took = MPI_Wtime() - start;
        MPI_Allreduce(MPI_IN_PLACE, &took, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        if (r >= warmup) seconds.push_back(took);
        std::fill(buffer.begin(), buffer.end(), 1e-3f);  // keep the values finite and alike
      }
      const double bytes = static_cast<double>(buffer.size() * sizeof(float));
      const double time = median(seconds);
      if (mpi.rank() == 0)
        std::printf("| %s | %lld | %.1f | %.2f | %.2f |\n", name.c_str(),
                    static_cast<long long>(parameters), bytes / 1e6, time * 1e3,
                    2.0 * (k - 1.0) / k * bytes / time / 1e9);
    }
    return 0;
  } catch (const std::exception& error) {
    mpi.abort(std::string("allreduce_cost: ") + error.what());
  }
}
