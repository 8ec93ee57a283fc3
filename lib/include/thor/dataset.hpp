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

/// The UCI HAR Dataset (human activity recognition from smartphone inertial
/// signals) in its published layout under `root` ("UCI HAR Dataset/"):
///   root/<split>/Inertial Signals/<signal>_<split>.txt  one window per line,
///       128 readings separated by spaces, for the 9 signals body_acc_{x,y,z},
///       body_gyro_{x,y,z}, total_acc_{x,y,z} (this order is the channel order)
///   root/<split>/y_<split>.txt  one activity per line, 1..6
/// with <split> train or test. sample_shape is [9, 128] (channels first, for
/// 1-D convolutions), labels 0..5 (num_classes 6), values as recorded (g and
/// rad/s: small, around [-1, 1]; not rescaled). Every file must have the same
/// number of lines. Throws InputError naming the file, the line and what was
/// wrong (a missing file names every file looked for and where the set is
/// published).
struct HarOptions {
  std::string root;
  Split split = Split::train;
  int64_t limit = -1;  ///< at most this many windows; < 0 for all
  /// Throws InputError naming the field: root non-empty, limit != 0.
  void validate() const;
};
Dataset load_uci_har(const HarOptions& options);

/// The 9 signal names of the UCI HAR Dataset, in channel order.
const std::vector<std::string>& uci_har_signals();

/// Where the UCI HAR Dataset is published; error messages point there.
inline constexpr const char* kUciHarUrl =
    "https://archive.ics.uci.edu/dataset/240/human+activity+recognition+using+smartphones";

/// `n` windows shaped like UCI HAR's ([9, 128], 6 classes) from a seeded
/// generator, named "har-shaped (generated)": for energy work where the real
/// set is absent (training energy does not depend on the values).
Dataset generated_har_windows(int64_t n, uint64_t seed = 1);

/// Images [1, H, W] read row by row as sequences [H, W] (H time steps of W
/// features: the sequential-MNIST setting); data and labels are unchanged.
/// Throws InputError unless the images have one channel.
Dataset rows_as_sequences(const Dataset& images);

/// The 40 attribute names of CelebA's list_attr_celeba.txt, in file order.
const std::vector<std::string>& celeba_attribute_names();

/// Where CelebA is published; error messages point there.
inline constexpr const char* kCelebAUrl = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html";

/// Deterministic uniform random samples with random labels, for profiling.
Dataset random_dataset(const std::vector<int64_t>& sample_shape, int64_t n, int64_t num_classes,
                       uint64_t seed);

}  // namespace thor
