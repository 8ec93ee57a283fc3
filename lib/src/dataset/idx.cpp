// IDX reader (the MNIST file format) for plain and gzipped files.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "thor/dataset.hpp"

namespace thor {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension

/// Whole content of a plain or gzip file (gzread passes plain files through).
std::vector<uint8_t> read_maybe_gz(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file; expected an IDX file");
  if (fs::is_directory(path, ec)) throw InputError(path + ": is a folder; expected an IDX file");
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr)
    throw InputError(path + ": cannot open for reading (" + std::strerror(errno) + ")");
  gzbuffer(f, 1 << 17);
  std::vector<uint8_t> out;
  constexpr size_t kChunk = size_t{1} << 20;
  for (;;) {
    const size_t old = out.size();
    out.resize(old + kChunk);
    const int n = gzread(f, out.data() + old, static_cast<unsigned>(kChunk));
    if (n < 0) {
      int err = 0;
      const std::string why = gzerror(f, &err);
      gzclose(f);
      throw InputError(path + ": read error (" + why + "); expected a readable IDX file");
    }
    out.resize(old + static_cast<size_t>(n));
    if (n == 0) break;
  }
  int err = Z_OK;
  const std::string why = gzerror(f, &err);
  gzclose(f);
  if (err != Z_OK)
    throw InputError(path + ": damaged or truncated gzip data (" + why +
                     "); expected a complete .gz file");
  return out;
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

/// Checks magic and total size; returns the dimensions. `what` names the
/// content for messages ("images", "labels").
std::vector<uint64_t> parse_idx(const std::string& path, const std::vector<uint8_t>& bytes,
                                uint32_t magic, const char* what) {
  const size_t ndims = magic & 0xff;
  const std::string expected_magic = hex32(magic) + " (IDX " + what + ": unsigned bytes, " +
                                     std::to_string(ndims) +
                                     (ndims == 1 ? " dimension)" : " dimensions)");
  if (bytes.size() < 4)
    throw InputError(path +
                     ": truncated IDX file; expected at least 4 bytes (the magic number), got " +
                     std::to_string(bytes.size()));
  const uint32_t got = be32(bytes.data());
  if (got != magic) {
    std::string hint;
    if (got == kImagesMagic || got == kLabelsMagic)
      hint = " (an IDX " + std::string(got == kImagesMagic ? "image" : "label") +
             " file: are the image and label paths swapped?)";
    else if (bytes[0] == 0x1f && bytes[1] == 0x8b)
      hint = " (gzip data inside gzip: decompress once)";
    throw InputError(path + ": wrong IDX magic number; expected " + expected_magic + ", got " +
                     hex32(got) + hint);
  }
  const size_t header = 4 + 4 * ndims;
  if (bytes.size() < header)
    throw InputError(path + ": truncated IDX file; expected at least " + std::to_string(header) +
                     " bytes (the header), got " + std::to_string(bytes.size()));
  std::vector<uint64_t> dims(ndims);
  uint64_t total = header;
  bool overflow = false;
  std::string shape;
  for (size_t d = 0; d < ndims; ++d) {
    dims[d] = be32(bytes.data() + 4 + 4 * d);
    shape += (d ? "x" : "") + std::to_string(dims[d]);
  }
  uint64_t payload = 1;
  for (uint64_t d : dims) {
    if (d != 0 && payload > std::numeric_limits<uint64_t>::max() / d) overflow = true;
    payload *= d;
  }
  if (!overflow && payload > std::numeric_limits<uint64_t>::max() - header) overflow = true;
  total = header + payload;
  for (size_t d = 0; d < ndims; ++d)
    if (dims[d] == 0)
      throw InputError(path + ": IDX header has a zero dimension (" + shape +
                       "); expected every dimension > 0");
  if (overflow || total != bytes.size()) {
    const std::string expected = overflow ? "more than 2^64" : std::to_string(total);
    throw InputError(
        path + ": " +
        (overflow || total > bytes.size() ? "truncated IDX file" : "IDX file has trailing bytes") +
        "; expected " + expected + " bytes (" + std::to_string(header) + "-byte header + " + shape +
        " " + what + "), got " + std::to_string(bytes.size()));
  }
  return dims;
}

/// load_idx with an optional bound on labels (0: none).
Dataset load_idx_checked(const std::string& images_path, const std::string& labels_path,
                         int64_t limit, int64_t max_classes, const std::string& why_bound) {
  if (limit == 0)
    throw InputError(images_path + ": limit = 0; expected a positive count, or < 0 for all");
  const std::vector<uint8_t> images = read_maybe_gz(images_path);
  const std::vector<uint64_t> idims = parse_idx(images_path, images, kImagesMagic, "pixels");
  const std::vector<uint8_t> labels = read_maybe_gz(labels_path);
  const std::vector<uint64_t> ldims = parse_idx(labels_path, labels, kLabelsMagic, "labels");
  if (idims[0] != ldims[0])
    throw InputError(images_path + ": holds " + std::to_string(idims[0]) + " images but " +
                     labels_path + " holds " + std::to_string(ldims[0]) +
                     " labels; expected the same count in both files");

  const uint8_t* label_bytes = labels.data() + 8;
  const int64_t count = static_cast<int64_t>(ldims[0]);
  int64_t max_label = 0;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t l = label_bytes[i];
    if (max_classes > 0 && l >= max_classes)
      throw InputError(labels_path + ": label " + std::to_string(l) + " at index " +
                       std::to_string(i) + " is out of range; expected 0.." +
                       std::to_string(max_classes - 1) + why_bound);
    max_label = std::max(max_label, l);
  }

  const int64_t n = limit < 0 ? count : std::min(count, limit);
  const int64_t h = static_cast<int64_t>(idims[1]), w = static_cast<int64_t>(idims[2]);
  Dataset d;
  d.name = fs::path(images_path).filename().string();
  d.sample_shape = {1, h, w};
  d.num_classes = std::max<int64_t>(10, max_label + 1);
  d.labels.assign(label_bytes, label_bytes + n);
  const uint8_t* pixels = images.data() + 16;
  d.data.resize(static_cast<size_t>(n * h * w));
  for (size_t i = 0; i < d.data.size(); ++i) d.data[i] = static_cast<float>(pixels[i]) / 255.f;
  return d;
}

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path, int64_t limit) {
  return load_idx_checked(images_path, labels_path, limit, 0, "");
}

Dataset load_mnist_folder(const std::string& dir, Split split, int64_t limit) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const fs::path folder(dir);
  // Plain first, then .gz; returns "" when neither exists.
  auto find = [&](const std::string& stem) -> std::string {
    std::error_code ec;
    for (const char* ext : {"", ".gz"}) {
      const fs::path p = folder / (stem + ext);
      if (fs::is_regular_file(p, ec)) return p.string();
    }
    return "";
  };
  const std::string images_stem = prefix + "-images-idx3-ubyte";
  const std::string labels_stem = prefix + "-labels-idx1-ubyte";
  const std::string images = find(images_stem), labels = find(labels_stem);
  if (images.empty() || labels.empty()) {
    std::error_code ec;
    const bool exists = fs::is_directory(folder, ec);
    std::string msg = dir + ": " + (exists ? "" : "folder does not exist; ") + "no " +
                      (split == Split::train ? "train" : "test") +
                      " split of (Fashion-)MNIST; looked for ";
    msg += (folder / images_stem).string() + "[.gz]" + (images.empty() ? " (missing)" : " (found)");
    msg += " and " + (folder / labels_stem).string() + "[.gz]" +
           (labels.empty() ? " (missing)" : " (found)");
    msg +=
        "; expected the IDX files of MNIST or Fashion-MNIST there. On Debian, "
        "`apt install dataset-fashion-mnist` puts Fashion-MNIST in ";
    msg += kFashionMnistDir;
    throw InputError(msg);
  }
  Dataset d =
      load_idx_checked(images, labels, limit, 10, " (MNIST-family datasets have 10 classes)");
  std::string base = folder.filename().string();
  if (base.empty()) base = folder.parent_path().filename().string();  // "dir/" form
  d.name =
      (base.empty() ? std::string("mnist") : base) + (split == Split::train ? "/train" : "/test");
  return d;
}

}  // namespace thor
