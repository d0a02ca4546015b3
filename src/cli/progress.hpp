#pragma once
// A one-line progress indicator on stderr for long work; silent when stderr is not a terminal.
#include <chrono>
#include <cstddef>
#include <string>

namespace lmx::cli {

class Progress {
public:
    Progress(std::string label, size_t total);
    void update(size_t done);
    void done();

private:
    std::string label_;
    size_t total_;
    bool tty_;
    std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace lmx::cli
