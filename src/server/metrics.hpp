#pragma once
// Prometheus text exposition of what the server did: requests by endpoint and
// status, tokens in and out, latency and time-to-first-token histograms, and the
// live queue depth and KV-cache use of each loaded model.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "runtime/scheduler.hpp"

namespace lmx::server {

class Histogram {
public:
    static constexpr std::array<double, 12> kBounds = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};  // seconds
    void observe(double seconds);
    void render(std::string& out, const std::string& name) const;

private:
    std::array<uint64_t, kBounds.size()> counts_{};  // per bucket, not cumulative
    uint64_t count_ = 0;
    double sum_ = 0;
};

class Metrics {
public:
    void request(const std::string& endpoint, int status, double seconds);
    void generation(const std::string& model, size_t prompt_tokens, size_t cached_tokens, size_t completion_tokens, double ttft_seconds);
    // live: each loaded model's scheduler state
    std::string render(const std::vector<std::pair<std::string, SchedulerStats>>& live) const;

private:
    mutable std::mutex mu_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;
    std::map<std::string, std::array<uint64_t, 3>> tokens_;  // model -> prompt, cached prompt, completion
    Histogram latency_, ttft_;
};

}  // namespace lmx::server
