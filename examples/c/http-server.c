/*
 * A small HTTP/1.1 server in portable C: one thread, non-blocking sockets, poll(). Every GET
 * gets the same 612-byte page (the size of the page in nginx's published benchmarks), over
 * keep-alive connections. The same source builds for Linux (`cc -O2 -o http-server
 * http-server.c`) and for Rivet (`rivet-cc -O2 -o http-server http-server.c`, or
 * `cargo xtask run --example c/http-server --net user,hostfwd=8080`).
 *
 * Usage: http-server [PORT] (default 80). Prints "http-server: listening on port PORT".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 256
#define HEAD_LIMIT 8192

static char page[612];

struct client {
    int fd;
    size_t used;
    char head[HEAD_LIMIT];
};

static struct client clients[MAX_CLIENTS];

static void make_page(void)
{
    const char *start = "<!DOCTYPE html>\n<html>\n<head><title>Hello from C</title></head>\n"
                        "<body>\n<h1>Hello from C</h1>\n<p>Served by http-server.c, one "
                        "source for Linux and Rivet.</p>\n";
    const char *end = "</body>\n</html>\n";
    size_t n = strlen(start), m = strlen(end);
    memset(page, ' ', sizeof page);
    memcpy(page, start, n);
    memcpy(page + sizeof page - m, end, m);
    page[sizeof page - m - 1] = '\n';
}

static int nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Writes all of buf, waiting with poll when the socket is full; -1 on error. */
static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            if (poll(&p, 1, 10000) <= 0)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

static void drop_client(struct client *c)
{
    close(c->fd);
    c->fd = -1;
    c->used = 0;
}

/* Answers every complete request in c's buffer; returns 0 to keep the connection. */
static int serve(struct client *c)
{
    char *end;
    while (c->used >= 4 && (end = memmem(c->head, c->used, "\r\n\r\n", 4)) != NULL) {
        size_t request = (size_t)(end - c->head) + 4;
        int close_after = memmem(c->head, request, "Connection: close", 17) != NULL;
        char reply[256];
        int n;
        if (strncmp(c->head, "GET ", 4) == 0) {
            n = snprintf(reply, sizeof reply,
                         "HTTP/1.1 200 OK\r\nServer: rivet-c\r\nContent-Type: text/html\r\n"
                         "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
                         sizeof page, close_after ? "close" : "keep-alive");
            if (send_all(c->fd, reply, (size_t)n) < 0 || send_all(c->fd, page, sizeof page) < 0)
                return -1;
        } else {
            n = snprintf(reply, sizeof reply, "HTTP/1.1 405 Method Not Allowed\r\n"
                                              "Content-Length: 0\r\nConnection: close\r\n\r\n");
            send_all(c->fd, reply, (size_t)n);
            return -1;
        }
        memmove(c->head, c->head + request, c->used - request);
        c->used -= request;
        if (close_after)
            return -1;
    }
    if (c->used == sizeof c->head) {
        const char *bad = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        send_all(c->fd, bad, strlen(bad));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 80;
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "http-server: %s: not a port number\n", argv[1]);
        return 2;
    }
    make_page();
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) < 0 ||
        listen(listener, 128) < 0 || nonblocking(listener) < 0) {
        perror("http-server: listen");
        return 1;
    }
    printf("http-server: listening on port %d\n", port);
    fflush(stdout);
    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
    struct pollfd polled[MAX_CLIENTS + 1];
    for (;;) {
        int n = 0;
        polled[n++] = (struct pollfd){ .fd = listener, .events = POLLIN };
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (clients[i].fd >= 0)
                polled[n++] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
        if (poll(polled, (nfds_t)n, -1) < 0) {
            perror("http-server: poll");
            return 1;
        }
        if (polled[0].revents & POLLIN) {
            for (;;) {
                int fd = accept(listener, NULL, NULL);
                if (fd < 0)
                    break;
                int slot = -1;
                for (int i = 0; i < MAX_CLIENTS && slot < 0; i++)
                    if (clients[i].fd < 0)
                        slot = i;
                if (slot < 0 || nonblocking(fd) < 0) {
                    close(fd);
                    continue;
                }
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                clients[slot].fd = fd;
                clients[slot].used = 0;
            }
        }
        for (int k = 1; k < n; k++) {
            if (!(polled[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            struct client *c = NULL;
            for (int i = 0; i < MAX_CLIENTS; i++)
                if (clients[i].fd == polled[k].fd)
                    c = &clients[i];
            if (c == NULL)
                continue;
            ssize_t got = read(c->fd, c->head + c->used, sizeof c->head - c->used);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                drop_client(c);
                continue;
            }
            if (got > 0) {
                c->used += (size_t)got;
                if (serve(c) < 0)
                    drop_client(c);
            }
        }
    }
}
