// imds_standin: a tiny loopback metadata stand-in for benchmarks and the interim demo, built on
// the tests' scripted server (tests/support/test_http_server.h) until mockmeta has a binary.
//
//   imds_standin --provider aws|alibaba --url-file FILE [--notice-file FILE]
//
// Binds 127.0.0.1 on a port the kernel picks and writes "http://127.0.0.1:PORT" to --url-file
// (atomically, so a script can wait for the file). Serves one instance's identity paths, the
// token PUT, and 404 for every notice path. With --notice-file, the notice path
// (aws: spot/instance-action, alibaba: instance/spot/termination-time) answers the file's
// contents whenever the file exists, so a script makes a notice appear by writing that file.
// Runs until SIGTERM or SIGINT; prints how many requests it served to stderr.
//
// Thread-safety: the server answers on its own thread; main only waits for a signal.
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "common/files.h"
#include "tests/support/test_http_server.h"

namespace {

using lastcall::testing::RecordedRequest;
using lastcall::testing::TestHttpServer;
using lastcall::testing::TestResponse;

int Usage(const char* why) {
  std::fprintf(stderr,
               "imds_standin: %s\nUsage: imds_standin --provider aws|alibaba --url-file FILE "
               "[--notice-file FILE]\n",
               why);
  return 64;
}

// The notice file's contents, or nullopt while it does not exist.
std::optional<std::string> ReadNotice(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string provider, url_file, notice_file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return Usage(("missing value after " + a).c_str());
    if (a == "--provider") {
      provider = argv[++i];
    } else if (a == "--url-file") {
      url_file = argv[++i];
    } else if (a == "--notice-file") {
      notice_file = argv[++i];
    } else {
      return Usage(("unknown option " + a).c_str());
    }
  }
  if (provider != "aws" && provider != "alibaba") return Usage("--provider must be aws or alibaba");
  if (url_file.empty()) return Usage("--url-file is required");

  // Block the stop signals before the server thread starts, so only sigwait() sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  TestHttpServer server;
  const std::string meta = "/latest/meta-data/";
  std::string notice_path;
  if (provider == "aws") {
    server.Set("PUT", "/latest/api/token",
               TestResponse::Text("standin-token")
                   .WithHeader("X-aws-ec2-metadata-token-ttl-seconds", "21600"));
    server.Set("GET", meta + "instance-id", TestResponse::Text("i-0standin"));
    server.Set("GET", meta + "instance-type", TestResponse::Text("m5.large"));
    server.Set("GET", meta + "placement/availability-zone", TestResponse::Text("us-east-1a"));
    server.Set("GET", meta + "placement/region", TestResponse::Text("us-east-1"));
    server.Set("GET", meta + "events/maintenance/scheduled", TestResponse::Text("[]"));
    notice_path = meta + "spot/instance-action";
  } else {
    server.Set("PUT", "/latest/api/token", TestResponse::Text("standin-token"));
    server.Set("GET", meta + "instance-id", TestResponse::Text("i-standin"));
    server.Set("GET", meta + "instance/instance-type", TestResponse::Text("ecs.g6.large"));
    server.Set("GET", meta + "zone-id", TestResponse::Text("cn-hangzhou-h"));
    server.Set("GET", meta + "region-id", TestResponse::Text("cn-hangzhou"));
    notice_path = meta + "instance/spot/termination-time";
  }
  if (!notice_file.empty()) {
    server.SetHandler("GET", notice_path, [notice_file](const RecordedRequest&) {
      std::optional<std::string> body = ReadNotice(notice_file);
      return body ? TestResponse::Text(*body) : TestResponse::Status(404, "");
    });
  }

  const std::string tmp = url_file + ".tmp";
  {
    std::ofstream out(tmp);
    out << server.url() << "\n";
    if (!out) return Usage(("cannot write " + tmp).c_str());
  }
  if (std::rename(tmp.c_str(), url_file.c_str()) != 0) {
    std::fprintf(stderr, "imds_standin: cannot rename %s: %s\n", tmp.c_str(),
                 lastcall::ErrnoText(errno).c_str());
    return 1;
  }

  int sig = 0;
  sigwait(&stop, &sig);
  server.Stop();
  std::fprintf(stderr, "imds_standin: served %zu requests\n", server.Requests().size());
  return 0;
}
