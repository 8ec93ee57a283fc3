#pragma once
/// \file
/// What every thor program shares: exit codes (0 ok, 2 bad input or usage,
/// 1 internal failure), one-line error messages, --help and --version.
/// Internal to thor's programs (target thor_cli): neither installed nor part of
/// the exported package, so users of thor::core never see Boost.Program_options.
#include <boost/program_options.hpp>
#include <functional>
#include <string>

namespace thor::cli {

namespace po = boost::program_options;

inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;
inline constexpr int kExitBadInput = 2;
/// Ended by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
inline constexpr int kExitInterrupted = 130;

/// thor's version string.
std::string version();

/// Runs `body`, mapping InputError and option errors to one "program: error:
/// ..." line and exit 2, any other exception to exit 1.
int run(const std::string& program, const std::function<int()>& body);

/// Parses `argv` against `options` (plus --help and --version). Prints help
/// or version and returns false when the program should stop with exit 0.
/// `positional` (may be null) receives positional arguments.
bool parse(int argc, char** argv, const std::string& program, const std::string& usage,
           po::options_description& options, po::variables_map& vm,
           const po::positional_options_description* positional = nullptr);

}  // namespace thor::cli
