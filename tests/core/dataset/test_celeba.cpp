// CelebA loading, on a fake CelebA written by thor::write_fake_celeba.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "temp_dir.hpp"
#include "thor/dataset.hpp"
#include "thor/fake_celeba.hpp"

namespace {

using thor::test::input_error_of;
using thor::test::TempDir;
using thor::test::write_bytes;

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

std::string write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  write_bytes(path, s);
  return s;
}

/// Labels of `attribute` for `partition`, parsed here independently of thor.
std::vector<int64_t> expected_labels(const TempDir& dir, const std::string& attribute,
                                     int partition) {
  const auto attrs = read_lines(dir / "list_attr_celeba.txt");
  const auto parts = read_lines(dir / "list_eval_partition.txt");
  std::istringstream names(attrs.at(1));
  std::vector<std::string> header{std::istream_iterator<std::string>(names), {}};
  const size_t col = std::find(header.begin(), header.end(), attribute) - header.begin();
  REQUIRE(col < header.size());
  std::vector<int64_t> out;
  for (size_t i = 2; i < attrs.size(); ++i) {
    std::istringstream row(attrs[i]), prow(parts.at(i - 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(row), {}};
    std::string file;
    int p = -1;
    prow >> file >> p;
    REQUIRE(file == f.at(0));
    if (p == partition) out.push_back(f.at(col + 1) == "1" ? 1 : 0);
  }
  return out;
}

thor::CelebAOptions options_for(const TempDir& dir) {
  thor::CelebAOptions o;
  o.root = dir.str();
  return o;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("write_fake_celeba writes CelebA's published layout") {
  TempDir dir;
  thor::write_fake_celeba(dir.str(), 40, 7);
  CHECK(std::filesystem::exists(dir / "img_align_celeba/000001.jpg"));
  CHECK(std::filesystem::exists(dir / "img_align_celeba/000040.jpg"));
  const auto attrs = read_lines(dir / "list_attr_celeba.txt");
  REQUIRE(attrs.size() == 42);
  CHECK(attrs[0] == "40");
  CHECK(attrs[1].rfind("5_o_Clock_Shadow Arched_Eyebrows", 0) == 0);
  CHECK(attrs[2].rfind("000001.jpg ", 0) == 0);
  const auto parts = read_lines(dir / "list_eval_partition.txt");
  REQUIRE(parts.size() == 40);
  CHECK(parts[0] == "000001.jpg 0");
  CHECK(parts[7] == "000008.jpg 1");
  CHECK(parts[9] == "000010.jpg 2");

  SUBCASE("deterministic for a seed") {
    TempDir again;
    thor::write_fake_celeba(again.str(), 40, 7);
    CHECK(read_lines(again / "list_attr_celeba.txt") == attrs);
    CHECK(thor::test::TempDir::read(again / "img_align_celeba/000013.jpg") ==
          thor::test::TempDir::read(dir / "img_align_celeba/000013.jpg"));
  }
  SUBCASE("bad count") {
    CHECK(contains(input_error_of([&] { thor::write_fake_celeba(dir.str(), 0, 1); }), "n_images"));
  }
}

TEST_CASE("load_celeba loads splits, labels, sizes and channels") {
  TempDir dir;
  thor::write_fake_celeba(dir.str(), 40, 3);

  const auto train = thor::load_celeba(options_for(dir));
  CHECK(train.name == "celeba/train");
  REQUIRE(train.size() == 28);
  CHECK(train.sample_shape == std::vector<int64_t>{3, 64, 64});
  CHECK(train.num_classes == 2);
  CHECK(train.data.size() == size_t{28} * 3 * 64 * 64);
  CHECK(train.labels == expected_labels(dir, "Male", 0));
  const auto [lo, hi] = std::minmax_element(train.data.begin(), train.data.end());
  CHECK(*lo >= 0.f);
  CHECK(*hi <= 1.f);
  CHECK(*hi > 0.5f);

  // The label is visible: Male images are brighter in the center.
  double male = 0, other = 0;
  int n_male = 0, n_other = 0;
  for (int64_t i = 0; i < train.size(); ++i) {
    const float* s = &train.data[i * train.sample_numel()];
    const double center =
        s[32 * 64 + 32] + s[64 * 64 + 32 * 64 + 32] + s[2 * 64 * 64 + 32 * 64 + 32];
    (train.labels[i] ? male : other) += center;
    ++(train.labels[i] ? n_male : n_other);
  }
  REQUIRE(n_male > 0);
  REQUIRE(n_other > 0);
  CHECK(male / n_male > other / n_other + 1.0);

  auto o = options_for(dir);
  SUBCASE("test split is partition 2") {
    o.split = thor::Split::test;
    const auto test = thor::load_celeba(o);
    CHECK(test.name == "celeba/test");
    CHECK(test.size() == 8);
    CHECK(test.labels == expected_labels(dir, "Male", 2));
    CHECK(std::count(test.labels.begin(), test.labels.end(), 1) == 4);
  }
  SUBCASE("grayscale gives one channel") {
    o.grayscale = true;
    o.image_size = 32;
    const auto gray = thor::load_celeba(o);
    CHECK(gray.sample_shape == std::vector<int64_t>{1, 32, 32});
    CHECK(gray.data.size() == size_t{28} * 32 * 32);
    CHECK(gray.labels == train.labels);
  }
  SUBCASE("limit keeps the first images of the split") {
    o.limit = 5;
    const auto few = thor::load_celeba(o);
    REQUIRE(few.size() == 5);
    CHECK(few.labels == std::vector<int64_t>(train.labels.begin(), train.labels.begin() + 5));
    CHECK(std::equal(few.data.begin(), few.data.end(), train.data.begin()));
  }
  SUBCASE("another attribute") {
    o.attribute = "Smiling";
    CHECK(thor::load_celeba(o).labels == expected_labels(dir, "Smiling", 0));
  }
}

TEST_CASE("CelebAOptions::validate names the field") {
  thor::CelebAOptions o;
  o.root = "/somewhere";
  CHECK_NOTHROW(o.validate());
  SUBCASE("root") {
    o.root = "";
    CHECK(contains(input_error_of([&] { o.validate(); }), "CelebAOptions.root"));
  }
  SUBCASE("image_size") {
    o.image_size = 0;
    const std::string msg = input_error_of([&] { o.validate(); });
    CHECK(contains(msg, "CelebAOptions.image_size = 0"));
  }
  SUBCASE("attribute") {
    o.attribute = "Male Young";
    CHECK(contains(input_error_of([&] { o.validate(); }), "CelebAOptions.attribute"));
  }
  SUBCASE("limit") {
    o.limit = 0;
    CHECK(contains(input_error_of([&] { o.validate(); }), "CelebAOptions.limit = 0"));
  }
}

TEST_CASE("load_celeba errors name files, lines and where CelebA is published") {
  TempDir dir;
  thor::write_fake_celeba(dir.str(), 20, 5);
  auto o = options_for(dir);

  SUBCASE("missing root names every item and the URL") {
    o.root = dir / "absent";
    const std::string msg = input_error_of([&] { thor::load_celeba(o); });
    INFO(msg);
    CHECK(msg.rfind(o.root, 0) == 0);
    CHECK(contains(msg, dir / "absent/list_attr_celeba.txt"));
    CHECK(contains(msg, dir / "absent/list_eval_partition.txt"));
    CHECK(contains(msg, dir / "absent/img_align_celeba"));
    CHECK(contains(msg, "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"));
    CHECK(contains(msg, "--data-root"));
    CHECK(contains(msg, "data.root"));
  }
  SUBCASE("one missing item is marked") {
    std::filesystem::remove(dir / "list_eval_partition.txt");
    const std::string msg = input_error_of([&] { thor::load_celeba(o); });
    INFO(msg);
    CHECK(contains(msg, "list_eval_partition.txt (missing)"));
    CHECK(contains(msg, "list_attr_celeba.txt (found)"));
    CHECK(contains(msg, "CelebA.html"));
  }
  SUBCASE("wrong column count") {
    auto lines = read_lines(dir / "list_attr_celeba.txt");
    lines[4] = lines[4].substr(0, lines[4].size() - 3);  // drop the last value of line 5
    write_lines(dir / "list_attr_celeba.txt", lines);
    const std::string msg = input_error_of([&] { thor::load_celeba(o); });
    INFO(msg);
    CHECK(contains(msg, dir / "list_attr_celeba.txt:5:"));
    CHECK(contains(msg, "expected 41 columns"));
    CHECK(contains(msg, "got 40"));
  }
  SUBCASE("value other than 1 or -1") {
    auto lines = read_lines(dir / "list_attr_celeba.txt");
    lines[3].back() = '0';  // line 4, the last attribute (Young)
    write_lines(dir / "list_attr_celeba.txt", lines);
    const std::string msg = input_error_of([&] { thor::load_celeba(o); });
    INFO(msg);
    CHECK(contains(msg, dir / "list_attr_celeba.txt:4:"));
    CHECK(contains(msg, "Young"));
    CHECK(contains(msg, "expected 1 or -1"));
  }
  SUBCASE("unknown attribute lists the known ones") {
    o.attribute = "Mael";
    const std::string msg = input_error_of([&] { thor::load_celeba(o); });
    INFO(msg);
    CHECK(contains(msg, dir / "list_attr_celeba.txt:2:"));
    CHECK(contains(msg, "'Mael'"));
    CHECK(contains(msg, "Male"));
    CHECK(contains(msg, "Wearing_Hat"));
  }
  SUBCASE("count on line 1 disagrees with the rows") {
    auto lines = read_lines(dir / "list_attr_celeba.txt");
    lines[0] = "21";
    write_lines(dir / "list_attr_celeba.txt", lines);
    const std::string msg = input_error_of([&] { thor::load_celeba(o); });
    INFO(msg);
    CHECK(contains(msg, dir / "list_attr_celeba.txt:1:"));
    CHECK(contains(msg, "got 20"));
  }
  SUBCASE("bad partition") {
    auto lines = read_lines(dir / "list_eval_partition.txt");
    lines[2] = "000003.jpg 5";
    write_lines(dir / "list_eval_partition.txt", lines);
    const std::string msg = input_error_of([&] { thor::load_celeba(o); });
    INFO(msg);
    CHECK(contains(msg, dir / "list_eval_partition.txt:3:"));
  }
  SUBCASE("corrupt JPEG names the file and the decoder's reason") {
    write_bytes(dir / "img_align_celeba/000003.jpg", "this is not a JPEG, just garbage bytes");
    const std::string msg = input_error_of([&] { thor::load_celeba(o); });
    INFO(msg);
    CHECK(msg.rfind(dir / "img_align_celeba/000003.jpg", 0) == 0);
    CHECK(contains(msg, "cannot decode"));
  }
  SUBCASE("missing JPEG names the file") {
    std::filesystem::remove(dir / "img_align_celeba/000002.jpg");
    const std::string msg = input_error_of([&] { thor::load_celeba(o); });
    INFO(msg);
    CHECK(contains(msg, "000002.jpg"));
  }
}
