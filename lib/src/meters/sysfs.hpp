#pragma once
// Internal to thor::meters: reading sysfs-style files with errors that name
// the file and the reason, and listing folders in a stable order.
#include <cstdint>
#include <string>
#include <vector>

namespace thor::meters_detail {

/// `root` joined with an absolute sysfs path ("/sys/class/powercap"); a root
/// of "/" or "" leaves the path as is.
std::string under_root(const std::string& root, const std::string& path);

/// Whether `path` exists (following symlinks).
bool exists(const std::string& path);

/// The whole file, trailing whitespace removed. Throws SensorError
/// "<path>: cannot read: <errno text>" when it cannot be opened or read
/// (permissions, a folder, a dangling link). `permission_hint` (how to get
/// access) is appended when the reason is EACCES or EPERM.
std::string read_text(const std::string& path, const std::string& permission_hint = {});

/// The file as a signed or unsigned decimal integer. Throws SensorError
/// "<path>: expected an integer, read '<text>'" for anything else.
std::int64_t read_int(const std::string& path, const std::string& permission_hint = {});
std::uint64_t read_uint(const std::string& path, const std::string& permission_hint = {});

/// Parses `text` read from `path` (for messages) as an integer.
std::int64_t parse_int(const std::string& path, const std::string& text);
std::uint64_t parse_uint(const std::string& path, const std::string& text);

/// Names of the entries of a folder, sorted by natural order (so that
/// "hwmon10" comes after "hwmon2"); empty when the folder is absent or
/// unreadable. `only_dirs` keeps entries that are folders (or links to one).
std::vector<std::string> list_dir(const std::string& path, bool only_dirs = true);

/// Natural ("version") ordering of names: digit runs compare as numbers.
bool natural_less(const std::string& a, const std::string& b);

}  // namespace thor::meters_detail
