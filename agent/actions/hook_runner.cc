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
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
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
// Returns the text read into `buf` (NUL-terminated), nullopt if there is no such process.
std::optional<std::string_view> ReadProcStat(const char* pid, char* buf, size_t size) {
  char path[300];  // d_name is at most 255 bytes
  std::snprintf(path, sizeof path, "/proc/%s/stat", pid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  ssize_t n;
  do {
    n = ::read(fd, buf, size - 1);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  return std::string_view(buf, static_cast<size_t>(n));
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
    if (!ReadProcStat(e->d_name, stat, sizeof stat)) continue;
    // "pid (comm) state ppid pgrp ..."; comm may contain anything, so parse after the last ')'.
    const char* paren = std::strrchr(stat, ')');
    if (paren == nullptr) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    // The kernel writes these fields; all three must convert (the count is checked).
    if (std::sscanf(paren + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3) {  // NOLINT(cert-err34-c)
      continue;
    }
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

std::string HookRun::Describe() const {
  if (result != HookResult::kFailed) return std::string(HookResultName(result));
  return signal != 0 ? "signal-" + std::to_string(signal) : "exit-" + std::to_string(exit_code);
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
  if (!ReadProcStat(name, stat, sizeof stat)) return 0;
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
    pid_t pid = 0;
    const std::string_view name = e->d_name;
    auto [digits_end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || digits_end != name.data() + name.size()) continue;  // not a process
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

namespace {

// The hook's stdin, stdout and stderr, all O_CLOEXEC. stdin is a socket so the notice can be
// written with MSG_NOSIGNAL: a hook that never reads it and exits must not raise SIGPIPE in the
// daemon.
struct HookPipes {
  Fd in_parent, in_child, out_read, out_write, err_read, err_write;
};

Result<HookPipes> MakeHookPipes() {
  HookPipes p;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Internal(std::string("socketpair: ") + ErrnoText(errno));
  }
  p.in_parent = Fd(sv[0]);
  p.in_child = Fd(sv[1]);
  int out_fds[2], err_fds[2];
  if (::pipe2(out_fds, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + ErrnoText(errno));
  p.out_read = Fd(out_fds[0]);
  p.out_write = Fd(out_fds[1]);
  if (::pipe2(err_fds, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + ErrnoText(errno));
  p.err_read = Fd(err_fds[0]);
  p.err_write = Fd(err_fds[1]);
  ::shutdown(p.in_child.get(), SHUT_WR);  // the hook only reads its stdin
  return p;
}

// Starts the hook in a new process group, in /, with exactly `env`, its stdio on the child ends
// of `pipes` (closed here once it runs) and every other descriptor closed. Returns its pid.
Result<pid_t> SpawnHook(const HookRunRequest& r, const std::vector<std::string>& env,
                        HookPipes& pipes) {
  std::vector<char*> argv, envp;
  for (const std::string& a : r.hook.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_adddup2(&actions, pipes.in_child.get(), 0);
  ::posix_spawn_file_actions_adddup2(&actions, pipes.out_write.get(), 1);
  ::posix_spawn_file_actions_adddup2(&actions, pipes.err_write.get(), 2);
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
  if (rc != 0) return Internal(r.hook.argv[0] + ": " + ErrnoText(rc));
  pipes.in_child.reset();
  pipes.out_write.reset();
  pipes.err_write.reset();
  return pid;
}

// One started hook until it and its process group are gone: writes the notice to its stdin,
// logs its output, sends SIGTERM on timeout, abort or leftovers in its group and SIGKILL after
// the grace, and reaps it.
class HookSupervisor {
 public:
  HookSupervisor(const HookRunRequest& r, const Clock& clock, const std::atomic<bool>& aborted,
                 HookPipes pipes, pid_t pid, MonoTime start, const LogFields& tags)
      : r_(r),
        clock_(clock),
        aborted_(aborted),
        pipes_(std::move(pipes)),
        pid_(pid),
        deadline_(start + r.timeout),
        tags_(tags),
        input_(NoticeToJson(r.notice) + "\n"),
        output_(r, r.max_output_bytes) {
    SetNonBlocking(pipes_.in_parent.get());
    SetNonBlocking(pipes_.out_read.get());
    SetNonBlocking(pipes_.err_read.get());
  }

  // Blocks until the hook is reaped and its group is empty (or was SIGKILLed); then logs what
  // is left in the pipes. Returns how it ended, without the duration.
  HookRun Supervise() {
    for (;;) {
      PumpIo();
      if (!reaped_ && ::waitpid(pid_, &wstatus_, WNOHANG) == pid_) reaped_ = true;
      EnforceLimits(clock_.Monotonic());
      if (reaped_) {
        if (killed_) break;  // SIGKILL cannot be ignored: the group is going away
        // Pipes still open after the group is gone belong to processes that left the group
        // (setsid); they are not waited for.
        if (!GroupHasLiveMembers(pid_)) break;
        Terminate("hook exited but left processes in its group");
      }
    }
    DrainRemaining();
    return Ending();
  }

 private:
  // One poll round (at most kSliceMs): output to the log, the notice to stdin.
  void PumpIo() {
    pollfd fds[3];
    nfds_t nfds = 0;
    int out_idx = -1, err_idx = -1, in_idx = -1;
    auto add = [&](const Fd& fd, short events, int* idx) {
      if (fd.get() < 0) return;
      *idx = static_cast<int>(nfds);
      fds[nfds++] = {fd.get(), events, 0};
    };
    add(pipes_.out_read, POLLIN, &out_idx);
    add(pipes_.err_read, POLLIN, &err_idx);
    add(pipes_.in_parent, POLLOUT, &in_idx);
    int n = ::poll(fds, nfds, kSliceMs);
    if (n < 0 && errno != EINTR) {
      Log(LogPriority::kErr, std::string("poll: ") + ErrnoText(errno), tags_);
    }
    if (n <= 0) return;
    auto readable = [&](int idx) {
      return idx >= 0 && (fds[idx].revents & (POLLIN | POLLHUP | POLLERR));
    };
    if (readable(out_idx)) ReadOutput(pipes_.out_read, 0);
    if (readable(err_idx)) ReadOutput(pipes_.err_read, 1);
    if (in_idx >= 0 && fds[in_idx].revents) WriteInput();
  }

  void ReadOutput(Fd& fd, int stream) {
    for (;;) {
      ssize_t got = ::read(fd.get(), buf_, sizeof buf_);
      if (got > 0) {
        output_.Append(stream, buf_, static_cast<size_t>(got));
        continue;
      }
      if (got == 0 || (errno != EAGAIN && errno != EINTR)) fd.reset();
      break;
    }
  }

  void WriteInput() {
    ssize_t sent = ::send(pipes_.in_parent.get(), input_.data() + input_off_,
                          input_.size() - input_off_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) input_off_ += static_cast<size_t>(sent);
    // Done, or the hook closed its stdin (EPIPE): either way stdin is finished.
    if (input_off_ == input_.size() || (sent < 0 && errno != EAGAIN && errno != EINTR)) {
      pipes_.in_parent.reset();
    }
  }

  // Abort and timeout send SIGTERM once; SIGKILL follows kill_grace after any SIGTERM.
  void EnforceLimits(MonoTime now) {
    if (!terminating_ && !reaped_ && aborted_) {
      aborting_ = true;
      Terminate("daemon is stopping");
    } else if (!reaped_ && !terminating_ && now >= deadline_) {
      timed_out_ = true;
      Terminate("timed out after " + FormatDuration(r_.timeout));
    }
    if (terminating_ && !killed_ && now >= kill_at_) {
      killed_ = true;
      Log(LogPriority::kWarning,
          "still running after " + FormatDuration(r_.kill_grace) +
              ": sending SIGKILL to process group " + std::to_string(pid_),
          tags_);
      SignalGroup(SIGKILL);
    }
  }

  void SignalGroup(int sig) {
    if (::kill(-pid_, sig) != 0 && errno != ESRCH) {
      Log(LogPriority::kWarning,
          "kill(-" + std::to_string(pid_) + ", " + std::to_string(sig) + "): " + ErrnoText(errno),
          tags_);
    }
  }

  void Terminate(const std::string& why) {
    if (terminating_) return;
    terminating_ = true;
    kill_at_ = clock_.Monotonic() + r_.kill_grace;
    Log(LogPriority::kWarning, why + ": sending SIGTERM to process group " + std::to_string(pid_),
        tags_);
    SignalGroup(SIGTERM);
  }

  // Whatever is already buffered in the pipes is still logged.
  void DrainRemaining() {
    for (Fd* fd : {&pipes_.out_read, &pipes_.err_read}) {
      if (fd->get() < 0) continue;
      ssize_t got;
      while ((got = ::read(fd->get(), buf_, sizeof buf_)) > 0) {
        output_.Append(fd == &pipes_.out_read ? 0 : 1, buf_, static_cast<size_t>(got));
      }
    }
    output_.Flush();
  }

  HookRun Ending() const {
    HookRun run;
    run.pid = pid_;
    if (WIFEXITED(wstatus_)) {
      run.exit_code = WEXITSTATUS(wstatus_);
      run.result = run.exit_code == 0 ? HookResult::kOk : HookResult::kFailed;
    } else if (WIFSIGNALED(wstatus_)) {
      run.signal = WTERMSIG(wstatus_);
      run.result = HookResult::kFailed;
    }
    if (timed_out_) run.result = HookResult::kTimeout;
    if (aborting_) run.result = HookResult::kAborted;
    return run;
  }

  const HookRunRequest& r_;
  const Clock& clock_;
  const std::atomic<bool>& aborted_;
  HookPipes pipes_;
  const pid_t pid_;  // also its process group
  const MonoTime deadline_;
  const LogFields& tags_;
  std::string input_;
  size_t input_off_ = 0;
  OutputLogger output_;
  bool reaped_ = false;
  int wstatus_ = 0;
  bool timed_out_ = false, aborting_ = false, terminating_ = false, killed_ = false;
  MonoTime kill_at_{};
  char buf_[8192]{};
};

}  // namespace

HookRun HookRunner::Run(const HookRunRequest& r) {
  const MonoTime start = clock_.Monotonic();
  const LogFields tags = {{"HOOK", r.hook.name},
                          {"PHASE", std::string(HookPhaseName(r.hook.phase))},
                          {"NOTICE_ID", r.notice.id}};
  auto elapsed = [&] { return std::chrono::duration_cast<Duration>(clock_.Monotonic() - start); };
  auto fail = [&](std::string why) {
    HookRun run;
    run.result = HookResult::kStartFailed;
    run.error = std::move(why);
    run.duration = elapsed();
    Log(LogPriority::kErr, "hook failed to start: " + run.error, tags);
    return run;
  };
  if (r.hook.argv.empty()) return fail("empty command");
  if (aborted_) {
    HookRun run;
    run.result = HookResult::kAborted;
    return run;
  }
  Result<HookPipes> pipes = MakeHookPipes();
  if (!pipes.ok()) return fail(pipes.status().message());
  Result<pid_t> pid = SpawnHook(r, BuildEnvironment(r), *pipes);
  if (!pid.ok()) return fail(pid.status().message());
  Log(LogPriority::kInfo,
      "hook started (pid " + std::to_string(*pid) + ", timeout " + FormatDuration(r.timeout) + ")",
      tags);
  if (r.on_start) r.on_start(*pid, ProcessStartTicks(*pid));

  HookSupervisor supervisor(r, clock_, aborted_, std::move(pipes).value(), *pid, start, tags);
  HookRun run = supervisor.Supervise();
  run.duration = elapsed();
  Log(run.ok() ? LogPriority::kInfo : LogPriority::kWarning,
      "hook ended: " + run.Describe() + " after " + FormatDuration(run.duration), tags);
  return run;
}

}  // namespace lastcall
