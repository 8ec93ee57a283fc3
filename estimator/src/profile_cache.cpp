#include "thor/profile_cache.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "thor/cluster.hpp"

namespace thor {

namespace fs = std::filesystem;

void ProfileRequest::validate() const {
  if (architectures.empty()) throw InputError("profile request: no architectures to profile");
  profiler.validate();
}

ProfileRequest recipe_profile_request(const Recipe& recipe, std::vector<Architecture> architectures,
                                      const Dataset* train, const std::string& path,
                                      bool progress) {
  ProfileRequest r;
  r.path = path;
  r.architectures = std::move(architectures);
  r.meter_options = recipe.meter_options;
  r.profiler = profiler_options(recipe);
  r.profiler.feed.data = train;
  r.profiler.progress = progress;
  if (!path.empty()) r.profiler.journal_path = path + ".journal";
  return r;
}

std::string profile_mismatch(const DeviceProfile& profile,
                             const std::vector<Architecture>& architectures,
                             const ProfileSettings& now, int64_t channel_lower) {
  const auto diff = profile.settings.differences(now);
  if (!diff.empty()) return "made under other settings (" + diff.front() + ")";
  for (const KindPlan& plan : plan_profiling(architectures, channel_lower)) {
    const auto it = profile.kinds.find(plan.key);
    if (it == profile.kinds.end()) return "kind " + plan.key + " is missing";
    const KindModel& k = it->second;
    if (k.lower.size() != plan.lower.size() || k.upper.size() != plan.upper.size())
      return "kind " + plan.key + " has other features";
    for (size_t f = 0; f < plan.lower.size(); ++f)
      if (k.lower[f] > plan.lower[f] || k.upper[f] < plan.upper[f])
        return "kind " + plan.key + " covers channels " + std::to_string(k.lower[f]) + ".." +
               std::to_string(k.upper[f]) + ", needs " + std::to_string(plan.lower[f]) + ".." +
               std::to_string(plan.upper[f]);
  }
  return "";
}

ProfileDecision decide_profile(const ProfileRequest& request, EnergyMeter& meter) {
  request.validate();
  const ProfilerOptions& po = request.profiler;
  const ProfileSettings now = ProfileSettings::current(
      meter, request.meter_options, po.measure, po.feed, request.architectures.front().input);
  ProfileDecision d;
  if (request.path.empty()) {
    d.reason = "no cache given";
  } else if (!fs::exists(request.path)) {
    d.reason = "no cached profile at " + request.path;
  } else {
    try {
      DeviceProfile cached = DeviceProfile::load(request.path);
      const std::string why =
          profile_mismatch(cached, request.architectures, now, po.channel_lower);
      if (why.empty()) {
        d.profile = std::move(cached);
        d.reused = true;
        d.reason = "reusing the profile " + request.path;
        return d;
      }
      d.reason = "not reusing " + request.path + ": " + why;
    } catch (const InputError& e) {
      d.warning = std::string("cached profile not usable: ") + e.what();
      d.reason = "not reusing " + request.path + ": " + e.what();
    }
  }
  return d;
}

ProfileDecision ensure_profile(const ProfileRequest& request, EnergyMeter& meter) {
  ProfileDecision d = decide_profile(request, meter);
  if (d.reused) {
    if (request.on_decision) request.on_decision(d.reason);
    return d;
  }
  const ProfilerOptions& po = request.profiler;
  if (request.on_decision) request.on_decision(d.reason + "; profiling with " + meter.describe());
  const ProfileResult run = run_profiler(request.architectures, meter, request.meter_options, po);
  d.profile = run.profile;
  d.measured = run.measured;
  d.summary = run.message;
  if (request.save && !request.path.empty()) d.profile.save(request.path);
  if (!po.journal_path.empty()) {
    std::error_code ec;
    fs::remove(po.journal_path, ec);
  }
  return d;
}

std::pair<double, double> forecast_profiling(const ProfileRequest& request, const PaceModel& pace) {
  const ProfilerOptions& po = request.profiler;
  double low = 0.0, high = 0.0;
  const auto plans = plan_profiling(request.architectures, po.channel_lower);
  for (const KindPlan& plan : plans) {
    const bool one = plan.lower.size() == 1;
    const int max_points = one ? po.max_points : po.max_points * 7 / 4;
    const int starts = one ? 3 : 5;  // the corners and the centre come first
    const int min_points =
        std::max(starts, std::min(max_points, one ? po.min_points : 2 * po.min_points));
    std::vector<int64_t> mid;
    for (size_t d = 0; d < plan.lower.size(); ++d) {
      // A legal width: a multiple of the feature's step (an encoder's heads).
      const int64_t m = d < plan.multiple.size() ? std::max<int64_t>(1, plan.multiple[d]) : 1;
      mid.push_back(std::max(plan.lower[d], (plan.lower[d] + plan.upper[d]) / 2 / m * m));
    }
    const double point = pace.measure_seconds(plan.variant(mid), po.measure);
    low += min_points * point;
    high += max_points * point;
  }
  if (po.track_drift) {
    MeasureOptions ro = po.measure;
    ro.repeats = std::max(3, ro.repeats);
    const double ref = pace.measure_seconds(reference_architecture(), ro);
    low += (static_cast<double>(plans.size()) + 1.5) * ref;
    high += (static_cast<double>(plans.size()) + 1.5) * ref;
  }
  if (po.anchors > 0 && !request.architectures.empty()) {
    const double anchor = pace.measure_seconds(request.architectures.front(), po.measure);
    low += po.anchors * anchor * 0.6;  // anchors are the family's members, mostly smaller
    high += po.anchors * anchor;
  }
  return {low, high};
}

DeviceProfile share_profile(const std::function<DeviceProfile()>& make) {
  const Cluster& cluster = Cluster::world();
  if (!cluster.distributed()) return make();
  const std::string text = cluster.broadcast(cluster.root() ? make().to_json().dump() : "");
  DeviceProfile profile = DeviceProfile::from_json(nlohmann::json::parse(text), "rank 0's profile");
  const HostDescription me = describe_host();
  const nlohmann::json mine = {{"host", cluster.host()},
                               {"cpu_model", me.cpu_model},
                               {"cores", me.cores},
                               {"torch_version", me.torch_version}};
  const auto hosts = cluster.all_gather(mine.dump());
  for (size_t r = 0; r < hosts.size(); ++r) {
    const auto h = nlohmann::json::parse(hosts[r]);
    const HostDescription d{h.at("cpu_model").get<std::string>(), h.at("cores").get<int>(),
                            h.at("torch_version").get<std::string>()};
    const auto diff = host_differences(profile.settings, d);
    if (!diff.empty())
      throw InputError("rank " + std::to_string(r) + " on " + h.at("host").get<std::string>() +
                       " is another kind of device than the profile describes (" + diff.front() +
                       "); its energy would not be what the profile predicts: run the job on "
                       "nodes of one kind, or profile each kind and run a job per kind");
  }
  return profile;
}

}  // namespace thor
