#include "runtime/stop_filter.hpp"

#include <algorithm>
#include <utility>

namespace lmx {

std::string StopFilter::push(std::string_view text, bool& stopped) {
    pending_ += text;
    size_t cut = std::string::npos;
    for (const std::string& s : stops_) {
        if (s.empty()) continue;
        size_t at = pending_.find(s);
        if (at != std::string::npos && at < cut) cut = at;
    }
    if (cut != std::string::npos) {
        stopped = true;
        std::string out = pending_.substr(0, cut);
        pending_.clear();
        return out;
    }
    size_t keep = 0;  // longest suffix of pending_ that is a prefix of a stop string
    for (const std::string& s : stops_)
        for (size_t n = std::min(s.size() - (s.empty() ? 0 : 1), pending_.size()); n > keep; n--)
            if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) { keep = n; break; }
    std::string out = pending_.substr(0, pending_.size() - keep);
    pending_.erase(0, pending_.size() - keep);
    return out;
}

std::string StopFilter::flush() { return std::exchange(pending_, {}); }

}  // namespace lmx
