#pragma once
// Internal to thor::meters: the one background sampler shared by the meters
// that poll (rapl accumulates counter deltas; jetson and battery integrate
// power). A std::thread waits on a condition_variable so stop() is prompt.
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "thor/meter.hpp"

namespace thor::meters_detail {

/// Calls `tick` once synchronously in start(), then every `period_s` on a
/// background thread, then once more synchronously in stop(). Calls never
/// overlap (the thread is created after the first and joined before the
/// last), so `tick` needs no locking of its own. The first exception thrown
/// by a background tick ends sampling and is rethrown by stop().
class PeriodicSampler {
 public:
  using Clock = std::chrono::steady_clock;
  using Tick = std::function<void(Clock::time_point)>;

  PeriodicSampler() = default;
  ~PeriodicSampler();
  PeriodicSampler(const PeriodicSampler&) = delete;
  PeriodicSampler& operator=(const PeriodicSampler&) = delete;

  /// Runs the first tick here (its exception propagates, nothing is left
  /// running), then starts the thread.
  void start(double period_s, Tick tick);
  /// Stops and joins the thread, rethrows its error if any, else runs the
  /// last tick here. No-op when not running.
  void stop();
  bool running() const { return thread_.joinable(); }
  /// Stops and joins the thread without the final tick; errors dropped.
  void cancel() noexcept { halt(); }

 private:
  void halt() noexcept;

  Tick tick_;
  std::chrono::nanoseconds period_{0};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  std::exception_ptr error_;
};

/// Integrates watts over time with the trapezoid rule on a PeriodicSampler.
class PowerIntegrator {
 public:
  using ReadWatts = std::function<double()>;

  /// Takes the first sample now (a SensorError propagates) and starts sampling.
  void start(double period_s, ReadWatts read_watts);
  /// Takes the last sample and returns {joules, seconds} since start().
  std::pair<double, double> stop();
  /// Number of samples taken in the last window (for tests and describe()).
  long samples() const { return samples_; }
  /// Stops sampling, dropping the window.
  void cancel() noexcept { sampler_.cancel(); }

 private:
  PeriodicSampler sampler_;
  ReadWatts read_;
  PeriodicSampler::Clock::time_point t0_, last_t_;
  double last_w_ = 0.0;
  double joules_ = 0.0;
  long samples_ = 0;
};

/// Base of the meters that sample a power sensor (jetson, battery): the
/// window's energy is the trapezoid integral of read_watts() sampled every
/// period. start() takes the first sample itself, so an unreadable sensor
/// throws there.
class SampledPowerMeter : public EnergyMeter {
 public:
  explicit SampledPowerMeter(double period_s) : period_s_(period_s) {}
  EnergyKind kind() const override { return EnergyKind::measured; }
  void start() override;
  EnergyReading stop() override;

 protected:
  /// Instantaneous power in watts. Called from the sampling thread, never
  /// concurrently with itself; throws SensorError when the sensor fails.
  virtual double read_watts() = 0;
  /// Runs in start() before the first sample (e.g. to detect units).
  virtual void prepare() {}
  /// Every derived destructor must call this first: the sampling thread
  /// calls read_watts(), which must not outlive the derived object.
  void stop_sampling() noexcept {
    integrator_.cancel();
    open_ = false;
  }
  double period_s() const { return period_s_; }

 private:
  double period_s_;
  PowerIntegrator integrator_;
  bool open_ = false;
};

}  // namespace thor::meters_detail
