#include "agent/actions/hook_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "agent/base/log.h"
#include "common/files.h"
#include "common/time_format.h"

namespace lastcall {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// A line longer than this is logged in pieces: one log record must stay small.
constexpr size_t kMaxLine = 4096;
// How often the loop looks at the child and the clock when no output arrives.
constexpr int kSliceMs = 20;

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Reads /proc/<pid>/stat with plain read(2). No iostreams here: reading the file of a process
// that exits during the read fails with ESRCH, which libstdc++ turns into an exception.
bool ReadProcStat(const char* pid, char* buf, size_t size, size_t* len) {
  char path[300];  // d_name is at most 255 bytes
  std::snprintf(path, sizeof path, "/proc/%s/stat", pid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n;
  do {
    n = ::read(fd, buf, size - 1);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n <= 0) return false;
  *len = static_cast<size_t>(n);
  buf[*len] = '\0';
  return true;
}

// Whether any process of group `pgid` is still alive. Zombies do not count: an orphaned
// grandchild is reaped by init (or whatever PID 1 is), not by us.
bool GroupHasLiveMembers(pid_t pgid) {
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return ::kill(-pgid, 0) == 0;
  bool alive = false;
  char stat[1024];
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    size_t len = 0;
    if (!ReadProcStat(e->d_name, stat, sizeof stat, &len)) continue;
    // "pid (comm) state ppid pgrp ..."; comm may contain anything, so parse after the last ')'.
    const char* paren = std::strrchr(stat, ')');
    if (paren == nullptr) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (std::sscanf(paren + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') {
      alive = true;
      break;
    }
  }
  ::closedir(d);
  return alive;
}

// Splits a stream into log lines under a shared byte budget.
class OutputLogger {
 public:
  OutputLogger(const HookRunRequest& r, size_t budget)
      : fields_{{"HOOK", r.hook.name},
                {"PHASE", std::string(HookPhaseName(r.hook.phase))},
                {"NOTICE_ID", r.notice.id}},
        budget_(budget) {}

  void Append(int stream, const char* data, size_t n) {
    std::string& buf = buffers_[stream];
    buf.append(data, n);
    size_t start = 0;
    for (;;) {
      size_t nl = buf.find('\n', start);
      if (nl == std::string::npos) {
        if (buf.size() - start >= kMaxLine) {
          Emit(stream, buf.substr(start, kMaxLine));
          start += kMaxLine;
          continue;
        }
        break;
      }
      Emit(stream, buf.substr(start, nl - start));
      start = nl + 1;
    }
    buf.erase(0, start);
  }

  void Flush() {
    for (int s = 0; s < 2; ++s) {
      if (!buffers_[s].empty()) Emit(s, buffers_[s]);
      buffers_[s].clear();
    }
  }

 private:
  void Emit(int stream, std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (truncated_) return;
    if (used_ + line.size() > budget_) {
      truncated_ = true;
      Log(LogPriority::kWarning,
          "hook output truncated after " + std::to_string(budget_) + " bytes", fields_);
      return;
    }
    used_ += line.size() + 1;
    LogFields fields = fields_;
    fields.emplace_back("STREAM", stream == 0 ? "stdout" : "stderr");
    Log(stream == 0 ? LogPriority::kInfo : LogPriority::kNotice, line, fields);
  }

  LogFields fields_;
  size_t budget_;
  size_t used_ = 0;
  bool truncated_ = false;
  std::string buffers_[2];
};

}  // namespace

std::string HookResult::Name() const {
  switch (outcome) {
    case Outcome::kExited:
      return exit_code == 0 ? "ok" : "exit-" + std::to_string(exit_code);
    case Outcome::kSignaled:
      return "signal-" + std::to_string(signal);
    case Outcome::kTimedOut:
      return "timeout";
    case Outcome::kStartFailed:
      return "start-failed";
    case Outcome::kAborted:
      return "aborted";
  }
  return "unknown";
}

std::vector<std::string> HookRunner::BuildEnvironment(const HookRunRequest& r) {
  const Notice& n = r.notice;
  std::map<std::string, std::string> env;
  env["PATH"] = kDefaultPath;
  // The hook's own env may set PATH and anything else, but not the contract variables.
  for (const auto& [k, v] : r.hook.env) env[k] = v;
  env["LASTCALL_PHASE"] = std::string(HookPhaseName(r.hook.phase));
  env["LASTCALL_PROVIDER"] = n.provider;
  env["LASTCALL_NOTICE_ID"] = n.id;
  env["LASTCALL_NOTICE_KIND"] = std::string(NoticeKindName(n.kind));
  env["LASTCALL_ACTION"] = n.action;
  env["LASTCALL_DEADLINE"] = n.deadline ? FormatRfc3339(*n.deadline) : "";
  env["LASTCALL_DEADLINE_UNIX"] = n.deadline ? std::to_string(ToUnixSeconds(*n.deadline)) : "";
  // The time the phases work toward (a maintenance window's end once inside it); none for
  // resume, which undoes work after the notice went away and has no deadline (docs/hooks.md).
  std::optional<WallTime> end = r.effective_deadline ? r.effective_deadline : n.deadline;
  std::string left;
  if (end && r.hook.phase != HookPhase::kResume) {
    auto secs = std::chrono::floor<std::chrono::seconds>(*end - r.now).count();
    left = std::to_string(secs < 0 ? 0 : secs);
  }
  env["LASTCALL_SECONDS_LEFT"] = left;
  // The hook's own budget (min of its timeout and the time left less the safety margin), so a
  // hook can give up cleanly, and say why, before it is killed.
  env["LASTCALL_TIMEOUT"] =
      std::to_string(std::chrono::floor<std::chrono::seconds>(r.timeout).count());
  env["LASTCALL_INSTANCE_ID"] = r.identity.instance_id;
  env["LASTCALL_INSTANCE_TYPE"] = r.identity.instance_type;
  env["LASTCALL_ZONE"] = r.identity.zone;
  env["LASTCALL_REGION"] = r.identity.region;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

unsigned long long HookRunner::ProcessStartTicks(pid_t pid) {
  char name[32];
  std::snprintf(name, sizeof name, "%d", static_cast<int>(pid));
  char stat[1024];
  size_t len = 0;
  if (!ReadProcStat(name, stat, sizeof stat, &len)) return 0;
  const char* p = std::strrchr(stat, ')');
  if (p == nullptr) return 0;
  // After "pid (comm)": field 3 (state) is the first; starttime is field 22.
  int field = 2;
  for (; *p && field < 22; ++p) {
    if (*p == ' ') ++field;
  }
  return std::strtoull(p, nullptr, 10);
}

std::vector<pid_t> HookRunner::FindHookGroups(const std::string& notice_id, HookPhase phase,
                                              const std::string& instance_id) {
  const std::string want_id = "LASTCALL_NOTICE_ID=" + notice_id;
  const std::string want_phase = "LASTCALL_PHASE=" + std::string(HookPhaseName(phase));
  const std::string want_instance = "LASTCALL_INSTANCE_ID=" + instance_id;
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    if (::getpgid(pid) != pid) continue;  // group leaders only: a hook is one
    const std::string path = std::string("/proc/") + e->d_name + "/environ";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    std::string env(64 * 1024, '\0');  // hooks get a small, fixed environment
    ssize_t n = ::read(fd, env.data(), env.size());
    ::close(fd);
    if (n <= 0) continue;
    env.resize(static_cast<size_t>(n));
    bool id = false, ph = false, inst = instance_id.empty();
    for (size_t at = 0; at < env.size();) {
      size_t end = env.find('\0', at);
      if (end == std::string::npos) end = env.size();
      std::string_view var(env.data() + at, end - at);
      id = id || var == want_id;
      ph = ph || var == want_phase;
      inst = inst || var == want_instance;
      at = end + 1;
    }
    if (id && ph && inst) out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

bool HookRunner::WaitOrStopLeftover(pid_t pgid, unsigned long long start_ticks, Duration wait,
                                    Duration kill_grace) const {
  if (pgid <= 1) return false;
  const unsigned long long now_ticks = ProcessStartTicks(pgid);
  if (now_ticks != 0 && now_ticks != start_ticks) return false;  // pid reused: not ours
  if (!GroupHasLiveMembers(pgid)) return false;
  auto wait_group = [&](Duration limit) {
    // Not our child: no waitpid. The group is checked every 20 ms (a process-group wait has no
    // descriptor to poll), which is plenty for a once-per-restart event.
    const MonoTime until = clock_.Monotonic() + limit;
    while (GroupHasLiveMembers(pgid) && clock_.Monotonic() < until) {
      ::usleep(20'000);
    }
    return !GroupHasLiveMembers(pgid);
  };
  if (wait_group(std::max(wait, Duration::zero()))) return true;
  ::kill(-pgid, SIGTERM);
  if (wait_group(kill_grace)) return true;
  ::kill(-pgid, SIGKILL);
  wait_group(std::chrono::seconds(1));
  return true;
}

HookResult HookRunner::Run(const HookRunRequest& r) {
  HookResult result;
  const MonoTime start = clock_.Monotonic();
  LogFields tags = {{"HOOK", r.hook.name},
                    {"PHASE", std::string(HookPhaseName(r.hook.phase))},
                    {"NOTICE_ID", r.notice.id}};
  auto fail = [&](std::string why) {
    result.outcome = HookResult::Outcome::kStartFailed;
    result.error = std::move(why);
    result.duration = std::chrono::duration_cast<Duration>(clock_.Monotonic() - start);
    Log(LogPriority::kErr, "hook failed to start: " + result.error, tags);
    return result;
  };
  if (r.hook.argv.empty()) return fail("empty command");
  if (aborted_) {
    result.outcome = HookResult::Outcome::kAborted;
    return result;
  }

  // stdin is a socket so the notice can be written with MSG_NOSIGNAL: a hook that never reads
  // it and exits must not raise SIGPIPE in the daemon.
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return fail(std::string("socketpair: ") + std::strerror(errno));
  }
  Fd in_parent(sv[0]), in_child(sv[1]);
  int out_fds[2], err_fds[2];
  if (::pipe2(out_fds, O_CLOEXEC) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
  Fd out_read(out_fds[0]), out_write(out_fds[1]);
  if (::pipe2(err_fds, O_CLOEXEC) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
  Fd err_read(err_fds[0]), err_write(err_fds[1]);
  ::shutdown(in_child.get(), SHUT_WR);  // the hook only reads its stdin

  std::vector<std::string> env = BuildEnvironment(r);
  std::vector<char*> argv, envp;
  for (const std::string& a : r.hook.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_adddup2(&actions, in_child.get(), 0);
  ::posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  ::posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  // Belt and braces: fds other modules opened without O_CLOEXEC must not reach a hook either.
  ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  ::posix_spawn_file_actions_addchdir_np(&actions, "/");
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setpgroup(&attr, 0);
  ::posix_spawnattr_setflags(
      &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) return fail(r.hook.argv[0] + ": " + std::strerror(rc));
  result.pid = pid;
  const pid_t pgid = pid;
  in_child.reset();
  out_write.reset();
  err_write.reset();
  Log(LogPriority::kInfo,
      "hook started (pid " + std::to_string(pid) + ", timeout " + FormatDuration(r.timeout) + ")",
      tags);
  if (r.on_start) r.on_start(pgid, ProcessStartTicks(pid));

  SetNonBlocking(in_parent.get());
  SetNonBlocking(out_read.get());
  SetNonBlocking(err_read.get());
  std::string input = NoticeToJson(r.notice) + "\n";
  size_t input_off = 0;
  OutputLogger output(r, r.max_output_bytes);

  const MonoTime deadline = start + r.timeout;
  bool reaped = false;
  int wstatus = 0;
  bool timed_out = false, aborting = false, terminating = false, killed = false;
  MonoTime kill_at{};

  auto signal_group = [&](int sig) {
    if (::kill(-pgid, sig) != 0 && errno != ESRCH) {
      Log(LogPriority::kWarning,
          "kill(-" + std::to_string(pgid) + ", " + std::to_string(sig) +
              "): " + std::strerror(errno),
          tags);
    }
  };
  auto terminate = [&](const char* why) {
    if (terminating) return;
    terminating = true;
    kill_at = clock_.Monotonic() + r.kill_grace;
    Log(LogPriority::kWarning,
        std::string(why) + ": sending SIGTERM to process group " + std::to_string(pgid), tags);
    signal_group(SIGTERM);
  };

  char buf[8192];
  for (;;) {
    pollfd fds[3];
    nfds_t nfds = 0;
    int out_idx = -1, err_idx = -1, in_idx = -1;
    if (out_read.get() >= 0) {
      out_idx = static_cast<int>(nfds);
      fds[nfds++] = {out_read.get(), POLLIN, 0};
    }
    if (err_read.get() >= 0) {
      err_idx = static_cast<int>(nfds);
      fds[nfds++] = {err_read.get(), POLLIN, 0};
    }
    if (in_parent.get() >= 0) {
      in_idx = static_cast<int>(nfds);
      fds[nfds++] = {in_parent.get(), POLLOUT, 0};
    }
    int n = ::poll(fds, nfds, kSliceMs);
    if (n < 0 && errno != EINTR) {
      Log(LogPriority::kErr, std::string("poll: ") + std::strerror(errno), tags);
    }
    auto drain = [&](int idx, Fd& fd, int stream) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
      for (;;) {
        ssize_t got = ::read(fd.get(), buf, sizeof buf);
        if (got > 0) {
          output.Append(stream, buf, static_cast<size_t>(got));
          continue;
        }
        if (got == 0 || (errno != EAGAIN && errno != EINTR)) fd.reset();
        break;
      }
    };
    if (n > 0) {
      drain(out_idx, out_read, 0);
      drain(err_idx, err_read, 1);
      if (in_idx >= 0 && fds[in_idx].revents) {
        ssize_t sent = ::send(in_parent.get(), input.data() + input_off, input.size() - input_off,
                              MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent > 0) input_off += static_cast<size_t>(sent);
        // Done, or the hook closed its stdin (EPIPE): either way stdin is finished.
        if (input_off == input.size() || (sent < 0 && errno != EAGAIN && errno != EINTR)) {
          in_parent.reset();
        }
      }
    }

    if (!reaped) {
      pid_t w = ::waitpid(pid, &wstatus, WNOHANG);
      if (w == pid) reaped = true;
    }
    const MonoTime now = clock_.Monotonic();
    if (!terminating && !reaped && aborted_) {
      aborting = true;
      terminate("daemon is stopping");
    } else if (!reaped && !terminating && now >= deadline) {
      timed_out = true;
      terminate(("timed out after " + FormatDuration(r.timeout)).c_str());
    }
    if (terminating && !killed && now >= kill_at) {
      killed = true;
      Log(LogPriority::kWarning,
          "still running after " + FormatDuration(r.kill_grace) +
              ": sending SIGKILL to process group " + std::to_string(pgid),
          tags);
      signal_group(SIGKILL);
    }
    if (reaped) {
      if (killed) break;  // SIGKILL cannot be ignored: the group is going away
      // Pipes still open after the group is gone belong to processes that left the group
      // (setsid); they are not waited for.
      if (!GroupHasLiveMembers(pgid)) break;
      terminate("hook exited but left processes in its group");
    }
  }
  // Whatever is already buffered in the pipes is still logged.
  for (Fd* fd : {&out_read, &err_read}) {
    if (fd->get() < 0) continue;
    ssize_t got;
    while ((got = ::read(fd->get(), buf, sizeof buf)) > 0) {
      output.Append(fd == &out_read ? 0 : 1, buf, static_cast<size_t>(got));
    }
  }
  output.Flush();

  result.duration = std::chrono::duration_cast<Duration>(clock_.Monotonic() - start);
  if (WIFEXITED(wstatus)) {
    result.outcome = HookResult::Outcome::kExited;
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.outcome = HookResult::Outcome::kSignaled;
    result.signal = WTERMSIG(wstatus);
  }
  if (timed_out) result.outcome = HookResult::Outcome::kTimedOut;
  if (aborting) result.outcome = HookResult::Outcome::kAborted;
  Log(result.ok() ? LogPriority::kInfo : LogPriority::kWarning,
      "hook ended: " + result.Name() + " after " + FormatDuration(result.duration), tags);
  return result;
}

}  // namespace lastcall
