// HttpRequest / HttpResponse: the plain values that mockmeta's routers see instead of sockets.
//
// The server (http_server.cc, the one translation unit that includes Boost.Beast) parses a
// request into an HttpRequest, calls the listener's HttpHandler, and writes the HttpResponse
// back. Routers are therefore pure functions that compile fast and are unit-tested without a
// network. A response may also ask the session to wait before answering (latency faults) or
// to close the connection without answering (dropped-connection faults); the session applies
// those, the router only decides them.
//
// Thread-safety: plain values. An HttpHandler is called on the server's io thread(s); a handler
// shared by several threads must synchronise its own state.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace lastcall::mock {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "PUT", ... as sent
  std::string target;  // the request target as sent: "/latest/meta-data/?x=1"
  std::string path;    // target up to '?', not decoded
  std::string query;   // after '?', without it; empty when none
  HttpHeaders headers;
  std::string body;
  int version = 11;  // 10 or 11
  bool keep_alive = true;

  // The first value of header `name` (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const { return Header(name) != nullptr; }

  // Builds a request from a method and target (splitting path and query); for tests and tools.
  static HttpRequest Make(std::string method, std::string target, HttpHeaders headers = {},
                          std::string body = {});
};

struct HttpResponse {
  int status = 200;
  // Content-Type, Content-Length, Date, Server and Connection are set by the server; a handler
  // may set Content-Type here (default text/plain).
  std::string content_type = "text/plain";
  HttpHeaders headers;
  std::string body;

  // Directions for the session, never put on the wire:
  Duration delay{0};             // answer only after this long (an asio timer, not a sleep)
  bool drop_connection = false;  // close the connection without answering
  bool close = false;            // answer, then close (Connection: close)

  const std::string* Header(std::string_view name) const;
  HttpResponse& SetHeader(std::string name, std::string value);

  static HttpResponse Text(int status, std::string body);
  static HttpResponse Json(int status, std::string body);
};

// Where a request came in: which listener (its configured name) and from whom.
struct RequestContext {
  std::string listener;      // e.g. "imds", "i-0abc", "control"
  std::string peer_address;  // "127.0.0.1", "::1"
  unsigned short peer_port = 0;
};

// A listener's handler. It must not throw; if it does, the server answers 500 and logs nothing
// more specific than the exception's what().
using HttpHandler = std::function<HttpResponse(const HttpRequest&, const RequestContext&)>;

// Completes a parked request (see AsyncHttpHandler). Call it at most once, from any thread, while
// the server exists; after HttpServer::Stop() the call is ignored (the connection is closed).
using HttpResponder = std::function<void(HttpResponse)>;
// A handler that may answer later: it either calls the responder before returning, or keeps it
// and calls it from another thread or timer (a long poll). Until then the connection waits (no
// read timeout); the session is kept alive by the responder. Must not throw.
using AsyncHttpHandler =
    std::function<void(const HttpRequest&, const RequestContext&, HttpResponder)>;

// The reason phrase for a status code ("Not Found"); "Unknown" for codes it does not know.
std::string_view HttpReason(int status);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace lastcall::mock
