#include "runtime/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <unordered_map>

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

class RepeatPenalty final : public SamplerStage {
public:
    RepeatPenalty(float penalty, int last_n) : penalty_(penalty), last_n_(last_n) {}
    void apply(Candidates& c) override {
        for (Candidate& x : c.items) {
            if (std::find(recent_.begin(), recent_.end(), x.id) == recent_.end()) continue;
            x.logit = x.logit > 0 ? x.logit / penalty_ : x.logit * penalty_;
        }
        c.sorted = false;
    }
    void accept(int32_t t) override {
        recent_.push_back(t);
        while (static_cast<int>(recent_.size()) > last_n_) recent_.pop_front();
    }
    void reset() override { recent_.clear(); }

private:
    float penalty_;
    int last_n_;
    std::deque<int32_t> recent_;
};

// OpenAI's presence and frequency penalties: logit -= count * frequency + (count > 0) * presence,
// counting the token among the last last_n accepted ones (llama.cpp's penalties sampler).
class PresenceFrequencyPenalty final : public SamplerStage {
public:
    PresenceFrequencyPenalty(float presence, float frequency, int last_n) : presence_(presence), frequency_(frequency), last_n_(last_n) {}
    void apply(Candidates& c) override {
        if (counts_.empty()) return;
        for (Candidate& x : c.items) {
            auto it = counts_.find(x.id);
            if (it == counts_.end()) continue;
            x.logit -= static_cast<float>(it->second) * frequency_ + presence_;
        }
        c.sorted = false;
    }
    void accept(int32_t t) override {
        if (last_n_ <= 0) return;
        recent_.push_back(t);
        counts_[t]++;
        if (static_cast<int>(recent_.size()) > last_n_) {
            auto it = counts_.find(recent_.front());
            if (--it->second == 0) counts_.erase(it);
            recent_.pop_front();
        }
    }
    void reset() override {
        recent_.clear();
        counts_.clear();
    }

private:
    float presence_, frequency_;
    int last_n_;
    std::deque<int32_t> recent_;
    std::unordered_map<int32_t, int> counts_;
};

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
    if (p.repeat_penalty != 1.0f) stages_.push_back(std::make_unique<RepeatPenalty>(p.repeat_penalty, p.repeat_last_n));
    if (p.presence_penalty != 0 || p.frequency_penalty != 0)
        stages_.push_back(std::make_unique<PresenceFrequencyPenalty>(p.presence_penalty, p.frequency_penalty, p.repeat_last_n));
    if (p.temperature > 0) {
        if (p.top_k > 0) stages_.push_back(std::make_unique<TopK>(p.top_k));
        if (p.top_p < 1) stages_.push_back(std::make_unique<TopP>(p.top_p));
        if (p.min_p > 0) stages_.push_back(std::make_unique<MinP>(p.min_p));
        stages_.push_back(std::make_unique<Temperature>(p.temperature));
    }
}

void Sampler::accept(int32_t token) {
    for (auto& s : stages_) s->accept(token);
}

void Sampler::reset() {
    for (auto& s : stages_) s->reset();
    rng_.seed(params_.seed);
}

int32_t Sampler::sample(const float* logits, int32_t n_vocab) {
    cand_.items.resize(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; i++) cand_.items[static_cast<size_t>(i)] = {i, logits[i], 0.0f};
    cand_.sorted = false;
    for (auto& s : stages_) s->apply(cand_);
    int32_t chosen;
    if (params_.temperature == 0) {
        chosen = std::max_element(cand_.items.begin(), cand_.items.end(), [](const Candidate& a, const Candidate& b) {
                     return a.logit != b.logit ? a.logit < b.logit : a.id > b.id;
                 })->id;
    } else {
        cand_.softmax();
        // 53 random bits → [0, 1): the same on every platform, unlike std::uniform_real_distribution.
        const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
        double cum = 0;
        chosen = cand_.items.back().id;
        for (const Candidate& c : cand_.items) {
            cum += c.p;
            if (u < cum) { chosen = c.id; break; }
        }
    }
    accept(chosen);
    return chosen;
}

}  // namespace lmx
