// The profiler's journal (estimator/src/profiler_io.hpp, Journal::open): the
// resume source of a killed profiling run. Internal to the profiler, reached
// directly because its only public caller, run_profiler, profiles for
// seconds after reading it. A journal loads (lines cut by a kill are
// skipped) or ends in one InputError naming the file.
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "fuzz_fixtures.hpp"
#include "profiler_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = (thor::fuzz::scratch() / "profile.json.journal").string();
  thor::fuzz::write_bytes(path, data, size);
  thor::detail::Journal journal;
  thor::fuzz::loads_or_input_error([&] { journal.open(path, thor::fuzz::journal_header()); }, path);
  return 0;
}
