// The output folder and the winner's final, measured training run.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "thor/format.hpp"
#include "thor/gnuplot.hpp"
#include "thor/io.hpp"
#include "thor/parallel.hpp"
#include "thor/search/search.hpp"

namespace thor::search {

bool FinalRun::within_budget() const { return measured_joules() <= budget_joules; }

std::string FinalRun::full_report() const {
  std::ostringstream s;
  s << "winner: " << genome.to_string() << "\n  " << architecture.summary() << "\n";
  s << "  estimated  " << std::setw(9) << joules_digits(estimate.joules) << " J ± "
    << joules_digits(estimate.std) << " for " << iterations << " iterations\n";
  s << "  protocol   " << std::setw(9) << joules_digits(protocol_joules) << " J  ("
    << std::setprecision(5) << protocol.joules_per_iteration << " J/iter × " << iterations
    << ", cv " << std::fixed << std::setprecision(1) << 100 * protocol.cv << "%, "
    << to_string(kind) << " by " << protocol.meter << ")\n";
  if (trained) {
    s << "  full run   " << std::setw(9) << joules_digits(run_joules) << " J  (" << std::fixed
      << std::setprecision(1) << run_seconds << " s of real training, " << to_string(kind)
      << "), test accuracy " << std::setprecision(4) << accuracy << "\n";
    s << "  errors vs the full run: estimate " << std::showpos << std::setprecision(1)
      << 100.0 * (estimate.joules / run_joules - 1.0) << "%, protocol "
      << 100.0 * (protocol_joules / run_joules - 1.0) << "%" << std::noshowpos << "\n";
  }
  const double m = measured_joules();
  s << "  budget     " << std::setw(9) << joules_digits(budget_joules)
    << " J: " << (within_budget() ? "WITHIN" : "EXCEEDED") << " budget as measured ("
    << (trained ? "full run" : "protocol") << ": " << joules_digits(m) << " J, " << std::fixed
    << std::setprecision(1) << 100.0 * m / budget_joules << "% of the budget)\n";
  return s.str();
}

FinalRun run_final(const Oracle& oracle, const Genome& g, EnergyMeter& meter,
                   const MeasureOptions& measure, const Dataset& train, const Dataset& test,
                   const TrainOptions& train_options, bool train_full,
                   const std::string& model_path) {
  FinalRun f;
  f.genome = g;
  f.architecture = oracle.space().build(g);
  f.estimate = oracle.check(g);
  f.budget_joules = oracle.options().budget_joules;
  f.iterations = oracle.options().iterations;
  // The protocol figure: the same kind of number the profile was made of.
  f.protocol = measure_training(f.architecture, meter, measure, TrainFeed{&train, train_options});
  f.kind = f.protocol.kind;
  f.protocol_joules = f.protocol.joules_per_iteration * static_cast<double>(f.iterations);
  if (train_full) {
    // The real run, metered whole: data shuffling and batching included.
    const TorchThreadsGuard threads(measure.threads);
    set_flush_denormal(measure.flush_denormal);
    Model model(f.architecture, train_options.seed, measure.device);
    TrainOptions o = train_options;
    o.iterations = f.iterations;
    o.record_every = 0;
    meter.set_workload({&f.architecture, static_cast<long>(f.iterations), &model.feed_stats()});
    meter.start();
    model.train(train, o);
    const EnergyReading r = meter.stop();
    f.trained = true;
    f.run_joules = r.joules;
    f.run_seconds = r.seconds;
    f.kind = r.kind;
    f.accuracy = model.accuracy(test);
    // The model is a by-product; a failed export must not lose the measurement.
    if (!model_path.empty()) {
      try {
        model.export_torchscript(model_path);
      } catch (const std::exception& e) {
        std::cerr << "search: warning: could not write " << model_path << ": " << e.what() << "\n";
      }
    }
  }
  return f;
}

namespace {

nlohmann::json nullable(double accuracy) {
  return accuracy >= 0 ? nlohmann::json(accuracy) : nlohmann::json();
}

std::string csv_quote(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

namespace {

nlohmann::json search_json(const Oracle& oracle, const SearchResult& result,
                           const SearchOptions& options, const SpaceScan* scan,
                           const FinalRun* final_run) {
  const auto& space = oracle.space();
  nlohmann::json j;
  j["strategy"] = result.strategy;
  j["status"] = to_string(result.status);
  j["message"] = result.message;
  j["summary"] = result.one_line();
  j["budget_joules"] = options.oracle.budget_joules;
  j["confidence"] = options.oracle.confidence;
  j["iterations"] = options.oracle.iterations;
  j["seed"] = options.seed;
  j["threads"] = options.threads;
  j["proxy"] = {{"iterations", options.proxy.iterations},
                {"train_limit", options.proxy.train_limit},
                {"eval_samples", options.proxy.eval_samples}};
  j["trained"] = result.trained;
  j["resumed"] = result.resumed;
  j["reused"] = result.reused;
  j["generations"] = result.generations;
  j["seconds"] = result.seconds;
  j["space"] = space.to_json();
  if (scan)
    j["space_scan"] = {
        {"points", scan->points},
        {"examined", scan->examined},
        {"feasible", scan->feasible},
        {"feasible_share", scan->feasible_share()},
        {"exhaustive", scan->exhaustive},
        {"cheapest", {{"genome", scan->cheapest.to_json()}, {"joules", scan->cheapest_joules}}},
        {"costliest", {{"genome", scan->costliest.to_json()}, {"joules", scan->costliest_joules}}}};
  j["candidates"] = nlohmann::json::array();
  for (const auto& c : result.candidates) {
    const Architecture a = space.build(c.genome);
    j["candidates"].push_back({{"id", c.id},
                               {"generation", c.generation},
                               {"genome", c.genome.to_json()},
                               {"summary", a.summary()},
                               {"architecture", a.to_yaml()},
                               {"estimated_joules", c.verdict.joules},
                               {"estimated_std", c.verdict.std},
                               {"probability_within_budget", c.verdict.probability},
                               {"feasible", c.verdict.feasible},
                               {"trained", c.trained},
                               {"reused", c.reused},
                               {"accuracy", nullable(c.accuracy)},
                               {"wall_seconds", c.seconds},
                               {"seed", c.seed}});
  }
  j["best"] = result.best ? nlohmann::json(result.candidates[*result.best].id) : nlohmann::json();
  j["pareto_front"] = nlohmann::json::array();
  for (size_t i : result.front) j["pareto_front"].push_back(result.candidates[i].id);
  if (final_run) {
    const auto& f = *final_run;
    j["final"] = {{"genome", f.genome.to_json()},
                  {"estimated_joules", f.estimate.joules},
                  {"estimated_std", f.estimate.std},
                  {"protocol_joules_per_iteration", f.protocol.joules_per_iteration},
                  {"protocol_cv", f.protocol.cv},
                  {"protocol_joules", f.protocol_joules},
                  {"trained", f.trained},
                  {"run_joules", f.trained ? nlohmann::json(f.run_joules) : nlohmann::json()},
                  {"run_seconds", f.run_seconds},
                  {"test_accuracy", nullable(f.accuracy)},
                  {"measured_joules", f.measured_joules()},
                  {"kind", to_string(f.kind)},
                  {"budget_joules", f.budget_joules},
                  {"within_budget", f.within_budget()}};
  }
  return j;
}

// best.yaml: the winner as an architecture file, with its figures as comments.
void write_best(const std::string& file, const Oracle& oracle, const SearchResult& result,
                const SearchOptions& options, const FinalRun* final_run) {
  const auto& space = oracle.space();
  {
    const auto& b = result.candidates[*result.best];
    std::ostringstream y;
    y << "# Most accurate feasible architecture of the search (" << result.strategy
      << ", candidate " << b.id << ")\n# proxy accuracy " << b.accuracy << ", estimated "
      << std::fixed << std::setprecision(0) << b.verdict.joules << " J ± " << b.verdict.std
      << " for " << options.oracle.iterations << " iterations (budget "
      << options.oracle.budget_joules << " J)\n";
    if (final_run)
      y << "# measured " << final_run->measured_joules() << " J (" << to_string(final_run->kind)
        << "): " << (final_run->within_budget() ? "within" : "EXCEEDS") << " the budget\n";
    y << space.build(b.genome).to_yaml();
    write_file_atomic(file, y.str());
  }
}

// pareto.csv and candidates.csv.
void write_tables(const std::function<std::string(const std::string&)>& path,
                  const SearchResult& result, std::vector<std::string>& written) {
  std::ostringstream front;
  front << "id,accuracy,estimated_joules,estimated_std,architecture\n";
  for (size_t i : result.front) {
    const auto& c = result.candidates[i];
    front << c.id << "," << c.accuracy << "," << c.verdict.joules << "," << c.verdict.std << ","
          << csv_quote(c.genome.to_string()) << "\n";
  }
  write_file_atomic(path("pareto.csv"), front.str());
  written.push_back(path("pareto.csv"));

  std::ostringstream all;
  all << "id,generation,feasible,trained,accuracy,estimated_joules,estimated_std,wall_seconds,"
         "architecture\n";
  for (const auto& c : result.candidates)
    all << c.id << "," << c.generation << "," << c.verdict.feasible << "," << c.trained << ","
        << c.accuracy << "," << c.verdict.joules << "," << c.verdict.std << "," << c.seconds << ","
        << csv_quote(c.genome.to_string()) << "\n";
  write_file_atomic(path("candidates.csv"), all.str());
  written.push_back(path("candidates.csv"));
}

// search.gp and, when gnuplot can, search.png: scored candidates, the
// front, the budget line (always in view).
void write_plot(const std::string& dir, const SearchResult& result, const SearchOptions& options,
                std::vector<std::string>& written) {
  namespace fs = std::filesystem;
  const auto path = [&](const std::string& name) { return (fs::path(dir) / name).string(); };
  double x_lo = 0.0, x_hi = 1.1 * options.oracle.budget_joules;
  for (const auto& c : result.candidates)
    if (c.scored()) {
      x_lo = std::min(x_lo, c.verdict.joules);
      x_hi = std::max(x_hi, 1.05 * c.verdict.joules);
    }
  if (x_lo < 0) x_lo -= 0.03 * (x_hi - x_lo);  // keep the leftmost marker clear of the edge
  std::string why;
  const std::string terminal = gnuplot_png_terminal(900, 600, why);
  std::ostringstream gp;
  gp << "# gnuplot script written by thor search; run `gnuplot search.gp` in this folder to "
        "redraw\n"
     << "set terminal " << (terminal.empty() ? "pngcairo size 900,600" : terminal)
     << "\nset output 'search.png'\n"
     << "set datafile separator ','\nset key bottom right\nset grid\n"
     << "set xlabel 'estimated energy of the full run (J)'\nset ylabel 'proxy accuracy'\n"
     << "set title '" << result.strategy << ": accuracy vs estimated training energy'\n"
     << "set arrow from " << options.oracle.budget_joules << ", graph 0 to "
     << options.oracle.budget_joules << ", graph 1 nohead lw 2 dt 2 lc rgb 'red'\n"
     << "set label 'budget " << joules_text(options.oracle.budget_joules) << "' at "
     << options.oracle.budget_joules << ", graph 0.95 right offset -1,0 tc rgb 'red'\n"
     << "set xrange [" << x_lo << ":" << x_hi << "]\n"
     << "plot 'candidates.csv' every ::1 using ($3==1 && $5>=0 ? $6 : 1/0):5 with points pt 7 ps "
        "0.8 lc rgb '#7f7f7f' "
        "title 'candidates', \\\n"
     << "     'pareto.csv' every ::1 using 3:2 with linespoints pt 5 lw 2 lc rgb '#1f77b4' title "
        "'Pareto front'";
  if (result.best)
    gp << ", \\\n     'pareto.csv' every ::1 using ($1==" << result.candidates[*result.best].id
       << " ? $3 : 1/0):2 with points pt 9 ps 2.5 lc rgb '#2ca02c' title 'best'";
  gp << "\n";
  write_file_atomic(path("search.gp"), gp.str());
  written.push_back(path("search.gp"));
  const GnuplotRun run =
      terminal.empty() ? GnuplotRun{} : run_gnuplot(dir, "search.gp", {"search.png"});
  if (run.ok)
    written.push_back(path("search.png"));
  else
    std::cerr << "search: warning: no search.png: " << (terminal.empty() ? why : run.message)
              << " (redraw with `gnuplot search.gp` in " << dir << ")\n";
}

}  // namespace

std::vector<std::string> write_outputs(const std::string& dir, const Oracle& oracle,
                                       const SearchResult& result, const SearchOptions& options,
                                       const SpaceScan* scan, const FinalRun* final_run) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  std::vector<std::string> written;
  const auto path = [&](const std::string& name) { return (fs::path(dir) / name).string(); };
  write_file_atomic(path("search.json"),
                    search_json(oracle, result, options, scan, final_run).dump(2) + "\n");
  written.push_back(path("search.json"));
  if (result.best) {
    write_best(path("best.yaml"), oracle, result, options, final_run);
    written.push_back(path("best.yaml"));
  }
  write_tables(path, result, written);
  write_plot(dir, result, options, written);
  return written;
}

}  // namespace thor::search
