// CelebA in its published layout: attribute list, partition list, JPEGs.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <unordered_map>

#include "image.hpp"
#include "thor/dataset.hpp"
#include "thor/io.hpp"

namespace thor {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAttrFile = "list_attr_celeba.txt";
constexpr const char* kPartitionFile = "list_eval_partition.txt";
constexpr const char* kImageDir = "img_align_celeba";

/// Calls fn(line_number, fields) for each line of `text` (1-based numbers),
/// fields split on spaces and tabs, '\r' ignored. Blank lines give no fields.
template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  std::vector<std::string_view> fields;
  int64_t number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    ++number;
    fields.clear();
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      const size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
      if (i > start) fields.push_back(line.substr(start, i - start));
    }
    fn(number, fields);
    pos = end + 1;
  }
}

std::string where(const std::string& path, int64_t line) {
  return path + ":" + std::to_string(line) + ": ";
}

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 18) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    if (s.size() == 1) return false;
    i = 1;
  }
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = neg ? -v : v;
  return true;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " ") + n;
  return out;
}

/// Image name → partition (0, 1, 2).
std::unordered_map<std::string, int> read_partitions(const std::string& path) {
  const std::string text = read_file(path);
  std::unordered_map<std::string, int> partition;
  for_each_line(text, [&](int64_t line, const std::vector<std::string_view>& f) {
    if (f.empty()) return;
    if (f.size() != 2)
      throw InputError(where(path, line) + "expected 2 columns (image file, partition), got " +
                       std::to_string(f.size()));
    int64_t p = -1;
    if (!parse_int(f[1], p) || p < 0 || p > 2)
      throw InputError(where(path, line) + "partition of " + std::string(f[0]) + " is '" +
                       std::string(f[1]) + "'; expected 0 (train), 1 (validation) or 2 (test)");
    if (!partition.emplace(std::string(f[0]), static_cast<int>(p)).second)
      throw InputError(where(path, line) + std::string(f[0]) +
                       " is listed twice; expected each image once");
  });
  if (partition.empty())
    throw InputError(path + ": no images listed; expected lines 'file partition'");
  return partition;
}

/// One selected image: its file name and label.
struct Entry {
  std::string file;
  int64_t label;
};

/// Reads and checks the whole attribute list; returns the images of
/// `wanted` partition in file order, at most `limit` (< 0: all).
std::vector<Entry> read_attributes(const std::string& path, const std::string& partition_path,
                                   const std::unordered_map<std::string, int>& partition,
                                   const std::string& attribute, int wanted, int64_t limit) {
  const std::string text = read_file(path);
  std::vector<Entry> out;
  int64_t declared = -1, rows = 0;
  std::vector<std::string> names;
  size_t column = 0;
  for_each_line(text, [&](int64_t line, const std::vector<std::string_view>& f) {
    if (line == 1) {
      if (f.size() != 1 || !parse_int(f[0], declared) || declared < 0)
        throw InputError(where(path, line) +
                         "expected the image count (one non-negative integer), got '" +
                         std::string(text.substr(0, text.find('\n'))) + "'");
      return;
    }
    if (line == 2) {
      for (auto s : f) names.emplace_back(s);
      if (names.empty())
        throw InputError(where(path, line) + "expected the attribute names, got an empty line");
      const auto it = std::find(names.begin(), names.end(), attribute);
      if (it == names.end())
        throw InputError(where(path, line) + "unknown attribute '" + attribute +
                         "'; expected one of: " + join(names));
      column = static_cast<size_t>(it - names.begin()) + 1;
      return;
    }
    if (f.empty()) return;
    ++rows;
    if (f.size() != names.size() + 1)
      throw InputError(where(path, line) + "expected " + std::to_string(names.size() + 1) +
                       " columns (image file + " + std::to_string(names.size()) +
                       " attributes), got " + std::to_string(f.size()));
    for (size_t c = 1; c < f.size(); ++c)
      if (f[c] != "1" && f[c] != "-1")
        throw InputError(where(path, line) + "attribute " + names[c - 1] + " of " +
                         std::string(f[0]) + " is '" + std::string(f[c]) + "'; expected 1 or -1");
    const std::string file(f[0]);
    const auto p = partition.find(file);
    if (p == partition.end())
      throw InputError(where(path, line) + file + " is not listed in " + partition_path +
                       "; expected every image in both lists");
    if (p->second == wanted && (limit < 0 || static_cast<int64_t>(out.size()) < limit))
      out.push_back({file, f[column] == "1" ? 1 : 0});
  });
  if (declared < 0 || names.empty())
    throw InputError(path +
                     ": too short; expected the image count on line 1 and the attribute "
                     "names on line 2");
  if (rows != declared)
    throw InputError(where(path, 1) + "says " + std::to_string(declared) +
                     " images; expected that many rows, got " + std::to_string(rows));
  return out;
}

}  // namespace

const std::vector<std::string>& celeba_attribute_names() {
  // clang-format off
  static const std::vector<std::string> names = {
      "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
      "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair",
      "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair",
      "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
      "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
      "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings",
      "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young"};
  // clang-format on
  return names;
}

void CelebAOptions::validate() const {
  const FieldRules f("CelebAOptions");
  f.require(!root.empty(), "root", "''",
            "must name the CelebA folder (see " + std::string(kCelebAUrl) + ")");
  f.require(!attribute.empty() && attribute.find_first_of(" \t\r\n") == std::string::npos,
            "attribute", "'" + attribute + "'",
            "must be one attribute name without spaces, e.g. Male");
  f.count("image_size", image_size, 1, 1024);
  f.require(limit != 0, "limit", "0", "must be positive, or < 0 for all images");
}

Dataset load_celeba(const CelebAOptions& options) {
  options.validate();
  const fs::path root(options.root);
  const fs::path attr_path = root / kAttrFile;
  const fs::path partition_path = root / kPartitionFile;
  const fs::path image_dir = root / kImageDir;

  std::error_code ec;
  const bool have_attr = fs::is_regular_file(attr_path, ec);
  const bool have_partition = fs::is_regular_file(partition_path, ec);
  const bool have_images = fs::is_directory(image_dir, ec);
  if (!have_attr || !have_partition || !have_images) {
    auto state = [](bool ok) { return ok ? " (found)" : " (missing)"; };
    const bool have_root = fs::is_directory(root, ec);
    throw InputError(
        options.root + ": " + (have_root ? "incomplete CelebA folder" : "folder does not exist") +
        "; looked for " + attr_path.string() + state(have_attr) + ", " + partition_path.string() +
        state(have_partition) + " and " + image_dir.string() + "/" + state(have_images) +
        ". Expected CelebA's published layout (Align&Cropped images in img_align_celeba/, "
        "list_attr_celeba.txt and list_eval_partition.txt beside it). CelebA is published at " +
        kCelebAUrl + "; point --data-root (or the recipe key data.root) to that folder.");
  }

  const auto partition = read_partitions(partition_path.string());
  const int wanted = options.split == Split::train ? 0 : 2;
  const std::vector<Entry> entries =
      read_attributes(attr_path.string(), partition_path.string(), partition, options.attribute,
                      wanted, options.limit);
  if (entries.empty())
    throw InputError(partition_path.string() + ": no image in partition " + std::to_string(wanted) +
                     " (" + (wanted == 0 ? "train" : "test") + "); expected at least one");

  const int channels = options.grayscale ? 1 : 3;
  const int64_t s = options.image_size;
  Dataset d;
  d.name = "celeba/" + std::string(options.split == Split::train ? "train" : "test");
  d.sample_shape = {channels, s, s};
  d.num_classes = 2;
  d.labels.reserve(entries.size());
  for (const Entry& e : entries) d.labels.push_back(e.label);
  const size_t numel = static_cast<size_t>(d.sample_numel());
  d.data.resize(entries.size() * numel);
  // Exceptions (the first bad image) propagate out of parallel_for with their type.
  tbb::parallel_for(
      tbb::blocked_range<size_t>(0, entries.size(), 8), [&](const tbb::blocked_range<size_t>& r) {
        for (size_t i = r.begin(); i != r.end(); ++i) {
          const std::string path = (image_dir / entries[i].file).string();
          const detail::Image img = detail::decode_image(path, read_file(path), channels);
          detail::crop_resize_chw(img, static_cast<int>(s), &d.data[i * numel]);
        }
      });
  return d;
}

}  // namespace thor
