#include "server/client_socket.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace lmx::server {

namespace {

// The numeric address and port of a socket address, as httplib reports them.
bool address_of(const sockaddr_storage& sa, std::string& ip, int& port) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (sa.ss_family == AF_INET) {
        const auto& a = reinterpret_cast<const sockaddr_in&>(sa);
        if (!inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf)) return false;
        port = ntohs(a.sin_port);
    } else if (sa.ss_family == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(sa);
        if (!inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof buf)) return false;
        port = ntohs(a.sin6_port);
    } else {
        return false;
    }
    ip = buf;
    return true;
}

bool matches(int fd, const httplib::Request& req) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
    sockaddr_storage peer{}, local{};
    socklen_t pl = sizeof peer, ll = sizeof local;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) != 0)
        return false;
    std::string pip, lip;
    int pport = -1, lport = -1;
    return address_of(peer, pip, pport) && address_of(local, lip, lport) && pport == req.remote_port &&
           lport == req.local_port && pip == req.remote_addr && lip == req.local_addr;
}

}  // namespace

ClientSocket::ClientSocket(const httplib::Request& req) {
    DIR* d = opendir("/proc/self/fd");
    if (!d) return;
    while (const dirent* e = readdir(d)) {
        char* end = nullptr;
        const long fd = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || fd == dirfd(d)) continue;
        if (matches(static_cast<int>(fd), req)) {
            fd_ = static_cast<int>(fd);
            break;
        }
    }
    closedir(d);
}

bool ClientSocket::closed() const {
    if (fd_ < 0) return false;
    char c;
    const ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

}  // namespace lmx::server
