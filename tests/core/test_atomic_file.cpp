// Specification of write_file_atomically (atomic_file.hpp): a file is replaced all at once, by a
// temporary of its own per call, and a failure leaves the target untouched and no temporary
// behind.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "minicnn/atomic_file.hpp"
#include "support/temp_files.hpp"

using namespace minicnn;
namespace fs = std::filesystem;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The names of the entries of `directory`, sorted.
std::vector<std::string> entries(const fs::path& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Writer w's contents in round r: large enough (96 KiB) that write() and rename() of several
// threads interleave, every byte telling whose it is.
std::string contents_of(int writer, int round) {
  const std::string head = "writer " + std::to_string(writer) + " round " + std::to_string(round);
  return head + std::string(96 * 1024, static_cast<char>('a' + writer)) + head;
}

}  // namespace

TEST_CASE(
    "Threads of one process writing the same path at once each use a temporary of their own") {
  const testing::TempDir dir;
  const std::string path = dir / "model.mcnn";
  constexpr int kWriters = 4, kRounds = 40;
  std::atomic<int> torn{0}, errors{0}, reads{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w)
    threads.emplace_back([&, w] {
      for (int r = 0; r < kRounds; ++r) {
        try {
          write_file_atomically(path, contents_of(w, r), "test");
        } catch (const Error&) {
          ++errors;
        }
      }
    });
  // A reader meanwhile: whenever the target exists, it is one writer's whole contents.
  std::thread reader([&] {
    while (!done) {
      const std::string seen = read(path);
      if (seen.empty()) continue;  // not written yet
      ++reads;
      bool whole = false;
      for (int w = 0; w < kWriters && !whole; ++w)
        for (int r = 0; r < kRounds && !whole; ++r)
          whole = seen == contents_of(w, r);
      torn += whole ? 0 : 1;
    }
  });
  for (std::thread& t : threads)
    t.join();
  done = true;
  reader.join();
  CHECK(errors.load() == 0);
  CHECK(torn.load() == 0);
  CHECK(reads.load() > 0);
  const std::string last = read(path);
  bool whole = false;
  for (int w = 0; w < kWriters; ++w)
    whole = whole || last == contents_of(w, kRounds - 1);
  CHECK(whole);  // each writer's last round is the last write of that writer
  CHECK(entries(dir.path) == std::vector<std::string>{"model.mcnn"});  // no temporary left
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0644);
}

TEST_CASE("A failed write leaves the target untouched and no temporary behind") {
  const testing::TempDir dir;
  const std::string path = dir / "report.md";
  write_file_atomically(path, "previous", "test");

  SUBCASE("the directory is missing: the temporary cannot be created") {
    const std::string missing = dir / "gone/report.md";
    CHECK_THROWS_WITH_AS(write_file_atomically(missing, "new", "History::write_csv"),
                         ("History::write_csv: cannot create a temporary file next to '" + missing +
                          "': No such file or directory")
                             .c_str(),
                         Error);
  }
  SUBCASE("the target is a directory: the rename fails") {
    const std::string taken = dir / "taken";
    fs::create_directory(taken);
    CHECK_THROWS_WITH_AS(
        write_file_atomically(taken, "new", "save_checkpoint"),
        ("save_checkpoint: cannot replace '" + taken + "': Is a directory").c_str(), Error);
    fs::remove(taken);
  }
  SUBCASE("the disk is full: write() fails") {
    // A file size limit of 4 KiB in a forked child stands for a full disk: write() past it fails
    // with EFBIG (SIGXFSZ ignored). The child sends the message back through a pipe.
    int channel[2];
    REQUIRE(::pipe(channel) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(channel[0]);
      std::signal(SIGXFSZ, SIG_IGN);
      const rlimit cap{4096, 4096};
      std::string outcome = "no error";
      if (::setrlimit(RLIMIT_FSIZE, &cap) != 0) outcome = "cannot limit the file size";
      try {
        write_file_atomically(path, std::string(64 * 1024, 'x'), "write_png");
      } catch (const Error& error) {
        outcome = error.what();
      }
      const ssize_t written = ::write(channel[1], outcome.data(), outcome.size());
      ::_exit(written == static_cast<ssize_t>(outcome.size()) ? 0 : 1);
    }
    ::close(channel[1]);
    std::string outcome;
    char buffer[512];
    for (ssize_t got; (got = ::read(channel[0], buffer, sizeof buffer)) > 0;)
      outcome.append(buffer, static_cast<std::size_t>(got));
    ::close(channel[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(outcome == "write_png: cannot write '" + path + "': File too large");
  }
  CHECK(read(path) == "previous");
  CHECK(entries(dir.path) == std::vector<std::string>{"report.md"});
}
