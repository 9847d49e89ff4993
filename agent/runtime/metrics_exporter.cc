#include "agent/runtime/metrics_exporter.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <cerrno>
#include <cstring>

#include "agent/base/log.h"
#include "common/files.h"

namespace lastcall {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr size_t kMaxRequestHead = 8 * 1024;
constexpr auto kConnectionTimeout = std::chrono::seconds(5);
constexpr int kMaxConnections = 32;

std::string Response(int code, std::string_view reason, std::string_view content_type,
                     const std::string& body, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(code) + " " + std::string(reason) + "\r\n";
  out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  if (!head_only) out += body;
  return out;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Metrics& metrics, std::atomic<int>& live)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        buf_(kMaxRequestHead),
        metrics_(metrics),
        live_(live) {
    ++live_;
  }
  ~Session() { --live_; }

  void Start() {
    auto self = shared_from_this();
    timer_.expires_after(kConnectionTimeout);
    timer_.async_wait([self](boost::system::error_code ec) {
      if (!ec) {
        boost::system::error_code ignored;
        self->socket_.close(ignored);
      }
    });
    asio::async_read_until(socket_, buf_, "\r\n\r\n",
                           [self](boost::system::error_code ec, size_t n) { self->OnRead(ec, n); });
  }

 private:
  void OnRead(boost::system::error_code ec, size_t n) {
    if (ec == asio::error::not_found) {
      reply_ = Response(431, "Request Header Fields Too Large", "text/plain",
                        "request head larger than 8 KiB\n", false);
    } else if (ec) {
      Close();
      return;
    } else {
      std::string head(asio::buffers_begin(buf_.data()),
                       asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(n));
      try {
        reply_ = HandleMetricsRequest(head, metrics_);
      } catch (const std::exception& e) {
        reply_ = Response(500, "Internal Server Error", "text/plain", "internal error\n", false);
      }
    }
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(reply_),
                      [self](boost::system::error_code, size_t) { self->Close(); });
  }

  void Close() {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buf_;
  std::string reply_;
  const Metrics& metrics_;
  std::atomic<int>& live_;
};

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos)
    return InvalidArgument("expected HOST:PORT, got \"" + listen + "\"");
  std::string host = listen.substr(0, colon);
  std::string port_s = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  asio::ip::address addr = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgument("\"" + host + "\" is not an IP address");
  if (!addr.is_loopback()) {
    return InvalidArgument("refusing to listen on non-loopback address " + addr.to_string());
  }
  char* end = nullptr;
  long port = std::strtol(port_s.c_str(), &end, 10);
  if (port_s.empty() || *end != '\0' || port < 0 || port > 65535) {
    return InvalidArgument("bad port \"" + port_s + "\"");
  }
  return tcp::endpoint(addr, static_cast<uint16_t>(port));
}

}  // namespace

std::string HandleMetricsRequest(std::string_view head, const Metrics& metrics) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.substr(sp2 + 1).rfind("HTTP/1.", 0) != 0) {
    return Response(400, "Bad Request", "text/plain", "malformed request line\n", false);
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  if (method != "GET" && method != "HEAD") {
    return Response(405, "Method Not Allowed", "text/plain", "only GET /metrics\n", false);
  }
  if (target != "/metrics") {
    return Response(404, "Not Found", "text/plain", "lastcalld serves only /metrics\n",
                    method == "HEAD");
  }
  return Response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", metrics.RenderPrometheus(),
                  method == "HEAD");
}

struct MetricsServer::Impl {
  explicit Impl(const Metrics& m) : metrics(m), acceptor(io) {}

  void Accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        if (live.load() >= kMaxConnections) {
          boost::system::error_code ignored;
          socket.close(ignored);
        } else {
          std::make_shared<Session>(std::move(socket), metrics, live)->Start();
        }
      }
      Accept();
    });
  }

  const Metrics& metrics;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::atomic<int> live{0};
  std::thread thread;
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const Metrics& metrics,
                                                            const std::string& listen) {
  Result<tcp::endpoint> ep = ParseListen(listen);
  if (!ep.ok()) return ep.status().WithContext("metrics.listen");
  auto impl = std::make_unique<Impl>(metrics);
  boost::system::error_code ec;
  impl->acceptor.open(ep->protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(*ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("metrics.listen: cannot listen on " + listen + ": " + ec.message());
  uint16_t port = impl->acceptor.local_endpoint(ec).port();
  impl->Accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    // Handlers catch their own exceptions; this is the last line of defence.
    for (;;) {
      try {
        raw->io.run();
        return;
      } catch (const std::exception& e) {
        Log(LogPriority::kErr, std::string("metrics server: ") + e.what());
      }
    }
  });
  std::unique_ptr<MetricsServer> server(new MetricsServer(std::move(impl)));
  server->port_ = port;
  server->listen_ = listen;
  return server;
}

MetricsExporter::MetricsExporter(const Metrics& metrics, const Clock& clock)
    : metrics_(metrics), clock_(clock) {}

MetricsExporter::~MetricsExporter() = default;

Status MetricsExporter::Configure(const MetricsOptions& options) {
  bool listen_changed = !server_ ? !options.listen.empty() : server_->listen() != options.listen;
  if (options.textfile != options_.textfile) next_write_ = clock_.Monotonic();
  options_ = options;
  if (!listen_changed) return Status::Ok();
  server_.reset();
  if (options.listen.empty()) return Status::Ok();
  Result<std::unique_ptr<MetricsServer>> s = MetricsServer::Start(metrics_, options.listen);
  if (!s.ok()) return s.status();
  server_ = std::move(s).value();
  Log(LogPriority::kInfo, "serving metrics on http://" + options.listen + "/metrics");
  return Status::Ok();
}

MonoTime MetricsExporter::NextWrite() const {
  return options_.textfile.empty() ? MonoTime::max() : next_write_;
}

void MetricsExporter::MaybeWrite() {
  if (options_.textfile.empty() || clock_.Monotonic() < next_write_) return;
  Status st = WriteNow();
  // Logged once per episode, like poll errors.
  if (!st.ok() && !write_failing_) Log(LogPriority::kWarning, st.message());
  if (st.ok() && write_failing_) Log(LogPriority::kInfo, "metrics textfile written again");
  write_failing_ = !st.ok();
}

Status MetricsExporter::WriteNow() {
  if (options_.textfile.empty()) return Status::Ok();
  next_write_ = clock_.Monotonic() + options_.write_interval;
  return WriteFileAtomically(options_.textfile, metrics_.RenderPrometheus());
}

}  // namespace lastcall
