#include "cli/progress.hpp"

#include <cstdio>
#include <unistd.h>

namespace lmx::cli {

Progress::Progress(std::string label, size_t total)
    : label_(std::move(label)), total_(total), tty_(::isatty(2) != 0), start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::update(size_t done) {
    if (!tty_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100) && done < total_) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double pct = total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0;
    std::fprintf(stderr, "\r%s: %5.1f%%  %.1f MB/s ", label_.c_str(), pct, secs > 0 ? static_cast<double>(done) / 1e6 / secs : 0.0);
}

void Progress::done() {
    if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace lmx::cli
