#pragma once
// How close a model's predictions are to a reference model's on the same text (the
// acceptance gate for a quantized or converted model, `lmx eval`): both read the text in
// windows of `window` tokens (each window from position 0, so a token sees at most
// window - 1 tokens before it, the same for both), and at every position compare the
// next-token distributions.
#include <cstdint>
#include <functional>
#include <vector>

#include "runtime/session.hpp"

namespace lmx {

struct EvalResult {
    int64_t positions = 0;       // predictions compared
    double ppl_model = 0, ppl_ref = 0;  // exp(mean negative log-likelihood of the actual next token)
    double kl_mean = 0, kl_p99 = 0;     // KL(reference || model) per position, nats
    double kl_max = 0;
    double top1 = 0;             // fraction of positions where both rank the same token first
};

// tokens: the text as both models' (identical) tokenizer splits it. progress(done, total)
// after each window. Throws lmx::Error when the vocabularies differ or window < 2.
EvalResult evaluate(Session& model, Session& ref, const std::vector<int32_t>& tokens, int64_t window,
                    const std::function<void(size_t, size_t)>& progress = {});

}  // namespace lmx
