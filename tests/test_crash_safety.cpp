// Crash safety: a training job killed with SIGKILL at random moments never leaves an unreadable
// checkpoint, and resuming from the last one ends with exactly the weights of a run that was never
// interrupted. The job is a separate program (support/crash_worker.cpp): killing a thread of this
// process, or forking it after OpenMP started, would not be the same.
#include <doctest/doctest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
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

// The inode of the file at `path`, 0 when there is none. Every save renames a new file over the
// checkpoint, so a new inode means a newly completed epoch.
ino_t inode(const std::string& path) {
  struct stat status {};
  return stat(path.c_str(), &status) == 0 ? status.st_ino : 0;
}

// Waits up to 60 s for the checkpoint at `path` to be replaced (its inode to differ from
// `before`) while the worker runs; false when the worker ended or time ran out first.
bool wait_for_new_checkpoint(const std::string& path, ino_t before, pid_t pid) {
  for (int waited_ms = 0; waited_ms < 60000; ++waited_ms) {
    const ino_t now = inode(path);
    if (now != 0 && now != before) return true;
    if (waitpid(pid, nullptr, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
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

  // Each round lets the worker complete at least one more epoch (so every restart resumes from a
  // newer checkpoint, whatever the machine's load), then kills it at a random moment within the
  // next 15 ms: in the middle of an epoch or of a save.
  Random random(11);
  int kills = 0, unreadable = 0;
  const std::string last = killed / "last.mcnn";
  while (kills < 20) {
    const pid_t pid = start_worker(killed.path.string());
    if (!wait_for_new_checkpoint(last, inode(last), pid)) break;
    std::this_thread::sleep_for(std::chrono::microseconds(random.below(15000)));
    kill(pid, SIGKILL);
    if (finished(pid)) break;  // it completed before the kill: nothing left to interrupt
    ++kills;
    try {
      load_checkpoint<float>(last);
    } catch (const Error& error) {
      ++unreadable;
      INFO(error.what());
    }
  }
  CHECK(kills == 20);
  CHECK(unreadable == 0);
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
