// TestHttpServer: a scripted loopback HTTP/1.1 server for tests.
//
// It plays a metadata service (or anything else that speaks simple HTTP) for integration
// tests: a test scripts a response per method and path, runs the code under test against
// url(), and then checks what the server received. It binds 127.0.0.1 on a port the kernel
// picks (never a fixed port, never a non-loopback address) and serves on a thread of its own,
// so the code under test can block on it.
//
//   lastcall::testing::TestHttpServer server;
//   server.Set("GET", "/latest/meta-data/instance-id", TestResponse::Text("i-0abc"));
//   server.Set("GET", "/slow", TestResponse::Text("late").WithDelay(std::chrono::seconds(5)));
//   server.Set("GET", "/gone", TestResponse::Drop());   // close without answering
//   server.SetHandler("PUT", "/latest/api/token", [](const RecordedRequest& r) { ... });
//   ... client.Get(server.url() + "/latest/meta-data/instance-id") ...
//   EXPECT_EQ(server.RequestCount("GET", "/latest/meta-data/instance-id"), 1);
//
// Routing is by exact method and path (the query string is ignored for matching and kept in
// RecordedRequest::target). Unrouted requests get the default response (404, an XHTML body
// like the real IMDS). Every response carries Content-Length and, unless SetDate says
// otherwise, a Date header with the real time.
// Connections are kept alive (HTTP/1.1) unless the client sends "Connection: close" or the
// script says close_connection; each accepted connection gets a number so tests can assert
// that many requests shared one connection.
//
// Limits: request head 16 KiB, body 64 KiB; a bigger request gets 431/413 and the connection
// is closed. Handlers run on the server thread: keep them short, and do not call Stop() from
// one. A delayed response does not block other connections.
//
// Thread-safety: every public method may be called from any thread while the server runs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace lastcall::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct TestResponse {
  int status = 200;
  Headers headers;  // extra headers; Content-Length and Date are added by the server
  std::string body;
  // Wait this long before answering (a hang longer than the client's timeout tests timeouts).
  std::chrono::milliseconds delay{0};
  // Close the connection without answering (the client sees an empty reply or a reset).
  bool drop = false;
  // Answer, then close the connection ("Connection: close").
  bool close_connection = false;

  // Builders, so scripts read as one line:
  //   TestResponse::Text("i-0abc"), TestResponse::Status(503),
  //   TestResponse::Text("tok").WithHeader("X-aws-ec2-metadata-token-ttl-seconds", "60"),
  //   TestResponse::Text("late").WithDelay(std::chrono::seconds(5)), TestResponse::Drop().
  static TestResponse Text(std::string body, int status = 200);
  static TestResponse Status(int status, std::string body = "");
  static TestResponse Drop();
  TestResponse& WithHeader(std::string name, std::string value);
  TestResponse& WithDelay(std::chrono::milliseconds d);
  TestResponse& WithClose();
};

struct RecordedRequest {
  std::string method;
  std::string target;  // as sent: path plus query
  std::string path;    // target without the query
  Headers headers;     // names as sent
  std::string body;
  int connection = 0;  // 1 for the first accepted connection, 2 for the next, ...

  // The first header of that name (case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

using TestHandler = std::function<TestResponse(const RecordedRequest&)>;

class TestHttpServer {
 public:
  // Binds 127.0.0.1:0 and starts serving. Throws std::system_error if it cannot bind (the
  // test then fails with that message).
  TestHttpServer();
  // Stops and joins the server thread; open connections are closed.
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  // "http://127.0.0.1:PORT" (no trailing slash).
  std::string url() const;
  uint16_t port() const;

  // Scripts the answer to `method` `path` (replacing an earlier one).
  void Set(const std::string& method, const std::string& path, TestResponse response);
  // Answers `method` `path` by calling `handler` (on the server thread) for each request.
  void SetHandler(const std::string& method, const std::string& path, TestHandler handler);
  // Answers the next `count` requests to `method` `path` with `response`, then falls back to
  // the route set with Set / SetHandler (or the default). For "fail twice, then work".
  void SetNext(const std::string& method, const std::string& path, const TestResponse& response,
               int count = 1);
  void Remove(const std::string& method, const std::string& path);
  // The answer to unrouted requests; default 404 with a small XHTML body.
  void SetDefault(TestResponse response);

  // The Date header: the real time by default; a fixed time after SetDate(t); no Date header
  // at all after SetDate(std::nullopt).
  void SetDate(std::optional<WallTime> date);
  void UseRealDate();

  std::vector<RecordedRequest> Requests() const;
  size_t RequestCount(const std::string& method, const std::string& path) const;
  void ClearRequests();
  int ConnectionsAccepted() const;
  // Waits until at least `n` requests have been received; false on timeout.
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout) const;
  // Waits until at least `n` requests to `method` `path` have been received; false on timeout.
  // For tests that drive another process (lastcalld) and wait for it to poll.
  bool WaitForRequests(const std::string& method, const std::string& path, size_t n,
                       std::chrono::milliseconds timeout) const;

  // Stops serving and closes the listening socket, so later connects are refused
  // (idempotent); the destructor calls it.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Scripts `server` as an EC2 instance's IMDS before any notice: an IMDSv2 token (TTL 6 h), the
// identity (`instance_id`, an m5.large in us-east-1a) and no scheduled maintenance. Paths not
// scripted stay 404, as for an instance without a notice.
void ServeAwsIdentity(TestHttpServer& server, const std::string& instance_id);

}  // namespace lastcall::testing
