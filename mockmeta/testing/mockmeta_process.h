// MockmetaProcess: the real mockmeta binary as a child process, for integration tests.
//
// Start() runs it with the given flags (loopback listeners on port 0 are the caller's job), waits
// for the ready JSON line on its stdout (bounded), and parses the addresses. The destructor stops
// it by pid (SIGTERM, then SIGKILL after a grace period), so a failing test never leaves it behind.
// stderr goes to a file in a temporary directory that Stderr() reads. RunMockmetaToExit() runs it
// to completion for the command-line error cases. Spawning and waiting are tests/support's.
//
// Thread-safety: one test thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "mockmeta/testing/test_http_client.h"
#include "tests/support/files.h"

namespace lastcall::testing {

struct Endpoint {
  std::string address;
  unsigned short port = 0;
};
// "127.0.0.1:8100" / "[::1]:8100".
Endpoint ParseEndpoint(const std::string& s);

class MockmetaProcess {
 public:
  static Result<std::unique_ptr<MockmetaProcess>> Start(
      const std::vector<std::string>& args, Duration ready_timeout = std::chrono::seconds(15));
  ~MockmetaProcess();
  MockmetaProcess(const MockmetaProcess&) = delete;
  MockmetaProcess& operator=(const MockmetaProcess&) = delete;

  pid_t pid() const { return pid_; }
  const nlohmann::json& ready() const { return ready_; }
  Endpoint control() const { return ParseEndpoint(ready_["control"]); }
  Endpoint imds() const { return ParseEndpoint(ready_["imds"]); }

  // Sends SIGTERM and waits (bounded); the exit code, or -1 (killed / timed out).
  int Terminate(Duration timeout = std::chrono::seconds(10));
  std::string Stderr() const;

 private:
  MockmetaProcess() = default;
  std::string stderr_path() const;

  TempDir tmp_{"mockmeta"};  // its stderr
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  nlohmann::json ready_ = nlohmann::json::object();  // the ready line, once Start() read it
};

struct ExitResult {
  int exit_code = -1;  // -1: killed after the timeout
  std::string out;
  std::string err;
};
ExitResult RunMockmetaToExit(const std::vector<std::string>& args,
                             Duration timeout = std::chrono::seconds(15));

// One request on a fresh loopback connection; nullopt when no response came.
std::optional<mock::testing::ParsedResponse> Http(const Endpoint& to, const std::string& method,
                                                  const std::string& target,
                                                  const std::string& body = "",
                                                  const mock::HttpHeaders& headers = {},
                                                  Duration timeout = std::chrono::seconds(10));

}  // namespace lastcall::testing
