// HttpServer: mockmeta's HTTP/1.1 server on Boost.Asio + Beast, with sockets kept out of sight.
//
// One io_context runs on the thread that calls Run(). Each listener binds an address and port
// (port 0 picks a free one; the bound port is reported) and has its own HttpHandler and name,
// so the IMDS router, a per-instance IMDS port and, later, the control API are just listeners
// with different handlers. Each connection is a session (shared_from_this) that reads one
// request at a time with a read timeout and header/body limits, calls the handler, applies the
// response's directions (delay on an asio timer, drop the connection), writes, and reads the
// next request: keep-alive and pipelined requests are answered in order. A slow or hostile
// client only ever holds its own session. Every response carries `Date` from the injected clock
// (mockmeta's virtual clock) and `Server: mockmeta`. Beast parses requests; responses are
// written by the server itself in one buffer (HEAD: head only), which with a single watchdog
// timer per connection is what lets one thread outpace a one-worker nginx (bench/RESULTS.md).
//
// A listener with an AsyncHttpHandler parks the session until the handler's responder is called
// (from any thread; the response is posted to the io thread).
//
// Errors: limits answer 431 (header) and 413 (body) and close that connection; a malformed
// request answers 400 and closes; a handler that throws answers 500. Nothing escapes a handler.
//
// Hostile clients (docs/security.md, "mockmeta"): every listener has its own connection cap, so a
// flood on one (IMDS) never locks out another (control). An idle keep-alive connection may wait
// `read_timeout` for its next request, but once a request's first bytes are in, the whole request
// must arrive within `request_timeout` (checked by the watchdog, so between one and two of them):
// a slowloris client dribbling header bytes is cut off long before the idle timeout. A
// Transfer-Encoding other than exactly `chunked` answers 400 and closes (RFC 9112 §6.3: the body
// length is unknown, so anything after it could be a smuggled request); HTTP/1.1 without exactly
// one Host answers 400; `Expect: 100-continue` gets `100 Continue` before the body is read.
// Buffers grown by a large request or response are released before the next read, so an idle
// connection holds a few KiB, not the body limit.
//
// Thread-safety: AddListener() and EnableSignalHandling() before Run(); Stop() from any thread
// (or a signal handler set up by EnableSignalHandling). The clock and the handlers must outlive
// the server.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mockmeta/http/http_message.h"

namespace lastcall::mock {

struct HttpServerOptions {
  size_t header_limit = 8 * 1024;                    // bytes of request line + headers; more: 431
  size_t body_limit = 64 * 1024;                     // bytes of body; more: 413
  Duration read_timeout = std::chrono::seconds(30);  // idle keep-alive before a request
  Duration request_timeout = std::chrono::seconds(10);  // a started request (head and body)
  Duration write_timeout = std::chrono::seconds(30);    // a client that does not read
  // Per listener (ListenerSpec::max_connections overrides it): beyond this, new connections to
  // that listener are closed at once.
  size_t max_connections = 1024;
};

struct ListenerSpec {
  std::string name;  // passed to the handler in RequestContext::listener
  std::string address = "127.0.0.1";
  unsigned short port = 0;  // 0: pick a free port
  HttpHandler handler;
  size_t max_connections = 0;  // 0: HttpServerOptions::max_connections
};

struct BoundListener {
  std::string name;
  std::string address;
  unsigned short port = 0;  // the actual port
};

class HttpServer {
 public:
  explicit HttpServer(const Clock& clock, HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens now, so the port is known (and a clash reported) before Run().
  // Errors name the address: "cannot listen on 127.0.0.1:80: Permission denied".
  Result<BoundListener> AddListener(ListenerSpec spec);
  // The same with a handler that may answer later (long polls); spec.handler is ignored.
  Result<BoundListener> AddAsyncListener(ListenerSpec spec, AsyncHttpHandler handler);
  std::vector<BoundListener> listeners() const;

  // SIGINT and SIGTERM stop the server (Run() returns). Registered at once.
  void EnableSignalHandling();

  // Serves until Stop() or a signal. Returns ok, or why it could not run.
  Status Run();
  // Stops accepting and ends Run(); open connections are closed. Safe from any thread, and
  // before Run() (Run() then returns at once).
  void Stop();

  // Connections open right now (for tests and metrics).
  size_t open_connections() const;
  // Blocks until exactly `count` connections are open or `timeout` has passed; whether the count
  // was reached. For tests and tools that must see a connection's end land (safe from any thread).
  bool WaitForOpenConnections(size_t count, Duration timeout) const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace lastcall::mock
