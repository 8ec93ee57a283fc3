// Output files (thor/io.hpp): a full disk or an unwritable place ends in one
// InputError naming the file, with no temp file or partial output left.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "thor/io.hpp"

namespace fs = std::filesystem;

TEST_CASE("write_file_atomic on a full disk: InputError, nothing left behind") {
  const fs::path dir = fs::temp_directory_path() / ("thor-io-full-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string target = (dir / "report.json").string();
  // A file-size limit makes writes fail as a full disk does (EFBIG instead
  // of ENOSPC); in a child process so the limit does not outlive the test.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      thor::write_file_atomic(target, std::string(1 << 20, 'x'));
    } catch (const thor::InputError& e) {
      const std::string msg = e.what();
      ::_exit(msg.find(target) != std::string::npos && msg.find("disk full") != std::string::npos
                  ? 0
                  : 3);
    }
    ::_exit(4);  // no error at all
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(fs::is_empty(dir));  // neither report.json nor its temp file
  fs::remove_all(dir);
}

TEST_CASE("an output folder under a regular file is refused before any work") {
  const fs::path file = fs::temp_directory_path() / ("thor-io-file-" + std::to_string(::getpid()));
  std::ofstream(file.string()) << "x";
  CHECK_THROWS_WITH_AS(thor::check_output_folder((file / "out").string()),
                       doctest::Contains("is not a folder (choose another folder with --output)"),
                       thor::InputError);
  CHECK_THROWS_AS(thor::StagingFolder((file / "out").string()), thor::InputError);
  CHECK_NOTHROW(thor::check_output_folder((fs::temp_directory_path() / "thor-new/a/b").string()));
  CHECK_FALSE(fs::exists(fs::temp_directory_path() / "thor-new"));  // checking creates nothing
  fs::remove(file);
}
