#include "server/metrics.hpp"

#include <cstdio>

namespace lmx::server {

namespace {
std::string num(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", x);
    return buf;
}
// Label values are model names and endpoints; escape what Prometheus requires.
std::string label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}
}  // namespace

void Histogram::observe(double seconds) {
    size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) i++;
    if (i < kBounds.size()) counts_[i]++;
    count_++;
    sum_ += seconds;
}

void Histogram::render(std::string& out, const std::string& name) const {
    uint64_t cum = 0;
    for (size_t i = 0; i < kBounds.size(); i++) {
        cum += counts_[i];
        out += name + "_bucket{le=\"" + num(kBounds[i]) + "\"} " + std::to_string(cum) + "\n";
    }
    out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
    out += name + "_sum " + num(sum_) + "\n";
    out += name + "_count " + std::to_string(count_) + "\n";
}

void Metrics::request(const std::string& endpoint, int status, double seconds) {
    std::lock_guard lock(mu_);
    requests_[{endpoint, status}]++;
    latency_.observe(seconds);
}

void Metrics::generation(const std::string& model, size_t prompt_tokens, size_t cached_tokens, size_t completion_tokens, double ttft_seconds) {
    std::lock_guard lock(mu_);
    auto& t = tokens_[model];
    t[0] += prompt_tokens;
    t[1] += cached_tokens;
    t[2] += completion_tokens;
    if (completion_tokens > 0) ttft_.observe(ttft_seconds);
}

std::string Metrics::render(const std::vector<std::pair<std::string, SchedulerStats>>& live) const {
    std::lock_guard lock(mu_);
    std::string out;
    out += "# HELP lmx_requests_total HTTP requests by endpoint and status.\n# TYPE lmx_requests_total counter\n";
    for (const auto& [k, n] : requests_)
        out += "lmx_requests_total{endpoint=\"" + label(k.first) + "\",status=\"" + std::to_string(k.second) + "\"} " + std::to_string(n) + "\n";
    const char* token_names[3][2] = {{"lmx_prompt_tokens_total", "Prompt tokens received."},
                                     {"lmx_prompt_tokens_cached_total", "Prompt tokens reused from the KV cache (prefix cache)."},
                                     {"lmx_completion_tokens_total", "Tokens generated."}};
    for (size_t i = 0; i < 3; i++) {
        out += std::string("# HELP ") + token_names[i][0] + " " + token_names[i][1] + "\n# TYPE " + token_names[i][0] + " counter\n";
        for (const auto& [model, t] : tokens_) out += std::string(token_names[i][0]) + "{model=\"" + label(model) + "\"} " + std::to_string(t[i]) + "\n";
    }
    out += "# HELP lmx_request_duration_seconds Time from request to the end of its response.\n# TYPE lmx_request_duration_seconds histogram\n";
    latency_.render(out, "lmx_request_duration_seconds");
    out += "# HELP lmx_time_to_first_token_seconds Time from a generation request to its first token.\n# TYPE lmx_time_to_first_token_seconds histogram\n";
    ttft_.render(out, "lmx_time_to_first_token_seconds");
    out += "# HELP lmx_queue_depth Requests waiting for a slot.\n# TYPE lmx_queue_depth gauge\n";
    for (const auto& [m, s] : live) out += "lmx_queue_depth{model=\"" + label(m) + "\"} " + std::to_string(s.queued) + "\n";
    out += "# HELP lmx_active_requests Requests decoding in a slot.\n# TYPE lmx_active_requests gauge\n";
    for (const auto& [m, s] : live) out += "lmx_active_requests{model=\"" + label(m) + "\"} " + std::to_string(s.active) + "\n";
    out += "# HELP lmx_kv_cache_tokens Positions of the KV cache holding running requests' tokens.\n# TYPE lmx_kv_cache_tokens gauge\n";
    for (const auto& [m, s] : live) out += "lmx_kv_cache_tokens{model=\"" + label(m) + "\"} " + std::to_string(s.kv_used) + "\n";
    out += "# HELP lmx_kv_cache_capacity_tokens Positions of the KV cache (slots x context).\n# TYPE lmx_kv_cache_capacity_tokens gauge\n";
    for (const auto& [m, s] : live) out += "lmx_kv_cache_capacity_tokens{model=\"" + label(m) + "\"} " + std::to_string(s.kv_capacity) + "\n";
    out += "# HELP lmx_models_loaded Models loaded.\n# TYPE lmx_models_loaded gauge\nlmx_models_loaded " + std::to_string(live.size()) + "\n";
    return out;
}

}  // namespace lmx::server
