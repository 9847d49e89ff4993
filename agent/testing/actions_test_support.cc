#include "agent/testing/actions_test_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace lastcall::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/lastcall-actions-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void MakeDir(const std::string& path, unsigned mode) {
  std::filesystem::create_directories(path);
  ::chmod(path.c_str(), mode);
}

void WriteFile(const std::string& path, const std::string& contents, unsigned mode) {
  {
    std::ofstream f(path, std::ios::trunc);
    f << contents;
  }
  ::chmod(path.c_str(), mode);
}

void WriteScript(const std::string& path, const std::string& body) {
  WriteFile(path, "#!/bin/sh\n" + body + "\n", 0755);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool FileExists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

bool WaitFor(const std::function<bool()>& condition, Duration timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    // Real processes and files (a hook's pid gone, a file a hook wrote): the test has no
    // descriptor or clock wait for them, so the condition is re-checked every 10 ms.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

bool ProcessAlive(pid_t pid) {
  // read(2), not iostreams: reading the stat of a process that is exiting fails with ESRCH.
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  std::string stat(buf, static_cast<size_t>(n));
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

PidFileGuard::~PidFileGuard() {
  for (const std::string& file : files_) {
    std::string text = ReadFile(file);
    if (text.empty()) continue;
    pid_t pid = static_cast<pid_t>(std::strtol(text.c_str(), nullptr, 10));
    if (pid > 1 && ProcessAlive(pid)) ::kill(pid, SIGKILL);
  }
}

std::string PidFileGuard::Watch(const std::string& pid_file) {
  files_.push_back(pid_file);
  return pid_file;
}

std::string LogEntry::Field(const std::string& key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return "";
}

void CapturingSink::Write(LogPriority priority, std::string_view message, const LogFields& fields) {
  std::lock_guard lock(mu_);
  entries_.push_back({priority, std::string(message), fields});
}

std::vector<LogEntry> CapturingSink::Entries() const {
  std::lock_guard lock(mu_);
  return entries_;
}

std::vector<LogEntry> CapturingSink::Find(const std::string& needle) const {
  std::lock_guard lock(mu_);
  std::vector<LogEntry> out;
  for (const LogEntry& e : entries_) {
    if (e.message.find(needle) != std::string::npos) out.push_back(e);
  }
  return out;
}

ScopedLogCapture::ScopedLogCapture() {
  auto sink = std::make_unique<CapturingSink>();
  sink_ = sink.get();
  previous_ = SetLogSink(std::move(sink));
  SetLogLevel(LogPriority::kDebug);
}

ScopedLogCapture::~ScopedLogCapture() {
  SetLogLevel(LogPriority::kInfo);
  SetLogSink(std::move(previous_));
}

}  // namespace lastcall::testing
