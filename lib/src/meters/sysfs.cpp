// sysfs reads for the meters. POSIX open/read rather than iostreams so that
// errors carry errno (EACCES on RAPL counters is the common one).
#include "sysfs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "thor/error.hpp"

namespace thor::meters_detail {

namespace fs = std::filesystem;

std::string under_root(const std::string& root, const std::string& path) {
  std::string r = root;
  while (!r.empty() && r.back() == '/') r.pop_back();
  if (r.empty()) return path;
  return r + path;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string read_text(const std::string& path, const std::string& hint) {
  auto fail = [&](int err) {
    std::string msg = path + ": cannot read: " + std::strerror(err);
    if (!hint.empty() && (err == EACCES || err == EPERM)) msg += "; " + hint;
    return SensorError(msg);
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw fail(errno);
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;  // EISDIR for a folder, EIO/ENODATA for a failing sensor
      ::close(fd);
      throw fail(err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > (1u << 20)) break;  // sysfs attributes are one page at most
  }
  ::close(fd);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

namespace {
std::string trimmed(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}
SensorError not_an_integer(const std::string& path, const std::string& text) {
  std::string shown = text.size() > 64 ? text.substr(0, 64) + "..." : text;
  return SensorError(path + ": expected an integer, read '" + shown + "'");
}
}  // namespace

std::int64_t parse_int(const std::string& path, const std::string& text) {
  const std::string t = trimmed(text);
  if (t.empty()) throw not_an_integer(path, text);
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(t.c_str(), &end, 10);
  if (errno != 0 || end != t.c_str() + t.size()) throw not_an_integer(path, text);
  return static_cast<std::int64_t>(v);
}

std::uint64_t parse_uint(const std::string& path, const std::string& text) {
  const std::string t = trimmed(text);
  if (t.empty() || !std::isdigit(static_cast<unsigned char>(t[0])))
    throw not_an_integer(path, text);
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(t.c_str(), &end, 10);
  if (errno != 0 || end != t.c_str() + t.size()) throw not_an_integer(path, text);
  return static_cast<std::uint64_t>(v);
}

std::int64_t read_int(const std::string& path, const std::string& hint) {
  return parse_int(path, read_text(path, hint));
}

std::uint64_t read_uint(const std::string& path, const std::string& hint) {
  return parse_uint(path, read_text(path, hint));
}

bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i]));
    const bool db = std::isdigit(static_cast<unsigned char>(b[j]));
    if (da && db) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      // Compare digit runs as numbers without overflow: strip zeros, then length, then text.
      std::size_t is = i, js = j;
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      if (ie - is != je - js) return ie - is < je - js;
      const int c = a.compare(is, ie - is, b, js, je - js);
      if (c != 0) return c < 0;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::vector<std::string> list_dir(const std::string& path, bool only_dirs) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(path, ec), end;
  if (ec) return names;
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    std::error_code ec2;
    if (only_dirs && !fs::is_directory(it->path(), ec2)) continue;  // follows symlinks
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end(), natural_less);
  return names;
}

}  // namespace thor::meters_detail
