#pragma once
// Whether the client of a request still waits for its answer. cpp-httplib 0.11 (Debian 12)
// tells a handler nothing about its connection, and a non-streaming completion writes
// nothing until it is done, so a client that gave up would hold its KV-cache slot to the
// end. The handler runs on the thread that owns the connection and httplib closes it
// only after the handler returns, so the socket found by its two addresses stays ours.
#include <httplib.h>

namespace lmx::server {

class ClientSocket {
public:
    explicit ClientSocket(const httplib::Request& req);  // finds the connection's socket (-1: not found)
    // The client closed or reset the connection: a peek reads end-of-stream or an error.
    // Data it may have sent ahead (a pipelined request) means it is still there.
    bool closed() const;

private:
    int fd_ = -1;
};

}  // namespace lmx::server
