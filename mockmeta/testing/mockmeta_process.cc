#include "mockmeta/testing/mockmeta_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>

#include "tests/support/child_process.h"
#include "tests/support/test_env.h"

namespace lastcall::testing {
namespace {

std::string MakeTempFile(const char* stem) {
  std::string tmpl = std::string("/tmp/") + stem + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkstemp(buf.data());
  if (fd >= 0) ::close(fd);
  return std::string(buf.data());
}

// fork + exec of mockmeta with stdout to a pipe (or file) and stderr to a file.
pid_t Spawn(const std::vector<std::string>& args, int stdout_fd, const std::string& stderr_path) {
  std::vector<std::string> argv_s = {MockmetaBin()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_s.size() + 1);
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(stdout_fd, STDOUT_FILENO);
    int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (err >= 0) ::dup2(err, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// The child's exit code, -1 (killed by a signal, or no child of ours) or -2 (still running
// after `timeout`).
int WaitExit(pid_t pid, Duration timeout) noexcept {
  const std::optional<int> status =
      WaitChildExit(pid, std::chrono::ceil<std::chrono::milliseconds>(timeout));
  if (!status) return -2;
  return *status != -1 && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

void KillAndReap(pid_t pid) noexcept {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
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
  if (::pipe(fds) != 0) return Internal("pipe failed");
  std::unique_ptr<MockmetaProcess> p(new MockmetaProcess());
  p->stderr_path_ = MakeTempFile("mockmeta-stderr");
  p->pid_ = Spawn(args, fds[1], p->stderr_path_);
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
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (WaitExit(pid_, std::chrono::seconds(5)) == -2) KillAndReap(pid_);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  if (!stderr_path_.empty()) ::unlink(stderr_path_.c_str());
}

int MockmetaProcess::Terminate(Duration timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int code = WaitExit(pid_, timeout);
  if (code == -2) {
    KillAndReap(pid_);
    code = -1;
  }
  pid_ = -1;
  return code;
}

std::string MockmetaProcess::Stderr() const { return ReadFile(stderr_path_); }

ExitResult RunMockmetaToExit(const std::vector<std::string>& args, Duration timeout) {
  ExitResult r;
  const std::string out_path = MakeTempFile("mockmeta-stdout");
  const std::string err_path = MakeTempFile("mockmeta-stderr");
  int out = ::open(out_path.c_str(), O_WRONLY | O_TRUNC);
  pid_t pid = Spawn(args, out, err_path);
  ::close(out);
  if (pid > 0) {
    r.exit_code = WaitExit(pid, timeout);
    if (r.exit_code == -2) {
      KillAndReap(pid);
      r.exit_code = -1;
    }
  }
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
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
