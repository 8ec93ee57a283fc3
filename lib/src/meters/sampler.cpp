// The background sampler of the polling meters.
#include "sampler.hpp"

#include <stdexcept>
#include <utility>

namespace thor::meters_detail {

PeriodicSampler::~PeriodicSampler() { halt(); }

void PeriodicSampler::start(double period_s, Tick tick) {
  if (running()) throw std::logic_error("meter sampler: start() while already running");
  tick_ = std::move(tick);
  period_ =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(period_s));
  if (period_.count() <= 0) period_ = std::chrono::nanoseconds(1);
  error_ = nullptr;
  stop_requested_ = false;
  tick_(Clock::now());  // errors surface here, in the caller's thread
  thread_ = std::thread([this] {
    auto next = Clock::now() + period_;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (cv_.wait_until(lock, next, [this] { return stop_requested_; })) return;
      lock.unlock();
      try {
        tick_(Clock::now());
      } catch (...) {
        lock.lock();
        error_ = std::current_exception();
        return;
      }
      lock.lock();
      next += period_;
      const auto now = Clock::now();
      if (next < now) next = now;  // overran (slow read): do not burst to catch up
    }
  });
}

void PeriodicSampler::halt() noexcept {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_requested_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void PeriodicSampler::stop() {
  if (!running()) return;
  halt();
  if (error_) {
    auto e = std::exchange(error_, nullptr);
    std::rethrow_exception(e);
  }
  tick_(Clock::now());
}

void PowerIntegrator::start(double period_s, ReadWatts read_watts) {
  read_ = std::move(read_watts);
  joules_ = 0.0;
  samples_ = 0;
  sampler_.start(period_s, [this](PeriodicSampler::Clock::time_point t) {
    const double w = read_();
    if (samples_ == 0) {
      t0_ = t;
    } else {
      joules_ += 0.5 * (w + last_w_) * std::chrono::duration<double>(t - last_t_).count();
    }
    last_w_ = w;
    last_t_ = t;
    ++samples_;
  });
}

std::pair<double, double> PowerIntegrator::stop() {
  sampler_.stop();
  return {joules_, std::chrono::duration<double>(last_t_ - t0_).count()};
}

void SampledPowerMeter::start() {
  stop_sampling();  // a window left open is dropped
  prepare();
  integrator_.start(period_s_, [this] { return read_watts(); });
  open_ = true;
}

EnergyReading SampledPowerMeter::stop() {
  if (!open_) throw std::logic_error(name() + ": stop() without start()");
  open_ = false;
  const auto [joules, seconds] = integrator_.stop();
  EnergyReading r;
  r.joules = joules;
  r.seconds = seconds;
  r.kind = kind();
  return r;
}

}  // namespace thor::meters_detail
