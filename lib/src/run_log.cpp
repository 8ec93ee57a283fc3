#include "thor/run_log.hpp"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "thor/architecture.hpp"
#include "thor/error.hpp"
#include "thor/format.hpp"
#include "thor/progress.hpp"

namespace thor {

void RunLogOptions::validate() const {
  const FieldRules f("run_log");
  f.require(!folder.empty(), "folder", "\"\"", "expected a folder");
  f.require(!stem.empty() && stem.find('/') == std::string::npos, "stem", stem,
            "expected a file name without '/'");
}

const std::vector<std::string>& run_log_columns() {
  static const std::vector<std::string> columns{"run_id",
                                                "timestamp_utc",
                                                "program",
                                                "host",
                                                "meter",
                                                "source",
                                                "what",
                                                "subject",
                                                "iterations",
                                                "energy_J",
                                                "duration_s",
                                                "power_W",
                                                "energy_per_iteration_J",
                                                "spread"};
  return columns;
}

namespace {

// RFC 4180: quote fields holding commas, quotes or line breaks.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv_number(double v) { return std::isfinite(v) ? strf("%.9g", v) : ""; }

nlohmann::json json_number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

std::FILE* open_for_writing(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw InputError(path + ": cannot write the run log (is the folder writable?)");
  return f;
}

}  // namespace

RunLog::RunLog(RunLogOptions options) : options_(std::move(options)) {
  options_.validate();
  if (options_.run_id.empty()) {
    std::string t = utc_timestamp();
    for (char& c : t)
      if (c == ':') c = '-';
    options_.run_id = options_.program + "-" + t + "-" + std::to_string(::getpid());
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.folder, ec);
  csv_ = open_for_writing(csv_path() + ".partial");
  jsonl_ = open_for_writing(jsonl_path() + ".partial");
  const std::string header = join(run_log_columns(), ",") + "\n";
  std::fputs(header.c_str(), csv_);
  std::fflush(csv_);
}

RunLog::~RunLog() {
  if (csv_) std::fclose(csv_);
  if (jsonl_) std::fclose(jsonl_);
  if (committed_) return;
  std::remove((csv_path() + ".partial").c_str());
  std::remove((jsonl_path() + ".partial").c_str());
}

void RunLog::commit() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (committed_) return;
  std::fclose(csv_);
  std::fclose(jsonl_);
  csv_ = jsonl_ = nullptr;
  for (const std::string& p : {csv_path(), jsonl_path()})
    if (std::rename((p + ".partial").c_str(), p.c_str()) != 0)
      throw std::runtime_error(p + ": cannot rename the run log into place");
  committed_ = true;
}

std::string RunLog::csv_path() const {
  return (std::filesystem::path(options_.folder) / (options_.stem + ".csv")).string();
}

std::string RunLog::jsonl_path() const {
  return (std::filesystem::path(options_.folder) / (options_.stem + ".jsonl")).string();
}

int64_t RunLog::rows() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rows_;
}

void RunLog::add(const RunRecord& r) {
  const double power = r.duration_s > 0 ? r.energy_J / r.duration_s : NAN;
  const double per_iteration =
      r.iterations > 0 ? r.energy_J / static_cast<double>(r.iterations) : NAN;
  const std::string now = utc_timestamp();
  const std::vector<std::string> fields{options_.run_id,
                                        now,
                                        options_.program,
                                        options_.host,
                                        options_.meter,
                                        r.source,
                                        r.what,
                                        r.subject,
                                        std::to_string(r.iterations),
                                        csv_number(r.energy_J),
                                        csv_number(r.duration_s),
                                        csv_number(power),
                                        csv_number(per_iteration),
                                        csv_number(r.spread)};
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + csv_field(fields[i]);
  line += "\n";
  const nlohmann::json j{{"run_id", options_.run_id},
                         {"timestamp_utc", now},
                         {"program", options_.program},
                         {"host", options_.host},
                         {"meter", options_.meter},
                         {"source", r.source},
                         {"what", r.what},
                         {"subject", r.subject},
                         {"iterations", r.iterations},
                         {"energy_J", json_number(r.energy_J)},
                         {"duration_s", json_number(r.duration_s)},
                         {"power_W", json_number(power)},
                         {"energy_per_iteration_J", json_number(per_iteration)},
                         {"spread", json_number(r.spread)}};
  const std::string jline = j.dump() + "\n";
  std::lock_guard<std::mutex> lock(mutex_);
  if (committed_) return;
  std::fputs(line.c_str(), csv_);
  std::fflush(csv_);
  std::fputs(jline.c_str(), jsonl_);
  std::fflush(jsonl_);
  ++rows_;
}

// ------------------------------------------------------------ the active log

namespace {
std::mutex active_mutex;
RunLog* active = nullptr;
std::string context_what = "window";
}  // namespace

RunLog* active_run_log() {
  std::lock_guard<std::mutex> lock(active_mutex);
  return active;
}

void log_run_record(const RunRecord& record) {
  if (RunLog* log = active_run_log()) log->add(record);
}

ScopedRunLog::ScopedRunLog(RunLog* log) {
  std::lock_guard<std::mutex> lock(active_mutex);
  previous_ = active;
  active = log;
}

ScopedRunLog::~ScopedRunLog() {
  std::lock_guard<std::mutex> lock(active_mutex);
  active = previous_;
}

RunLogContext::RunLogContext(std::string what) {
  std::lock_guard<std::mutex> lock(active_mutex);
  previous_ = context_what;
  context_what = std::move(what);
}

RunLogContext::~RunLogContext() {
  std::lock_guard<std::mutex> lock(active_mutex);
  context_what = previous_;
}

std::string RunLogContext::current() {
  std::lock_guard<std::mutex> lock(active_mutex);
  return context_what;
}

// ------------------------------------------------------------ logging meter

namespace {

class LoggingMeter final : public EnergyMeter {
 public:
  explicit LoggingMeter(std::unique_ptr<EnergyMeter> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return inner_->name(); }
  EnergyKind kind() const override { return inner_->kind(); }
  std::string describe() const override { return inner_->describe(); }
  void set_workload(const Workload& w) override {
    workload_ = w;
    inner_->set_workload(w);
  }
  void start() override { inner_->start(); }
  EnergyReading stop() override {
    const EnergyReading r = inner_->stop();
    RunRecord rec;
    rec.what = RunLogContext::current();
    rec.subject = workload_.architecture ? workload_.architecture->summary() : "";
    rec.source = to_string(r.kind);
    rec.iterations = workload_.iterations;
    rec.energy_J = r.joules;
    rec.duration_s = r.seconds;
    log_run_record(rec);
    return r;
  }

 private:
  std::unique_ptr<EnergyMeter> inner_;
  Workload workload_;
};

}  // namespace

std::unique_ptr<EnergyMeter> logging_meter(std::unique_ptr<EnergyMeter> inner) {
  if (!inner) return inner;
  return std::make_unique<LoggingMeter>(std::move(inner));
}

}  // namespace thor
