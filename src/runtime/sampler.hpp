#pragma once
// Token sampling as a chain of small stages (llama.cpp's order): repetition penalty
// → presence/frequency penalties → top-k → top-p → min-p → temperature → draw. Temperature 0 means greedy.
// The random stream is fully determined by the seed (same seed, same text).
#include <cstdint>
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
    virtual void accept(int32_t /*token*/) {}
    virtual void reset() {}
};

class Sampler {
public:
    explicit Sampler(const SamplingParams& p);
    int32_t sample(const float* logits, int32_t n_vocab);  // picks and accepts the token
    void accept(int32_t token);  // tells history-aware stages about a prompt token
    void reset();

private:
    SamplingParams params_;
    std::vector<std::unique_ptr<SamplerStage>> stages_;
    std::mt19937_64 rng_;
    Candidates cand_;
};

}  // namespace lmx
