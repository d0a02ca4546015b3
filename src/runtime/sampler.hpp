#pragma once
// Token sampling as a chain of small stages (llama.cpp's order): repetition penalty
// → presence/frequency penalties → top-k → top-p → min-p → temperature → draw. Temperature 0 means greedy.
// The random stream is fully determined by the seed (same seed, same text).
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <vector>

namespace lmx {

struct SamplingParams {
    float temperature = 0.8f;
    int top_k = 40;             // 0: off
    float top_p = 0.95f;        // 1: off
    float min_p = 0.05f;        // 0: off
    float repeat_penalty = 1.0f;  // 1: off
    int repeat_last_n = 64;       // tokens the penalties look back over (repeat, presence, frequency)
    float presence_penalty = 0;   // OpenAI's: minus this once for every token seen; 0: off
    float frequency_penalty = 0;  // OpenAI's: minus this times the token's count; 0: off
    uint64_t seed = 0;
};

struct Candidate {
    int32_t id;
    float logit;
    float p;
};

struct Candidates {
    std::vector<Candidate> items;
    bool sorted = false;  // by logit, descending
    void sort_desc();
    void softmax();       // fills p from logit (requires nothing)
};

class SamplerStage {
public:
    virtual ~SamplerStage() = default;
    virtual void apply(Candidates& c) = 0;
};

class Sampler {
public:
    explicit Sampler(const SamplingParams& p);
    int32_t sample(const float* logits, int32_t n_vocab);  // picks and accepts the token
    void accept(int32_t token);  // tells history-aware stages about a prompt token
    void reset();

private:
    bool has_penalties() const;
    const float* penalized(const float* logits, int32_t n_vocab);  // logits, or adjusted_ when a penalty applies

    SamplingParams params_;
    std::vector<std::unique_ptr<SamplerStage>> stages_;  // truncation and temperature (when not greedy)
    std::deque<int32_t> recent_;  // the last repeat_last_n accepted tokens
    std::map<int32_t, int> counts_;  // how often each of them occurs there
    std::vector<float> adjusted_;
    std::mt19937_64 rng_;
    Candidates cand_;
};

}  // namespace lmx
