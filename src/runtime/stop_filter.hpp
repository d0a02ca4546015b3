#pragma once
// Holds back text that might be the start of a stop string, so a stop string is
// never partly printed. Shared by generate() and the Scheduler.
#include <string>
#include <string_view>
#include <vector>

namespace lmx {

class StopFilter {
public:
    explicit StopFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {}

    // Returns the text that is final; sets `stopped` when a stop string was completed
    // (the text before it is returned, the stop string and what follows are dropped).
    std::string push(std::string_view text, bool& stopped);
    std::string flush();  // what was held back, once no stop string can complete any more

private:
    std::vector<std::string> stops_;
    std::string pending_;
};

}  // namespace lmx
