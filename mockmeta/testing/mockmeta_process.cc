#include "mockmeta/testing/mockmeta_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <utility>

#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/test_env.h"

namespace lastcall::testing {
namespace {

// mockmeta with `args`, its stdout to `stdout_fd` and its stderr to `stderr_path`.
pid_t SpawnMockmeta(const std::vector<std::string>& args, int stdout_fd,
                    const std::string& stderr_path) {
  std::vector<std::string> argv = {MockmetaBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  SpawnOptions options;
  options.stdout_fd = stdout_fd;
  options.stderr_fd = err;
  const pid_t pid = Spawn(std::move(argv), options);
  if (err >= 0) ::close(err);
  return pid;
}

// SIGTERM, then at most `grace` before SIGKILL: the exit code, or -1 (killed by a signal, by us
// after the grace, or no child of ours).
int TerminateMockmeta(pid_t pid, Duration grace) noexcept {
  const std::optional<int> status =
      TerminateChild(pid, std::chrono::ceil<std::chrono::milliseconds>(grace));
  return status && *status != -1 && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

}  // namespace

Endpoint ParseEndpoint(const std::string& s) {
  size_t colon = s.rfind(':');
  std::string host = s.substr(0, colon);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, static_cast<unsigned short>(std::stoi(s.substr(colon + 1)))};
}

Result<std::unique_ptr<MockmetaProcess>> MockmetaProcess::Start(
    const std::vector<std::string>& args, Duration ready_timeout) {
  int fds[2];
  // Close-on-exec: the child gets the write end as its stdout only.
  if (::pipe2(fds, O_CLOEXEC) != 0) return Internal("pipe failed");
  std::unique_ptr<MockmetaProcess> p(new MockmetaProcess());
  p->pid_ = SpawnMockmeta(args, fds[1], p->stderr_path());
  ::close(fds[1]);
  p->stdout_fd_ = fds[0];
  if (p->pid_ < 0) return Internal("fork failed");

  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Timeout("mockmeta printed no ready line; stderr: " + p->Stderr());
    }
    pollfd pfd{p->stdout_fd_, POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (n <= 0) continue;
    char buf[4096];
    ssize_t got = ::read(p->stdout_fd_, buf, sizeof buf);
    if (got <= 0) return Unavailable("mockmeta exited before it was ready; stderr: " + p->Stderr());
    line.append(buf, static_cast<size_t>(got));
  }
  try {
    p->ready_ = nlohmann::json::parse(line.substr(0, line.find('\n')));
  } catch (const std::exception& e) {
    return DataLoss("ready line is not JSON: " + line);
  }
  return p;
}

MockmetaProcess::~MockmetaProcess() {
  if (pid_ > 0) TerminateMockmeta(pid_, std::chrono::seconds(5));
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

int MockmetaProcess::Terminate(Duration timeout) {
  if (pid_ <= 0) return -1;
  const int code = TerminateMockmeta(pid_, timeout);
  pid_ = -1;
  return code;
}

std::string MockmetaProcess::stderr_path() const { return tmp_ / "stderr"; }
std::string MockmetaProcess::Stderr() const { return ReadFile(stderr_path()); }

ExitResult RunMockmetaToExit(const std::vector<std::string>& args, Duration timeout) {
  ExitResult r;
  const TempDir tmp("mockmeta-run");
  const int out = ::open((tmp / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const pid_t pid = SpawnMockmeta(args, out, tmp / "stderr");
  if (out >= 0) ::close(out);
  if (pid > 0) {
    const std::optional<int> status =
        WaitChildExit(pid, std::chrono::ceil<std::chrono::milliseconds>(timeout));
    if (!status) KillAndReap(pid);
    r.exit_code = status && *status != -1 && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }
  r.out = ReadFile(tmp / "stdout");
  r.err = ReadFile(tmp / "stderr");
  return r;
}

std::optional<mock::testing::ParsedResponse> Http(const Endpoint& to, const std::string& method,
                                                  const std::string& target,
                                                  const std::string& body,
                                                  const mock::HttpHeaders& headers,
                                                  Duration timeout) {
  auto conn = mock::testing::TestConnection::Connect(to.address, to.port);
  if (!conn.ok()) return std::nullopt;
  if (!(*conn)->Send(mock::testing::MakeRequest(method, target, headers, body))) {
    return std::nullopt;
  }
  return (*conn)->ReadResponse(timeout);
}

}  // namespace lastcall::testing
