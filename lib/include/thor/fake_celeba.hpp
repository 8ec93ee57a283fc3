#pragma once
/// \file
/// A tiny synthetic CelebA for tests and demos: the published folder layout
/// with made-up JPEGs whose content depends on the Male attribute, so that a
/// small CNN can learn the label in a few epochs.
#include <cstdint>
#include <string>

namespace thor {

/// Writes `n_images` (1..999999) images and both list files under `root`
/// (created if missing; existing files of the same names are replaced):
///   root/img_align_celeba/000001.jpg ...   178×218 RGB JPEGs (quality 95)
///   root/list_attr_celeba.txt              count, the 40 CelebA attribute
///                                          names, then "file v1 ... v40"
///                                          padded as in the real file
///   root/list_eval_partition.txt           "file p"
/// Image i (0-based) is in partition 0 when i % 10 < 7, 1 when it is 7, and 2
/// when it is 8 or 9 (so 40 images give 28 train, 4 validation, 8 test).
/// Male alternates within every group of ten (its phase set by the block and
/// the seed), so every split holds both classes. Male images carry a large
/// bright, bluish ellipse and the others a dark, reddish one, on a noisy grey
/// background at a jittered position. The other 39 attributes are random ±1.
/// Deterministic for a given seed. Files are written atomically. Throws
/// InputError for n_images out of range, std::runtime_error on I/O errors.
void write_fake_celeba(const std::string& root, int n_images, uint64_t seed);

}  // namespace thor
