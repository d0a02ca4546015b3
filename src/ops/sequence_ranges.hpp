#pragma once
// Encoder batches hold several sequences back to back, without padding: a sequence is
// the tokens from its start up to the next one's. The i32 input seq_starts [S] lists the
// starts; checked once per run so the ops can index without bounds checks.
#include <cstdint>

#include "base/error.hpp"
#include "graph/ir.hpp"

namespace lmx::ops {

struct SequenceRanges {
    const int32_t* starts;
    int64_t n_seq, n_tokens;

    SequenceRanges(const graph::Tensor& seq_starts, int64_t n_tok)
        : starts(seq_starts.as<int32_t>()), n_seq(seq_starts.dims[0]), n_tokens(n_tok) {
        if (n_seq > 0 && starts[0] != 0) fail("seq_starts must begin at token 0, got ", starts[0]);
        for (int64_t s = 1; s < n_seq; s++)
            if (starts[s] <= starts[s - 1] || starts[s] >= n_tok)
                fail("seq_starts must increase strictly and stay below the ", n_tok, " tokens; entry ", s, " is ", starts[s]);
        if (n_seq == 0 && n_tok > 0) fail("a batch of ", n_tok, " tokens needs at least one sequence start");
    }
    int64_t begin(int64_t s) const { return starts[s]; }
    int64_t end(int64_t s) const { return s + 1 < n_seq ? starts[s + 1] : n_tokens; }
};

}  // namespace lmx::ops
