#include "runtime/range_coder.hpp"

#include "base/error.hpp"

namespace lmx {

namespace {
constexpr uint64_t kHalf = 1ull << 31, kQuarter = 1ull << 30, kThreeQuarters = kHalf + kQuarter;
}

void ArithmeticEncoder::put_bit(int bit) {
    byte_ = static_cast<uint8_t>((byte_ << 1) | bit);
    if (++n_bits_ == 8) {
        out_.push_back(static_cast<char>(byte_));
        byte_ = 0;
        n_bits_ = 0;
    }
}

void ArithmeticEncoder::encode(uint32_t cum, uint32_t freq, uint32_t total) {
    if (freq == 0 || total > kMaxCoderTotal || cum + freq > total)
        fail("arithmetic coder: symbol [", cum, ", ", cum + freq, ") outside a table of total ", total);
    const uint64_t range = high_ - low_ + 1;
    high_ = low_ + range * (cum + freq) / total - 1;
    low_ = low_ + range * cum / total;
    for (;;) {
        if (high_ < kHalf) {
            put_bit(0);
            for (; pending_ > 0; pending_--) put_bit(1);
        } else if (low_ >= kHalf) {
            put_bit(1);
            for (; pending_ > 0; pending_--) put_bit(0);
            low_ -= kHalf, high_ -= kHalf;
        } else if (low_ >= kQuarter && high_ < kThreeQuarters) {
            pending_++;
            low_ -= kQuarter, high_ -= kQuarter;
        } else {
            break;
        }
        low_ = 2 * low_;
        high_ = 2 * high_ + 1;
    }
}

std::string ArithmeticEncoder::finish() {
    // Two more bits pick a point inside [low, high] whatever zero bits follow.
    pending_++;
    const int bit = low_ < kQuarter ? 0 : 1;
    put_bit(bit);
    for (; pending_ > 0; pending_--) put_bit(1 - bit);
    while (n_bits_ != 0) put_bit(0);
    return std::move(out_);
}

ArithmeticDecoder::ArithmeticDecoder(std::string_view in) : in_(in) {
    for (int i = 0; i < 32; i++) value_ = (value_ << 1) | static_cast<uint64_t>(get_bit());
}

int ArithmeticDecoder::get_bit() {
    const size_t byte = bit_pos_ / 8;
    const int bit = byte < in_.size() ? (static_cast<uint8_t>(in_[byte]) >> (7 - bit_pos_ % 8)) & 1 : 0;
    bit_pos_++;
    return bit;
}

uint32_t ArithmeticDecoder::target(uint32_t total) const {
    const uint64_t range = high_ - low_ + 1;
    // low <= value <= high holds for any input, so this is < total
    return static_cast<uint32_t>(((value_ - low_ + 1) * total - 1) / range);
}

void ArithmeticDecoder::consume(uint32_t cum, uint32_t freq, uint32_t total) {
    const uint64_t range = high_ - low_ + 1;
    high_ = low_ + range * (cum + freq) / total - 1;
    low_ = low_ + range * cum / total;
    for (;;) {
        if (high_ < kHalf) {
        } else if (low_ >= kHalf) {
            low_ -= kHalf, high_ -= kHalf, value_ -= kHalf;
        } else if (low_ >= kQuarter && high_ < kThreeQuarters) {
            low_ -= kQuarter, high_ -= kQuarter, value_ -= kQuarter;
        } else {
            break;
        }
        low_ = 2 * low_;
        high_ = 2 * high_ + 1;
        value_ = 2 * value_ + static_cast<uint64_t>(get_bit());
    }
}

}  // namespace lmx
