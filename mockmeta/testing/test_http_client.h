// TestConnection: a deliberately small HTTP/1.1 client over a raw loopback socket, for the
// server's integration tests. Raw, so tests can do what a polite client library would not:
// pipeline requests in one write, stall half-way through a header, watch for a close without a
// response. Only understands responses with Content-Length (mockmeta always sends it).
//
// Thread-safety: one connection per thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "mockmeta/http/http_message.h"

namespace lastcall::mock::testing {

struct ParsedResponse {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  HttpHeaders headers;
  std::string body;
  const std::string* Header(std::string_view name) const;
};

class TestConnection {
 public:
  // Connects to a loopback address ("127.0.0.1" or "::1").
  static Result<std::unique_ptr<TestConnection>> Connect(const std::string& address,
                                                         unsigned short port);
  ~TestConnection();
  TestConnection(const TestConnection&) = delete;
  TestConnection& operator=(const TestConnection&) = delete;

  bool Send(std::string_view bytes);
  // One response, in order; nullopt on close, error or timeout. A response to HEAD (`to_head`)
  // has a Content-Length but no body.
  std::optional<ParsedResponse> ReadResponse(Duration timeout = std::chrono::seconds(5),
                                             bool to_head = false);

  enum class Outcome { kClosed, kData, kTimeout };
  // Waits for the peer to close (EOF or reset). kData if bytes arrive first.
  Outcome WaitForClose(Duration timeout);
  // Whether any bytes are readable right now (without waiting).
  bool HasData();

 private:
  explicit TestConnection(int fd) : fd_(fd) {}
  // Appends what arrives within `timeout`; false on EOF/error/timeout.
  bool Fill(Duration timeout);

  int fd_;
  std::string buffer_;
};

// "GET <target> HTTP/1.1\r\nHost: mockmeta\r\n<headers>\r\n".
std::string MakeRequest(std::string_view method, std::string_view target,
                        const HttpHeaders& headers = {}, std::string_view body = {});

}  // namespace lastcall::mock::testing
