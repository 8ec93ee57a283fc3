#pragma once
/// \file
/// Datasets as plain float buffers, so that only the training code needs
/// LibTorch. Samples are stored contiguously, already scaled to [0, 1].
#include <cstdint>
#include <string>
#include <vector>

#include "thor/error.hpp"

namespace thor {

enum class Split { train, test };

/// N samples of one shape with integer class labels.
struct Dataset {
  std::string name;                   ///< for reports, e.g. "fashion-mnist/train"
  std::vector<int64_t> sample_shape;  ///< [C, H, W] or [features]
  std::vector<float> data;            ///< size() * sample_numel() values
  std::vector<int64_t> labels;        ///< size() labels in [0, num_classes)
  int64_t num_classes = 0;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t sample_numel() const;
  /// First n samples (or all if n >= size()).
  Dataset head(int64_t n) const;
};

/// Where Debian's dataset-fashion-mnist puts the files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// Reads an IDX image file and its label file (plain or .gz). `limit` < 0
/// reads all. Throws InputError naming the file and what was wrong.
///
/// Images must be IDX u8 [N, H, W] (magic 0x00000803), labels IDX u8 [N]
/// (magic 0x00000801); gzip is detected from the content, not the name. The
/// result has sample_shape [1, H, W], pixels / 255, and num_classes =
/// max(10, largest label in the file + 1): every MNIST-family set has 10
/// classes, and a set with more (EMNIST) still gets one class per label.
/// Both files are read and checked whole even when `limit` is set; `limit`
/// = 0 is an error (an empty dataset would only fail later, less clearly).
Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 int64_t limit = -1);

/// Fashion-MNIST or MNIST from a folder holding
/// {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].
///
/// The plain file is preferred over the .gz one when both exist. Labels must
/// lie in [0, 10). The name is "<folder name>/train" or "<folder name>/test".
/// A missing file ends in one InputError naming the folder, every file looked
/// for, and Debian's dataset-fashion-mnist package (kFashionMnistDir).
Dataset load_mnist_folder(const std::string& dir, Split split, int64_t limit = -1);

/// CelebA in its published layout under `root`.
struct CelebAOptions {
  std::string
      root;  ///< folder with img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt
  std::string attribute = "Male";  ///< binary attribute used as the label (1 → class 1)
  int image_size = 64;             ///< square side images are resized to
  bool grayscale = false;          ///< 1 channel instead of 3
  Split split = Split::train;      ///< train = partition 0, test = partition 2
  int64_t limit = -1;              ///< at most this many images; < 0 for all
  /// Throws InputError naming the field, its value and the rule: root and
  /// attribute non-empty, attribute without spaces, image_size in [1, 1024],
  /// limit != 0. Whether the attribute exists is checked by load_celeba.
  void validate() const;
};

/// Loads CelebA; a missing folder names the files it looked for and where
/// CelebA is published.
///
/// Layout (as published at https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html,
/// "Align&Cropped Images" plus the two lists, all in one folder):
///   root/img_align_celeba/000001.jpg ...
///   root/list_attr_celeba.txt      line 1: image count; line 2: attribute
///                                  names; then "file v1 ... vK", v = 1 or -1
///   root/list_eval_partition.txt   "file p", p = 0 train, 1 val, 2 test
/// The label is 1 where `attribute` is 1, else 0 (num_classes = 2). Split
/// train is partition 0 and test is partition 2; partition 1 (validation) is
/// not used. Images are taken in list_attr_celeba.txt order; `limit` keeps
/// the first ones of the split. Each image is decoded (stb_image), converted
/// to RGB or grayscale (stb's luma), center-cropped to a square of side
/// min(W, H) (178×218 aligned CelebA loses 20 rows top and bottom), then
/// resized to image_size² by area averaging (each output pixel is the
/// coverage-weighted mean of the source pixels under it; upscaling reduces to
/// nearest neighbour). sample_shape is [C, S, S], CHW, values / 255. Images
/// are decoded in parallel with oneTBB in the caller's task arena.
/// Memory: the whole train split at 64² RGB is 162770 × 12288 floats ≈ 8 GB;
/// use `limit` on small machines.
/// Throws InputError for missing files (one message naming all of them),
/// malformed lists (file and line), and images that fail to decode (file and
/// the decoder's reason).
Dataset load_celeba(const CelebAOptions& options);

/// The 40 attribute names of CelebA's list_attr_celeba.txt, in file order.
const std::vector<std::string>& celeba_attribute_names();

/// Where CelebA is published; error messages point there.
inline constexpr const char* kCelebAUrl = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html";

/// Deterministic uniform random samples with random labels, for profiling.
Dataset random_dataset(const std::vector<int64_t>& sample_shape, int64_t n, int64_t num_classes,
                       uint64_t seed);

}  // namespace thor
