#pragma once
// The log-probability the model gives each token of a sequence, given the tokens before
// it (the primitive behind compression), with the top alternatives at each position.
// Shared by `lmx logprobs` and the Python binding.
#include <cstdint>
#include <vector>

#include "runtime/session.hpp"

namespace lmx {

struct TokenLogprobs {
    // logprob[i] = log p(ids[i + 1] | ids[0..i]) in nats; ids.size() - 1 entries
    std::vector<double> logprob;
    // top k alternatives per position, most likely first: row i is [i * top, (i + 1) * top)
    int top = 0;
    std::vector<int32_t> top_ids;
    std::vector<double> top_logprob;
};

// Decodes ids on sequence 0 of `session` from position 0 (n_batch positions per pass);
// the session's context must hold ids.size() - 1 positions. Throws lmx::Error when ids is
// empty or an id is outside the vocabulary.
TokenLogprobs token_logprobs(Session& session, const std::vector<int32_t>& ids, int top = 0, int n_batch = 64);

}  // namespace lmx
