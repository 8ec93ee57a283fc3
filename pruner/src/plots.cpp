#include "plots.hpp"

#include <filesystem>
#include <sstream>

#include "thor/gnuplot.hpp"
#include "thor/io.hpp"

namespace thor::pruner::detail {

std::vector<std::string> write_plots(const PruneResult& r, const std::string& dir,
                                     std::vector<std::string>& warnings) {
  namespace fs = std::filesystem;
  std::string error;
  const std::string terminal = gnuplot_png_terminal(900, 600, error);
  if (terminal.empty()) {
    warnings.push_back(error);
    return {};
  }
  std::vector<const PrunedModelResult*> runs{&r.pruned};
  for (const auto& c : r.compare) runs.push_back(&c);

  // Data files beside the script, so the plots can be redrawn or restyled.
  std::ostringstream cand, win, curves;
  cand << "# per oracle block: GP-estimated J/iter, validation accuracy % after the short "
          "fine-tune, oracle J/iter\n";
  for (const auto* run : runs) {
    cand << "# oracle " << run->oracle << "\n";
    for (const auto& c : run->candidates)
      cand << c.estimated_joules << " " << 100.0 * c.short_accuracy << " " << c.oracle_joules
           << "\n";
    cand << "\n\n";
  }
  win << "# measured J/iter, test accuracy %: baseline then the pruned models\n";
  win << r.baseline.measured_joules_per_iteration << " " << 100.0 * r.baseline.accuracy << "\n\n\n";
  for (const auto* run : runs)
    win << run->measured_joules_per_iteration << " " << 100.0 * run->accuracy << "\n\n\n";
  curves << "# blocks: baseline training, then each pruned model's fine-tune; iteration, train "
            "loss, test accuracy %\n";
  auto curve_block = [&](const std::vector<CurvePoint>& c) {
    for (const auto& p : c)
      curves << p.iteration << " " << p.loss << " " << 100.0 * p.accuracy << "\n";
    if (c.empty()) curves << "0 NaN NaN\n";
    curves << "\n\n";
  };
  curve_block(r.baseline.curve);
  for (const auto* run : runs) curve_block(run->curve);
  write_file_atomic((fs::path(dir) / "candidates.dat").string(), cand.str());
  write_file_atomic((fs::path(dir) / "winners.dat").string(), win.str());
  write_file_atomic((fs::path(dir) / "curves.dat").string(), curves.str());

  std::ostringstream gp;
  gp << "# gnuplot script written by thor prune; run `gnuplot plots.gp` in this folder.\n"
     << "set terminal " << terminal << "\n"
     << "set key outside bottom center horizontal\nset grid\n"
     << "set output 'candidates.png'\n"
     << "set title 'Candidates: energy per training iteration vs accuracy (" << r.meter_kind
     << " energy)'\n"
     << "set xlabel 'joules per training iteration'\nset ylabel 'accuracy (%)'\n"
     << "set arrow 1 from " << r.budget_joules_per_iteration << ", graph 0 to "
     << r.budget_joules_per_iteration << ", graph 1 nohead dt 2 lw 2 lc rgb 'red'\n"
     << "set label 1 'budget' at " << r.budget_joules_per_iteration
     << ", graph 0.95 offset 0.5,0 tc rgb 'red'\n"
     << "plot ";
  const char* colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"};
  for (size_t i = 0; i < runs.size(); ++i)
    gp << "'candidates.dat' index " << i << " using 1:2 with points pt 7 ps 1 lc rgb '"
       << colours[i % 4] << "' title '" << runs[i]->oracle
       << "-guided candidates (GP estimate, short fine-tune)', ";
  gp << "'winners.dat' index 0 using 1:2 with points pt 5 ps 2 lc rgb 'black' title 'baseline "
        "(measured)'";
  for (size_t i = 0; i < runs.size(); ++i)
    gp << ", 'winners.dat' index " << i + 1 << " using 1:2 with points pt 9 ps 2.5 lc rgb '"
       << colours[i % 4] << "' title 'pruned, " << runs[i]->oracle << " (measured, fine-tuned)'";
  gp << "\nunset arrow 1\nunset label 1\n";
  gp << "set output 'curves.png'\nset multiplot layout 1,2 title 'Training loss and test accuracy "
        "during training "
        "/ fine-tuning'\n"
     << "set title 'training loss'\nset xlabel 'iteration'\nset ylabel 'loss'\nunset key\nplot ";
  gp << "'curves.dat' index 0 using 1:2 with lines lw 2 lc rgb 'black' title 'baseline'";
  for (size_t i = 0; i < runs.size(); ++i)
    gp << ", 'curves.dat' index " << i + 1 << " using 1:2 with lines lw 2 lc rgb '"
       << colours[i % 4] << "' title 'pruned, " << runs[i]->oracle << "'";
  gp << "\nset title 'test accuracy'\nset ylabel 'accuracy (%)'\nset key bottom right\nplot ";
  gp << "'curves.dat' index 0 using 1:3 with lines lw 2 lc rgb 'black' title 'baseline'";
  for (size_t i = 0; i < runs.size(); ++i)
    gp << ", 'curves.dat' index " << i + 1 << " using 1:3 with lines lw 2 lc rgb '"
       << colours[i % 4] << "' title 'pruned, " << runs[i]->oracle << "'";
  gp << "\nunset multiplot\n";
  write_file_atomic((fs::path(dir) / "plots.gp").string(), gp.str());

  const GnuplotRun run = run_gnuplot(dir, "plots.gp", {"candidates.png", "curves.png"});
  if (!run.ok) warnings.push_back(run.message);
  const std::vector<std::string> made = run.made;
  return made;
}

}  // namespace thor::pruner::detail
