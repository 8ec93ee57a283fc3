#include "thor/cli.hpp"

#include <cstdlib>
#include <iostream>

#include "thor/error.hpp"
#include "thor/protocol.hpp"

namespace thor::cli {

std::string version() { return THOR_VERSION; }

int run(const std::string& program, const std::function<int()>& body) {
  // Training throughput and measurements both depend on it; see protocol.hpp.
  if (!std::getenv("THOR_NO_PIN_ALLOCATOR")) pin_allocator();
  try {
    return body();
  } catch (const po::error& e) {
    std::cerr << program << ": error: " << e.what() << " (see " << program << " --help)\n";
    return kExitBadInput;
  } catch (const InputError& e) {
    std::cerr << program << ": error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << program << ": internal error: " << e.what() << "\n";
    return kExitInternal;
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
