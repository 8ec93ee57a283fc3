// The UCI HAR Dataset reader on small trees in the published layout (good
// and broken), HAR-shaped generated windows, and images as row sequences.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include "temp_dir.hpp"
#include "thor/dataset.hpp"

using namespace thor;
using thor::test::input_error_of;
using thor::test::TempDir;
using thor::test::write_bytes;

namespace {

// A tree of `n` windows per split: channel c, step t of window i holds
// i + c / 10 + t / 1000, so every value says where it belongs.
void make_har_tree(const TempDir& dir, int n, const std::string& split = "train") {
  namespace fs = std::filesystem;
  fs::create_directories(dir / (split + "/Inertial Signals"));
  const auto& signals = uci_har_signals();
  for (size_t c = 0; c < signals.size(); ++c) {
    std::ostringstream s;
    for (int i = 0; i < n; ++i) {
      for (int t = 0; t < 128; ++t)
        s << "  " << (i + c / 10.0 + t / 1000.0);  // leading spaces, as published
      s << "\n";
    }
    write_bytes(dir / (split + "/Inertial Signals/" + signals[c] + "_" + split + ".txt"), s.str());
  }
  std::ostringstream y;
  for (int i = 0; i < n; ++i) y << (i % 6) + 1 << "\n";
  write_bytes(dir / (split + "/y_" + split + ".txt"), y.str());
}

}  // namespace

TEST_CASE("uci-har: windows [9, 128] in channel order, labels 0..5") {
  TempDir dir;
  make_har_tree(dir, 7);
  const Dataset d = load_uci_har({dir.str(), Split::train, -1});
  CHECK(d.name == "uci-har/train");
  CHECK(d.sample_shape == std::vector<int64_t>{9, 128});
  CHECK(d.num_classes == 6);
  REQUIRE(d.size() == 7);
  CHECK(d.labels[0] == 0);
  CHECK(d.labels[6] == 0);
  CHECK(d.labels[5] == 5);
  // window 3, channel 4 (body_gyro_y), step 100
  CHECK(d.data[(3 * 9 + 4) * 128 + 100] == doctest::Approx(3 + 0.4 + 0.1));
  const Dataset few = load_uci_har({dir.str(), Split::train, 2});
  CHECK(few.size() == 2);
  CHECK(few.data.size() == 2u * 9 * 128);
}

TEST_CASE("uci-har: a missing tree names every file and where the set is published") {
  TempDir dir;
  make_har_tree(dir, 2);
  const std::string msg = input_error_of([&] { load_uci_har({dir.str(), Split::test, -1}); });
  CHECK(msg.find("test/Inertial Signals/body_acc_x_test.txt") != std::string::npos);
  CHECK(msg.find("test/y_test.txt") != std::string::npos);
  CHECK(msg.find("archive.ics.uci.edu") != std::string::npos);
}

TEST_CASE("uci-har: broken files end in one error naming the file and line") {
  TempDir dir;
  make_har_tree(dir, 3);
  const std::string gyro = dir / "train/Inertial Signals/body_gyro_z_train.txt";
  const std::string labels = dir / "train/y_train.txt";
  std::string want;
  SUBCASE("a label out of range") {
    write_bytes(labels, "1\n7\n2\n");
    want = "y_train.txt:2: '7' is not an activity; expected an integer 1..6";
  }
  SUBCASE("a label that is not a number") {
    write_bytes(labels, "1\nwalking\n2\n");
    want = "y_train.txt:2: 'walking' is not an activity";
  }
  SUBCASE("a short window") {
    write_bytes(gyro, std::string(128 * 2, ' ') + "\n" + "1 2 3\n");
    want = "body_gyro_z_train.txt:1: 0 readings; expected 128";
  }
  SUBCASE("a reading that is not a number") {
    std::string line;
    for (int t = 0; t < 128; ++t) line += t == 5 ? " 1.2.3" : " 0.5";
    write_bytes(gyro, line + "\n" + line + "\n" + line + "\n");
    want = "body_gyro_z_train.txt:1: reading 6 is not a number";
  }
  SUBCASE("too few windows") {
    std::string line;
    for (int t = 0; t < 128; ++t) line += " 0.5";
    write_bytes(gyro, line + "\n");
    want = "body_gyro_z_train.txt: 1 windows; " + labels + " has 3";
  }
  SUBCASE("an empty label file") {
    write_bytes(labels, "");
    want = "y_train.txt: no labels";
  }
  const std::string msg = input_error_of([&] { load_uci_har({dir.str(), Split::train, -1}); });
  CHECK_MESSAGE(msg.find(want) != std::string::npos, msg);
}

TEST_CASE("uci-har: generated windows have the shape, are marked as generated and seeded") {
  const Dataset a = generated_har_windows(5, 3), b = generated_har_windows(5, 3);
  CHECK(a.sample_shape == std::vector<int64_t>{9, 128});
  CHECK(a.name.find("generated") != std::string::npos);
  CHECK(a.data == b.data);
  CHECK(a.labels == b.labels);
  CHECK(a.data != generated_har_windows(5, 4).data);
  CHECK_THROWS_AS(generated_har_windows(0), InputError);
  CHECK_THROWS_AS(load_uci_har({"", Split::train, -1}), InputError);
}

TEST_CASE("images read as row sequences keep data and labels") {
  Dataset img;
  img.name = "x";
  img.sample_shape = {1, 3, 4};
  img.data.assign(24, 0.5f);
  img.labels = {1, 0};
  img.num_classes = 2;
  const Dataset seq = rows_as_sequences(img);
  CHECK(seq.sample_shape == std::vector<int64_t>{3, 4});
  CHECK(seq.data == img.data);
  CHECK(seq.labels == img.labels);
  img.sample_shape = {3, 2, 2};
  CHECK_THROWS_AS(rows_as_sequences(img), InputError);
}
