#include "tests/support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <string_view>
#include <utility>

#include "tests/support/files.h"

namespace lastcall::testing {
namespace {

// NUL-terminated pointers into `strings` (which must outlive them), for exec.
std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The variable name of an environment entry ("NAME=value", or a bare "NAME").
std::string_view NameOf(std::string_view entry) { return entry.substr(0, entry.find('=')); }

// True when `entry` ("NAME=value") names a variable one of `env` sets or removes.
bool Overridden(const std::vector<std::string>& env, std::string_view entry) {
  const std::string_view name = NameOf(entry);
  return std::any_of(env.begin(), env.end(),
                     [&](const std::string& e) { return NameOf(e) == name; });
}

// The child's environment: `env`'s settings (not its bare names, which remove a variable), then
// what it inherits from ours.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  for (const std::string& e : env) {
    if (e.find('=') != std::string::npos) out.push_back(e);
  }
  for (char** inherited = environ; *inherited != nullptr; ++inherited) {
    if (!Overridden(env, *inherited)) out.emplace_back(*inherited);
  }
  return out;
}

// `prefix` and `pid` in decimal into `out` (room for 32 bytes), NUL-terminated; no allocation,
// so it is safe between fork and exec.
void FormatPid(const char* prefix, pid_t pid, char* out) {
  while (*prefix != '\0') *out++ = *prefix++;
  char digits[16];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid > 0);
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

// Opens `path` for a child's output (close-on-exec: the child gets it through dup2 only).
int OpenOutput(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

// Output in <dir>/stdout-<n> and <dir>/stderr-<n>; n counts the Childs of this process, so
// two Childs in one directory never share a file.
ChildOutput NumberedOutput(const std::string& dir) {
  static std::atomic<int> counter{0};
  const std::string n = std::to_string(++counter);
  return {dir + "/stdout-" + n, dir + "/stderr-" + n};
}

}  // namespace

pid_t Spawn(std::vector<std::string> args, const SpawnOptions& options) {
  // argv and the environment are built before fork: the child only dups and execs.
  std::vector<char*> argv = Pointers(args);
  std::vector<std::string> env = ChildEnvironment(options.env);
  // "WATCHDOG_PID=<the child's own pid>" is known only in the child; it fills this slot.
  std::string watchdog_pid(32, '\0');
  if (options.watchdog_pid) env.insert(env.begin(), "WATCHDOG_PID=");
  std::vector<char*> envp = Pointers(env);
  if (options.watchdog_pid) envp.front() = watchdog_pid.data();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (options.stdout_fd >= 0) ::dup2(options.stdout_fd, STDOUT_FILENO);
    if (options.stderr_fd >= 0) ::dup2(options.stderr_fd, STDERR_FILENO);
    if (options.watchdog_pid) FormatPid("WATCHDOG_PID=", ::getpid(), watchdog_pid.data());
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

std::optional<int> WaitChildExit(pid_t pid, std::chrono::milliseconds limit) noexcept {
  const auto end = std::chrono::steady_clock::now() + limit;
  // syscall(2), not pidfd_open(3): Debian 12's <sys/pidfd.h> lacks extern "C" (glibc 2.36).
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    // Until the child exits or the bound passes: poll's millisecond timeout may end a little
    // before `end` on the steady clock, and a signal may cut it short; both wait again.
    for (;;) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), INT_MAX)));
      if (r > 0 || (r < 0 && errno != EINTR)) break;
    }
    ::close(fd);
  }
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return status;
  if (r < 0) return -1;
  return std::nullopt;
}

int ExitCode(int wait_status) noexcept {
  if (wait_status == -1) return 255;
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

void KillAndReap(pid_t pid) noexcept {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

std::optional<int> TerminateChild(pid_t pid, std::chrono::milliseconds grace) noexcept {
  ::kill(pid, SIGTERM);
  const std::optional<int> status = WaitChildExit(pid, grace);
  if (!status) KillAndReap(pid);
  return status;
}

bool ProcessAlive(pid_t pid) {
  // read(2), not iostreams: reading the stat of a process that is exiting fails with ESRCH.
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  const std::string_view stat(buf, static_cast<size_t>(n));
  const size_t paren = stat.rfind(')');
  if (paren == std::string_view::npos || paren + 2 >= stat.size()) return false;
  const char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

Child::Child(std::vector<std::string> args, std::vector<std::string> env, const std::string& dir,
             bool watchdog_for_child)
    : Child(std::move(args), std::move(env), NumberedOutput(dir), watchdog_for_child) {}

Child::Child(std::vector<std::string> args, std::vector<std::string> env, ChildOutput output,
             bool watchdog_for_child)
    : output_(std::move(output)) {
  const int out = OpenOutput(output_.stdout_path);
  const int err = OpenOutput(output_.stderr_path);
  pid_ = Spawn(std::move(args), {std::move(env), out, err, watchdog_for_child});
  if (out >= 0) ::close(out);
  if (err >= 0) ::close(err);
}

Child::~Child() {
  if (pid_ > 0 && !exited_) KillAndReap(pid_);
}

void Child::Signal(int sig) {
  if (pid_ > 0 && !exited_) ::kill(pid_, sig);
}

int Child::Wait(std::chrono::milliseconds limit) {
  if (exited_) return code_;
  if (pid_ <= 0) {  // fork failed: waitpid(-1) would reap any child of ours
    exited_ = true;
    code_ = 255;
    return code_;
  }
  const std::optional<int> status = WaitChildExit(pid_, limit);
  if (!status) return -1;
  exited_ = true;
  code_ = ExitCode(*status);
  return code_;
}

bool Child::Running() { return !exited_ && Wait(std::chrono::milliseconds(0)) == -1; }

int Child::Stop(std::chrono::milliseconds grace) {
  if (exited_) return code_;
  Signal(SIGTERM);
  const int code = Wait(grace);
  if (code != -1) return code;
  Kill();
  return -1;
}

void Child::Kill() {
  if (pid_ <= 0 || exited_) return;
  KillAndReap(pid_);
  exited_ = true;
  code_ = 128 + SIGKILL;
}

std::string Child::Stdout() const { return ReadFile(output_.stdout_path); }
std::string Child::Stderr() const { return ReadFile(output_.stderr_path); }

}  // namespace lastcall::testing
