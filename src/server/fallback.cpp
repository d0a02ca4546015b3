#include "server/fallback.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/error.hpp"
#include "server/api.hpp"

namespace lmx::server {

namespace {

// The upstream's answer, from the thread reading it to the one writing ours.
struct Pipe {
    std::mutex mu;
    std::condition_variable cv;
    std::string buffered;
    bool has_headers = false, finished = false, abandoned = false;
    int status = 0;
    std::string content_type, error;
    std::shared_ptr<httplib::Client> client;
    std::thread reader;
};

}  // namespace

Fallback::Fallback(const std::string& url, std::string key) : url_(url), key_(std::move(key)) {
    const size_t scheme_end = url.find("://");
    if (scheme_end == std::string::npos || (url.compare(0, scheme_end, "http") != 0 && url.compare(0, scheme_end, "https") != 0))
        fail("--fallback-url must look like http(s)://host[:port][/base], got '", url, "'");
    const size_t path_at = url.find('/', scheme_end + 3);
    origin_ = url.substr(0, path_at);
    base_ = path_at == std::string::npos ? "" : url.substr(path_at);
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    if (origin_.size() <= scheme_end + 3) fail("--fallback-url has no host: '", url, "'");
}

void Fallback::forward(const httplib::Request& req, httplib::Response& res, std::shared_ptr<void> in_flight) const {
    auto pipe = std::make_shared<Pipe>();
    pipe->client = std::make_shared<httplib::Client>(origin_);
    pipe->client->set_connection_timeout(10);
    pipe->client->set_read_timeout(600);
    const std::string path = base_ + (req.path.rfind("/v1", 0) == 0 ? req.path.substr(3) : req.path);
    httplib::Headers headers = {{"Content-Type", "application/json"}, {"Accept", req.get_header_value("Accept")}};
    if (!key_.empty()) headers.emplace("Authorization", "Bearer " + key_);
    pipe->reader = std::thread([pipe, path, headers, body = req.body] {
        httplib::Request up;
        up.method = "POST";
        up.path = path;
        up.headers = headers;
        up.body = body;
        up.response_handler = [pipe](const httplib::Response& r) {
            std::lock_guard lock(pipe->mu);
            pipe->status = r.status;
            pipe->content_type = r.get_header_value("Content-Type");
            pipe->has_headers = true;
            pipe->cv.notify_all();
            return !pipe->abandoned;
        };
        up.content_receiver = [pipe](const char* data, size_t n, uint64_t, uint64_t) {
            std::lock_guard lock(pipe->mu);
            if (pipe->abandoned) return false;
            pipe->buffered.append(data, n);
            pipe->cv.notify_all();
            return true;
        };
        httplib::Response answer;
        httplib::Error err = httplib::Error::Success;
        const bool ok = pipe->client->send(up, answer, err);
        std::lock_guard lock(pipe->mu);
        if (!ok) pipe->error = httplib::to_string(err);
        pipe->finished = true;
        pipe->cv.notify_all();
    });
    {
        std::unique_lock lock(pipe->mu);
        pipe->cv.wait(lock, [&] { return pipe->has_headers || pipe->finished; });
        if (!pipe->has_headers) {
            const std::string error = pipe->error;
            lock.unlock();
            pipe->reader.join();
            throw ApiError(502, "the fallback " + url_ + " did not answer (" + error + ")", "server_error", "fallback_unreachable");
        }
        res.status = pipe->status;
    }
    res.set_header("X-Lmx-Served-By", "fallback");
    const std::string type = pipe->content_type.empty() ? "application/json" : pipe->content_type;
    res.set_chunked_content_provider(
        type,
        [pipe](size_t, httplib::DataSink& sink) {
            for (;;) {
                std::string data;
                bool finished;
                {
                    std::unique_lock lock(pipe->mu);
                    pipe->cv.wait(lock, [&] { return !pipe->buffered.empty() || pipe->finished; });
                    data.swap(pipe->buffered);
                    finished = pipe->finished;
                }
                if (!data.empty() && !sink.write(data.data(), data.size())) return false;
                if (finished) {
                    sink.done();
                    return true;
                }
            }
        },
        [pipe, in_flight](bool) {
            {
                std::lock_guard lock(pipe->mu);
                pipe->abandoned = true;
            }
            pipe->client->stop();
            pipe->reader.join();
        });
}

}  // namespace lmx::server
