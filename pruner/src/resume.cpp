#include "resume.hpp"

#include <filesystem>

#include "thor/cluster.hpp"
#include "thor/io.hpp"

namespace fs = std::filesystem;

namespace thor::pruner::detail {

namespace {

nlohmann::json curve_json(const std::vector<CurvePoint>& curve) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& p : curve) a.push_back({p.iteration, p.loss, p.accuracy});
  return a;
}

// Everything that changes what a run computes, as one string.
std::string fingerprint(const Recipe& r, const PruneOptions& o) {
  nlohmann::json j;
  j["recipe"] = !r.path.empty() && fs::exists(r.path) ? read_file(r.path) : r.model.to_yaml();
  j["output"] = r.output;
  j["data_root"] = r.data.root;
  j["meter"] = r.meter;
  j["prune"] = {{"strategy", o.strategy},
                {"budget", o.budget.describe(r.train.iterations)},
                {"samples", o.samples},
                {"candidates", o.candidates},
                {"min_keep", o.min_keep},
                {"band", o.band},
                {"short", o.short_finetune},
                {"final", o.final_finetune},
                {"lr", o.lr},
                {"validation", o.validation},
                {"seed", o.seed},
                {"compare", o.compare},
                {"checkpoint", o.checkpoint}};
  return j.dump();
}

// The baseline's figures as save_baseline writes them (a json exception when not).
void baseline_from_json(const nlohmann::json& j, BaselineResult& b) {
  b.from_checkpoint = j.at("from_checkpoint").get<bool>();
  b.real_run_joules = j.at("real_run_joules").get<double>();
  b.real_run_evaluation_joules = j.at("real_run_evaluation_joules").get<double>();
  b.real_run_joules_per_iteration = j.at("real_run_joules_per_iteration").get<double>();
  b.train_seconds = j.at("train_seconds").get<double>();
  b.curve.clear();
  for (const auto& p : j.at("curve"))
    b.curve.push_back({p.at(0).get<int64_t>(), p.at(1).get<double>(), p.at(2).get<double>()});
}

// Throws unless `j` holds what save_baseline and save_round write (the loop
// takes a round's accuracies one per candidate): a state that does not is
// one not to resume from.
void check_state(const nlohmann::json& j) {
  BaselineResult b;
  if (j.contains("baseline")) baseline_from_json(j.at("baseline"), b);
  if (!j.contains("rounds")) return;
  if (!j.at("rounds").is_object()) throw std::invalid_argument("rounds: expected an object");
  for (const auto& [name, r] : j.at("rounds").items())
    if (r.at("channels").get<std::vector<ChannelConfig>>().size() !=
        r.at("accuracies").get<std::vector<double>>().size())
      throw std::invalid_argument("round " + name + ": expected an accuracy per candidate");
}

}  // namespace

ResumeState::ResumeState(const Recipe& recipe, const PruneOptions& options)
    : fingerprint_(fingerprint(recipe, options)) {
  const fs::path target(recipe.output);
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  dir_ = (parent / ("." + target.filename().string() + ".resume")).string();
  const Cluster& cluster = Cluster::world();
  std::string text;
  if (cluster.root() && fs::exists(file("state.json"))) {
    try {
      const auto j = nlohmann::json::parse(read_file(file("state.json")));
      if (j.value("fingerprint", "") == fingerprint_) {
        check_state(j);
        text = j.dump();
      }
    } catch (const std::exception&) {
      // An unreadable state is a state not to resume from.
    }
    if (text.empty()) fs::remove_all(dir_);  // another run's: start afresh
  }
  text = cluster.broadcast(text);
  state_ =
      text.empty() ? nlohmann::json{{"fingerprint", fingerprint_}} : nlohmann::json::parse(text);
}

std::string ResumeState::file(const std::string& name) const {
  return (fs::path(dir_) / name).string();
}

void ResumeState::write() {
  fs::create_directories(dir_);
  write_file_atomic(file("state.json"), state_.dump() + "\n");
}

void ResumeState::restore_baseline(BaselineResult& b) const {
  baseline_from_json(state_.at("baseline"), b);
}

void ResumeState::save_baseline(const Model& model, const BaselineResult& b) {
  fs::create_directories(dir_);
  const std::string tmp = file("baseline.ckpt.tmp");
  model.save(tmp);
  fs::rename(tmp, baseline_checkpoint());
  state_["baseline"] = {{"from_checkpoint", b.from_checkpoint},
                        {"real_run_joules", b.real_run_joules},
                        {"real_run_evaluation_joules", b.real_run_evaluation_joules},
                        {"real_run_joules_per_iteration", b.real_run_joules_per_iteration},
                        {"train_seconds", b.train_seconds},
                        {"curve", curve_json(b.curve)}};
  write();
}

std::optional<std::vector<double>> ResumeState::round(
    const std::string& name, const std::vector<ChannelConfig>& channels) const {
  if (!state_.contains("rounds") || !state_["rounds"].contains(name)) return std::nullopt;
  const auto& r = state_["rounds"][name];
  if (r.at("channels").get<std::vector<ChannelConfig>>() != channels) return std::nullopt;
  return r.at("accuracies").get<std::vector<double>>();
}

void ResumeState::save_round(const std::string& name, const std::vector<ChannelConfig>& channels,
                             const std::vector<double>& accuracies) {
  state_["rounds"][name] = {{"channels", channels}, {"accuracies", accuracies}};
  write();
}

void ResumeState::finish() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace thor::pruner::detail
