// Crash safety: a training job killed with SIGKILL at random moments never leaves an unreadable
// checkpoint, and resuming from the last one ends with exactly the weights of a run that was never
// interrupted. The job is a separate program (support/crash_worker.cpp): killing a thread of this
// process, or forking it after OpenMP started, would not be the same.
#include <doctest/doctest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "minicnn/io/checkpoint_file.hpp"
#include "support/temp_files.hpp"

extern char** environ;

using namespace minicnn;

namespace {

constexpr const char* kEpochs = "150";

pid_t start_worker(const std::string& dir) {
  std::string program = MINICNN_CRASH_WORKER, epochs = kEpochs, directory = dir;
  char* argv[] = {program.data(), directory.data(), epochs.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ) == 0);
  return pid;
}

// Waits for the worker; true when it exited with status 0.
bool finished(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

TEST_CASE("20 kills at random moments: every checkpoint loads and the final weights are exact") {
  testing::TempDir straight, killed;
  REQUIRE(finished(start_worker(straight.path.string())));
  const auto reference = load_checkpoint<float>(straight / "final.mcnn");

  Random random(11);
  int kills = 0, unreadable = 0, resumed_from_checkpoint = 0;
  while (kills < 20) {
    const bool had_checkpoint = std::filesystem::exists(killed / "last.mcnn");
    const pid_t pid = start_worker(killed.path.string());
    std::this_thread::sleep_for(std::chrono::microseconds(random.below(60000)));
    kill(pid, SIGKILL);
    if (finished(pid)) break;  // it completed before the kill: nothing left to interrupt
    ++kills;
    resumed_from_checkpoint += had_checkpoint;
    if (std::filesystem::exists(killed / "last.mcnn")) {
      try {
        load_checkpoint<float>(killed / "last.mcnn");
      } catch (const Error& error) {
        ++unreadable;
        INFO(error.what());
      }
    }
  }
  CHECK(kills == 20);
  CHECK(unreadable == 0);
  CHECK(resumed_from_checkpoint > 0);
  REQUIRE(finished(start_worker(killed.path.string())));

  const auto resumed = load_checkpoint<float>(killed / "final.mcnn");
  REQUIRE(resumed.layers.size() == reference.layers.size());
  for (std::size_t i = 0; i < reference.layers.size(); ++i)
    for (std::size_t k = 0; k < reference.layers[i].tensors.size(); ++k) {
      const auto& a = reference.layers[i].tensors[k].second;
      const auto& b = resumed.layers[i].tensors[k].second;
      CAPTURE(reference.layers[i].name);
      CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
    }
  CHECK(checkpoint_bytes(resumed) == checkpoint_bytes(reference));
}
