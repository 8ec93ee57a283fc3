#include "thor/cli.hpp"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "thor/cluster.hpp"
#include "thor/error.hpp"
#include "thor/interrupt.hpp"
#include "thor/progress.hpp"
#include "thor/protocol.hpp"

namespace thor::cli {

std::string version() { return THOR_VERSION; }

int run(const std::string& program, const std::function<int()>& body) {
  // Training throughput and measurements both depend on it; see protocol.hpp.
  if (!std::getenv("THOR_NO_PIN_ALLOCATOR")) pin_allocator();
  // Under mpirun every rank runs this; an error on one rank must end them
  // all (the others would wait for it forever), with the same exit code.
  const Cluster& cluster = Cluster::world();
  const std::string who =
      cluster.distributed() ? program + " (rank " + std::to_string(cluster.rank()) + ")" : program;
  install_interrupt_handlers();
  // One status line per program; under mpirun only rank 0 draws it.
  ProgressOptions progress_options;
  progress_options.program = program;
  if (cluster.distributed() && !cluster.root())
    progress_options.mode = ProgressOptions::Mode::quiet;
  configure_progress(progress_options);
  auto fail = [&](int code, const std::string& text) {
    progress().end_phase();  // clear a status line before the message
    // Most errors happen on every rank alike; rank 0's message and abort
    // usually end the job before the others repeat it.
    if (cluster.distributed() && !cluster.root())
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::cerr << who << ": " << text << "\n" << std::flush;
    if (cluster.distributed()) cluster.abort(code);
    return code;
  };
  try {
    return body();
  } catch (const po::error& e) {
    return fail(kExitBadInput, std::string("error: ") + e.what() + " (see " + program + " --help)");
  } catch (const InputError& e) {
    return fail(kExitBadInput, std::string("error: ") + e.what());
  } catch (const Interrupted& e) {
    return fail(kExitInterrupted,
                std::string(e.what()) +
                    ": stopped; no half-written output was left. Run the same command again to "
                    "continue: finished steps are kept (profiling journal, prune's resume state, "
                    "search checkpoint).");
  } catch (const std::exception& e) {
    return fail(kExitInternal, std::string("internal error: ") + e.what());
  }
}

bool parse(int argc, char** argv, const std::string& program, const std::string& usage,
           po::options_description& options, po::variables_map& vm,
           const po::positional_options_description* positional) {
  options.add_options()("help,h", "print this help and exit")("version",
                                                              "print the version and exit");
  po::command_line_parser parser(argc, argv);
  parser.options(options);
  if (positional) parser.positional(*positional);
  po::store(parser.run(), vm);
  if (vm.count("help")) {
    std::cout << "Usage: " << usage << "\n\n" << options << "\n";
    return false;
  }
  if (vm.count("version")) {
    std::cout << program << " (thor) " << version() << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace thor::cli
