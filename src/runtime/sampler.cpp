#include "runtime/sampler.hpp"

#include <algorithm>
#include <cmath>

#include "base/error.hpp"

namespace lmx {

void Candidates::sort_desc() {
    if (sorted) return;
    std::sort(items.begin(), items.end(), [](const Candidate& a, const Candidate& b) {
        return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
    });
    sorted = true;
}

void Candidates::softmax() {
    float max_l = -INFINITY;
    for (const Candidate& c : items) max_l = std::max(max_l, c.logit);
    double sum = 0;
    for (Candidate& c : items) sum += (c.p = std::exp(c.logit - max_l));
    for (Candidate& c : items) c.p = static_cast<float>(c.p / sum);
}

namespace {

class TopK final : public SamplerStage {
public:
    explicit TopK(int k) : k_(k) {}
    void apply(Candidates& c) override {
        if (k_ <= 0 || static_cast<size_t>(k_) >= c.items.size()) return;
        auto by_logit = [](const Candidate& a, const Candidate& b) {
            return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
        };
        std::partial_sort(c.items.begin(), c.items.begin() + k_, c.items.end(), by_logit);
        c.items.resize(static_cast<size_t>(k_));
        c.sorted = true;
    }

private:
    int k_;
};

class TopP final : public SamplerStage {
public:
    explicit TopP(float p) : p_(p) {}
    void apply(Candidates& c) override {
        c.sort_desc();
        c.softmax();
        double cum = 0;
        size_t keep = c.items.size();
        for (size_t i = 0; i < c.items.size(); i++) {
            cum += c.items[i].p;
            if (cum >= p_) { keep = i + 1; break; }
        }
        c.items.resize(keep);
    }

private:
    float p_;
};

// Keeps tokens whose probability is at least min_p times the most likely one's.
class MinP final : public SamplerStage {
public:
    explicit MinP(float p) : p_(p) {}
    void apply(Candidates& c) override {
        c.sort_desc();
        const float threshold = c.items.front().logit + std::log(p_);
        size_t keep = 1;
        while (keep < c.items.size() && c.items[keep].logit >= threshold) keep++;
        c.items.resize(keep);
    }

private:
    float p_;
};

class Temperature final : public SamplerStage {
public:
    explicit Temperature(float t) : t_(t) {}
    void apply(Candidates& c) override {
        for (Candidate& x : c.items) x.logit /= t_;
    }

private:
    float t_;
};

}  // namespace

Sampler::Sampler(const SamplingParams& p) : params_(p), rng_(p.seed) {
    if (p.temperature < 0 || p.top_p <= 0 || p.top_p > 1 || p.min_p < 0 || p.min_p >= 1 || p.repeat_penalty <= 0 || p.top_k < 0 ||
        !(std::fabs(p.presence_penalty) <= 2) || !(std::fabs(p.frequency_penalty) <= 2))
        fail("invalid sampling parameters: need temperature >= 0, 0 < top-p <= 1, 0 <= min-p < 1, top-k >= 0, repeat penalty > 0, "
             "presence and frequency penalties in [-2, 2]");
    if (p.temperature > 0) {
        if (p.top_k > 0) stages_.push_back(std::make_unique<TopK>(p.top_k));
        if (p.top_p < 1) stages_.push_back(std::make_unique<TopP>(p.top_p));
        if (p.min_p > 0) stages_.push_back(std::make_unique<MinP>(p.min_p));
        stages_.push_back(std::make_unique<Temperature>(p.temperature));
    }
}

bool Sampler::has_penalties() const {
    return params_.repeat_penalty != 1.0f || params_.presence_penalty != 0 || params_.frequency_penalty != 0;
}

void Sampler::accept(int32_t token) {
    if (!has_penalties() || params_.repeat_last_n <= 0) return;
    recent_.push_back(token);
    counts_[token]++;
    if (static_cast<int>(recent_.size()) > params_.repeat_last_n) {
        auto it = counts_.find(recent_.front());
        if (--it->second == 0) counts_.erase(it);
        recent_.pop_front();
    }
}

void Sampler::reset() {
    recent_.clear();
    counts_.clear();
    rng_.seed(params_.seed);
}

// llama.cpp's penalties sampler, over the distinct recent tokens only: the repetition
// penalty divides a positive logit (multiplies a negative one), then OpenAI's
// logit -= count * frequency + presence.
const float* Sampler::penalized(const float* logits, int32_t n_vocab) {
    if (counts_.empty()) return logits;
    adjusted_.assign(logits, logits + n_vocab);
    for (const auto& [id, count] : counts_) {
        if (id < 0 || id >= n_vocab) continue;
        float& l = adjusted_[static_cast<size_t>(id)];
        if (params_.repeat_penalty != 1.0f) l = l > 0 ? l / params_.repeat_penalty : l * params_.repeat_penalty;
        l -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
    }
    return adjusted_.data();
}

int32_t Sampler::sample(const float* raw_logits, int32_t n_vocab) {
    const float* logits = penalized(raw_logits, n_vocab);
    if (params_.temperature == 0) {  // greedy: the first (lowest id) of the largest logits
        int32_t best = 0;
        for (int32_t i = 1; i < n_vocab; i++)
            if (logits[i] > logits[best]) best = i;
        accept(best);
        return best;
    }
    cand_.items.resize(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; i++) cand_.items[static_cast<size_t>(i)] = {i, logits[i], 0.0f};
    cand_.sorted = false;
    for (auto& s : stages_) s->apply(cand_);
    cand_.softmax();
    // 53 random bits → [0, 1): the same on every platform, unlike std::uniform_real_distribution.
    const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
    double cum = 0;
    int32_t chosen = cand_.items.back().id;
    for (const Candidate& c : cand_.items) {
        cum += c.p;
        if (u < cum) { chosen = c.id; break; }
    }
    accept(chosen);
    return chosen;
}

}  // namespace lmx
