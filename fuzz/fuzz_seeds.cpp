// fuzz_seeds OUT [RECIPE.yaml ...]: writes the seeds that thor's own code
// makes into OUT/<harness>/ (scripts/fuzz adds them to the committed ones):
//   fuzz_profile       a profile of the tiny network (sim meter)
//   fuzz_journal       that profiling run's journal
//   fuzz_checkpoint    the checkpoint of the harness's search
//   fuzz_prune_resume  resume states of the harness's prune run
//   fuzz_idx           a tiny IDX pair, plain and gzip, in the harness's framing
//   fuzz_celeba        a tiny fake CelebA in the harness's framing
//   fuzz_image         JPEGs (colour, grey, CelebA-sized)
//   fuzz_architecture  the `model:` of each recipe given
//   fuzz_space         the `search.space` of each recipe given
#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "fuzz_fixtures.hpp"
#include "fuzz_prune_fixture.hpp"
#include "fuzz_search_fixture.hpp"
#include "image.hpp"
#include "resume.hpp"
#include "thor/fake_celeba.hpp"
#include "thor/io.hpp"
#include "thor/train.hpp"

namespace fs = std::filesystem;

namespace {

void put(const fs::path& file, const std::string& bytes) {
  thor::fuzz::write_bytes(file, bytes);
  std::cout << "  " << file.string() << " (" << bytes.size() << " bytes)\n";
}

// A profile of the tiny network, and its journal under the harness's header.
void profile_and_journal(const fs::path& out, const fs::path& tmp) {
  thor::register_sim_meter();
  thor::ProfilerOptions o = thor::fuzz::tiny_profiler_options();
  o.journal_path = (tmp / "profile.journal").string();
  thor::MeterOptions mo;
  auto meter = thor::make_meter("sim", mo);
  const auto result = thor::run_profiler({thor::fuzz::tiny_architecture()}, *meter, mo, o);
  put(out / "fuzz_profile" / "profile.json", result.profile.to_json().dump(1) + "\n");
  const std::string journal = thor::read_file(o.journal_path);
  const std::string header = thor::fuzz::journal_header().dump() + "\n";
  const std::string first = journal.substr(0, journal.find('\n') + 1);
  if (first != header)
    std::cerr << "fuzz_seeds: warning: the profiler's journal header differs from "
                 "fuzz_fixtures.hpp's journal_header():\n  "
              << first << "  " << header;
  put(out / "fuzz_journal" / "profile.json.journal", header + journal.substr(first.size()));
  put(out / "fuzz_journal" / "cut.journal",
      header + journal.substr(first.size(), journal.size() / 2));
}

void checkpoint(const fs::path& out, const fs::path& tmp) {
  const std::string path = (tmp / "checkpoint.json").string();
  thor::fuzz::CheckpointSearch(path).run();
  put(out / "fuzz_checkpoint" / "checkpoint.json", thor::read_file(path));
}

// Resume states made by ResumeState itself: a baseline and a round, a round alone.
void resume_states(const fs::path& out, const fs::path& tmp) {
  const fs::path dir = tmp / "prune";
  fs::create_directories(dir);
  const thor::fuzz::ScopedChdir in_dir(dir.string());
  const thor::Recipe recipe = thor::fuzz::resume_recipe();
  const thor::pruner::PruneOptions options;
  {
    thor::pruner::detail::ResumeState state(recipe, options);
    state.save_round("estimator", thor::fuzz::resume_channels(), {0.5, 0.75, 0.25});
  }
  put(out / "fuzz_prune_resume" / "round.json", thor::read_file(".out.resume/state.json"));
  thor::pruner::detail::ResumeState state(recipe, options);
  thor::pruner::BaselineResult b;
  b.real_run_joules = 12.5;
  b.real_run_evaluation_joules = 0.5;
  b.real_run_joules_per_iteration = 0.0625;
  b.train_seconds = 3.0;
  b.curve = {{10, 0.7, 0.5}, {20, 0.4, 0.8}};
  state.save_baseline(thor::Model(recipe.model, 1), b);
  state.save_round("flops", {{1, 1}, {4, 6}, {3, 3}}, {0.5, 0.5, 0.5});
  put(out / "fuzz_prune_resume" / "baseline.json", thor::read_file(".out.resume/state.json"));
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string gzip(const fs::path& tmp, const std::string& bytes) {
  const std::string path = (tmp / "seed.gz").string();
  gzFile f = gzopen(path.c_str(), "wb9");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  return thor::read_file(path);
}

// 3 images of 4x5 and their labels, framed as fuzz_idx reads them.
void idx(const fs::path& out, const fs::path& tmp) {
  std::string images = be32(0x803) + be32(3) + be32(4) + be32(5), labels = be32(0x801) + be32(3);
  for (int i = 0; i < 3 * 4 * 5; ++i) images += static_cast<char>(i * 4);
  labels += std::string("\x01\x07\x00", 3);
  auto frame = [](char mode, const std::string& im, const std::string& lb) {
    return std::string(1, mode) + be32(static_cast<uint32_t>(im.size())) + im + lb;
  };
  put(out / "fuzz_idx" / "pair", frame(0, images, labels));
  put(out / "fuzz_idx" / "folder-limit1", frame(3, images, labels));
  put(out / "fuzz_idx" / "gzip", frame(0, gzip(tmp, images), gzip(tmp, labels)));
  put(out / "fuzz_idx" / "swapped", frame(1, labels, images));
}

// A 10-image fake CelebA whose JPEGs are replaced by tiny ones, and one real-sized image.
void celeba_and_images(const fs::path& out, const fs::path& tmp) {
  const fs::path root = tmp / "celeba";
  thor::write_fake_celeba(root.string(), 10, 1);
  const std::string big = thor::read_file((root / "img_align_celeba" / "000001.jpg").string());
  std::vector<uint8_t> pixels(8 * 10 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 37);
  const std::string colour = thor::detail::encode_jpeg(8, 10, 3, pixels.data(), 90);
  const std::string grey = thor::detail::encode_jpeg(10, 8, 1, pixels.data(), 50);
  put(out / "fuzz_image" / "colour.jpg", std::string(1, '\x0e') + colour);
  put(out / "fuzz_image" / "grey.jpg", std::string(1, '\x05') + grey);
  put(out / "fuzz_image" / "celeba.jpg", std::string(1, '\x7e') + big);
  const std::string sep = "\n=thor-fuzz=\n";
  std::string lists = thor::read_file((root / "list_attr_celeba.txt").string()) + sep +
                      thor::read_file((root / "list_eval_partition.txt").string());
  std::string images;
  for (int i = 0; i < 10; ++i) images += sep + (i % 2 ? grey : colour);
  put(out / "fuzz_celeba" / "train", std::string(1, '\x30') + lists + images);
  put(out / "fuzz_celeba" / "test-grey-limit1", std::string(1, '\x77') + lists + images);
}

// The `model:` and `search.space` of each recipe, as the architecture and space harnesses read
// them.
void recipe_parts(const fs::path& out, const std::vector<std::string>& recipes) {
  for (const auto& path : recipes) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(path);
    } catch (const YAML::Exception&) {
      continue;  // a bad recipe among the seeds: the recipe harness gets it whole
    }
    if (!root.IsMap()) continue;
    const std::string stem = fs::path(path).stem().string();
    if (root["model"].IsMap())
      put(out / "fuzz_architecture" / (stem + ".model.yaml"), YAML::Dump(root["model"]) + "\n");
    if (root["search"].IsMap() && root["search"]["space"].IsMap())
      put(out / "fuzz_space" / (stem + ".space.yaml"), YAML::Dump(root["search"]["space"]) + "\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: fuzz_seeds OUT [RECIPE.yaml ...]\n";
    return 2;
  }
  const fs::path out = fs::absolute(argv[1]);  // resume_states changes folder
  const fs::path tmp = thor::fuzz::scratch();
  try {
    std::cout << "fuzz_seeds: writing into " << out.string() << "\n";
    profile_and_journal(out, tmp);
    checkpoint(out, tmp);
    resume_states(out, tmp);
    idx(out, tmp);
    celeba_and_images(out, tmp);
    recipe_parts(out, std::vector<std::string>(argv + 2, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "fuzz_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
