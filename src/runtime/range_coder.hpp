#pragma once
// A 32-bit binary arithmetic coder (Witten, Neal and Cleary, with pending "underflow"
// bits) over integer frequency tables. The interval is kept wider than 2^30 after every
// symbol, so any table whose total is at most 2^24 gives every symbol of frequency >= 1
// a sub-interval at least 64 wide: the coder is exact integer arithmetic, the same on
// every platform, and costs at most ~log2(1 + 2^-6) bits per symbol over the ideal.
#include <cstdint>
#include <string>
#include <string_view>

namespace lmx {

constexpr uint32_t kMaxCoderTotal = 1u << 24;

class ArithmeticEncoder {
public:
    // Codes the symbol whose frequencies occupy [cum, cum + freq) of total (freq >= 1,
    // cum + freq <= total <= kMaxCoderTotal).
    void encode(uint32_t cum, uint32_t freq, uint32_t total);
    // Flushes the last bits; the encoder is then done.
    std::string finish();

private:
    void put_bit(int bit);
    uint64_t low_ = 0, high_ = 0xFFFFFFFFu;
    uint64_t pending_ = 0;
    std::string out_;
    uint8_t byte_ = 0;
    int n_bits_ = 0;
};

// Reads what ArithmeticEncoder wrote; past the end of the input it reads zero bits, so
// any byte string decodes to some symbol sequence (the container's CRC rejects garbage).
class ArithmeticDecoder {
public:
    explicit ArithmeticDecoder(std::string_view in);
    // The position in [0, total) of the next symbol: the caller finds the symbol whose
    // [cum, cum + freq) contains it, then calls consume with that symbol's frequencies.
    uint32_t target(uint32_t total) const;
    void consume(uint32_t cum, uint32_t freq, uint32_t total);

private:
    int get_bit();
    std::string_view in_;
    size_t bit_pos_ = 0;
    uint64_t low_ = 0, high_ = 0xFFFFFFFFu, value_ = 0;
};

}  // namespace lmx
