// The one translation unit of lastcall that includes Boost.Beast. Structure after the Beast
// example servers: a listener accepts, a session per connection reads, calls the handler,
// writes, and reads again; every completion handler checks its error_code first.
#include "mockmeta/http/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <exception>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/time_format.h"

namespace lastcall::mock {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
// Sockets and timers bound to the io_context's own executor type: the default any_io_executor
// is type-erased, and copying and destroying it showed up in every completion (profile in
// bench/RESULTS.md, "IMDS throughput").
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Executor>;

// After a response that closes the connection, unread request bytes are drained for at most
// this long (and this much) before closing, so the kernel does not answer them with a RST that
// can destroy the response in flight (a 413 to a client still sending its body).
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr size_t kLingerMaxBytes = size_t{4} * 1024 * 1024;
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);
// Buffers above this capacity are released between requests (a 1 MiB upload must not leave
// 1 MiB behind on every idle keep-alive connection); below it they are kept for reuse.
constexpr size_t kKeptBufferCapacity = size_t{16} * 1024;

// Frees a string's storage when a large request or response grew it.
void ReleaseIfLarge(std::string& s) {
  if (s.capacity() > kKeptBufferCapacity) std::string().swap(s);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Why a request head must be refused before its body is read, or empty when it may go on.
// RFC 9112 §6.3: with a Transfer-Encoding whose final coding is not chunked the body length is
// unknown, and reading on would take the rest of the stream for a second request (smuggling);
// 400 and close. Codings before a final chunked (gzip, chunked) are valid HTTP but this server
// decodes none, and §6.1 says 501 then. §3.2: HTTP/1.1 needs exactly one Host.
struct HeadProblem {
  int status = 0;  // 0: none
  std::string message;
};
template <typename Fields>
HeadProblem CheckRequestHead(const Fields& fields, unsigned version) {
  std::string codings;
  size_t te_fields = 0, host_fields = 0;
  for (const auto& field : fields) {
    if (field.name() == http::field::transfer_encoding) {
      if (te_fields++ > 0) codings += ',';
      codings.append(field.value().data(), field.value().size());
    } else if (field.name() == http::field::host) {
      ++host_fields;
    }
  }
  if (te_fields > 0) {
    std::vector<std::string_view> list;
    std::string_view rest = codings;
    for (;;) {
      size_t comma = rest.find(',');
      std::string_view one = Trim(rest.substr(0, comma));
      if (!one.empty()) list.push_back(one);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (list.empty() || !EqualsIgnoreCase(list.back(), "chunked")) {
      return {400, "bad request: Transfer-Encoding \"" + codings +
                       "\" does not end in chunked, so the body length is unknown"};
    }
    if (list.size() > 1) {
      return {501, "transfer coding \"" + codings + "\" is not implemented (only chunked)"};
    }
  }
  if (version >= 11 && host_fields != 1) {
    return {400, host_fields == 0 ? "bad request: HTTP/1.1 request without Host"
                                  : "bad request: more than one Host"};
  }
  return {};
}

std::string FormatEndpoint(const std::string& address, unsigned short port) {
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

bool IsHttpProtocolError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

// steady_timer::cancel() reports failure by throwing; Close() runs inside handlers, where nothing
// may escape, and a timer that cannot be cancelled will simply fire into a closed session.
void CancelTimer(Timer& timer) noexcept {
  try {
    timer.cancel();
  } catch (...) {
  }
}

// Serialises a response head and body into `out` (cleared first, capacity kept). The server writes
// its own responses rather than through Beast's serializer: one buffer, no per-field nodes, the
// same fields Beast would send. HEAD answers carry the length but no body. Header values come
// from the routers, never from a request, so they need no CR/LF check here.
void SerializeResponse(const HttpResponse& response, int version, bool keep_alive, bool head_only,
                       std::string_view date, std::string& out) {
  out.clear();
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  char number[24];
  out.append(number, std::to_chars(number, number + sizeof number, response.status).ptr);
  out += ' ';
  out += HttpReason(response.status);
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Server: mockmeta\r\nDate: ";
  out += date;
  out += "\r\nContent-Type: ";
  out += response.content_type;
  out += "\r\nContent-Length: ";
  out.append(number, std::to_chars(number, number + sizeof number, response.body.size()).ptr);
  out += "\r\n";
  // HTTP/1.1 is persistent unless it says otherwise; HTTP/1.0 only when it says so.
  if (version == 10 && keep_alive) out += "Connection: keep-alive\r\n";
  if (version != 10 && !keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head_only) out += response.body;
}

struct ListenerInfo {
  BoundListener bound;
  HttpHandler handler;
  AsyncHttpHandler async_handler;
  size_t max_connections = 0;
  // This listener's open sessions (each listener has its own cap). io thread only.
  mutable size_t open = 0;
};

class Session;

// What sessions share with the server. Sessions keep it alive, so a session destroyed late
// (when the io_context is torn down) still finds it.
struct ServerState {
  ServerState(const Clock& c, HttpServerOptions o) : clock(c), options(o) {}
  const Clock& clock;
  const HttpServerOptions options;
  std::atomic<size_t> connections{0};
  // Signalled on every change of `connections`, for WaitForOpenConnections().
  std::mutex connections_mu;
  std::condition_variable connections_changed;
  void CountConnection(int delta) {
    {
      std::lock_guard<std::mutex> lock(connections_mu);
      connections += static_cast<size_t>(delta);
    }
    connections_changed.notify_all();
  }
  bool stopping = false;  // io thread only
  // Open sessions, to close them on Stop(). io thread only (and the destroying thread once the
  // io_context has stopped).
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;

  // The Date header value, formatted once per second of `clock` rather than per response.
  // io thread only.
  const std::string& DateHeader() {
    const WallTime now = clock.Now();
    const auto second = std::chrono::floor<std::chrono::seconds>(now);
    if (!date_second || *date_second != second) {
      date_second = second;
      date_text = FormatHttpDate(now);
    }
    return date_text;
  }
  std::optional<std::chrono::time_point<WallTime::clock, std::chrono::seconds>> date_second;
  std::string date_text;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Socket&& socket, std::shared_ptr<ServerState> state,
          std::shared_ptr<const ListenerInfo> listener)
      : socket_(std::move(socket)),
        buffer_(state->options.header_limit + state->options.body_limit + size_t{16} * 1024),
        watchdog_(socket_.get_executor()),
        delay_(socket_.get_executor()),
        state_(std::move(state)),
        listener_(std::move(listener)) {
    state_->CountConnection(+1);
    ++listener_->open;
  }

  ~Session() {
    --listener_->open;
    state_->CountConnection(-1);
    state_->sessions.erase(this);
  }

  void Start() {
    state_->sessions.emplace(this, weak_from_this());
    context_.listener = listener_->bound.name;
    beast::error_code ec;
    tcp::endpoint peer = socket_.remote_endpoint(ec);
    if (!ec) {
      context_.peer_address = peer.address().to_string();
      context_.peer_port = peer.port();
    }
    net::dispatch(socket_.get_executor(),
                  beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

  // Ends the connection now; pending operations complete with operation_aborted.
  void Close() {
    beast::error_code ec;
    CancelTimer(watchdog_);
    CancelTimer(delay_);
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  // Timeouts: one watchdog timer per connection checks a deadline that each read or write moves
  // forward. Arming an asio timer per operation (as beast::tcp_stream does) costs a timer-queue
  // insert, a cancel and an extra completion per read and per write; here the watchdog wakes
  // about once per timeout and re-arms for the deadline it finds. It holds the session weakly,
  // so an idle watchdog never keeps a finished connection open.
  void SetDeadline(Duration timeout) {
    reading_ = false;
    deadline_ = std::chrono::steady_clock::now() + timeout;
    if (deadline_ < watch_until_) Watch(deadline_);
  }

  // Waiting for a request: idle up to read_timeout, but the watchdog wakes every
  // request_timeout to see whether bytes have come in; from then on the request has one
  // request_timeout to complete (RequestStarted).
  void SetReadDeadline() {
    const auto now = std::chrono::steady_clock::now();
    const auto& o = state_->options;
    reading_ = true;
    request_started_ = false;
    idle_until_ = now + o.read_timeout;
    deadline_ = std::min(idle_until_, now + o.request_timeout);
    if (deadline_ < watch_until_) Watch(deadline_);
  }
  void RequestStarted() {
    reading_ = true;
    request_started_ = true;
    deadline_ = std::chrono::steady_clock::now() + state_->options.request_timeout;
    if (deadline_ < watch_until_) Watch(deadline_);
  }
  void ClearDeadline() {
    reading_ = false;
    deadline_ = std::chrono::steady_clock::time_point::max();
  }

  void Watch(std::chrono::steady_clock::time_point until) {
    watch_until_ = until;
    watchdog_.expires_at(until);
    watchdog_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      if (ec) return;  // re-armed earlier, or the connection ended
      if (auto self = weak.lock()) self->OnWatchdog();
    });
  }

  void OnWatchdog() {
    watch_until_ = std::chrono::steady_clock::time_point::max();
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline_ && reading_ && !request_started_) {
      // Between completions the read is parked, so the buffer and parser are safe to look at.
      if (buffer_.size() > 0 || (parser_ && parser_->got_some())) {
        RequestStarted();
        return;
      }
      if (now < idle_until_) {
        deadline_ = std::min(idle_until_, now + state_->options.request_timeout);
      }
    }
    if (now >= deadline_) return Close();
    if (deadline_ != std::chrono::steady_clock::time_point::max()) Watch(deadline_);
  }

  void DoRead() {
    ReleaseLargeBuffers();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.header_limit));
    parser_->body_limit(state_->options.body_limit);
    SetReadDeadline();
    http::async_read_header(socket_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // What one large request or response grew is given back before the connection idles.
  void ReleaseLargeBuffers() {
    if (buffer_.capacity() > kKeptBufferCapacity) buffer_.shrink_to_fit();
    ReleaseIfLarge(out_);
    ReleaseIfLarge(request_.body);
  }

  // The head is in: refuse what must not be read on, answer `Expect: 100-continue`, then read
  // the body (if any) under the request deadline.
  void OnHeader(beast::error_code ec, std::size_t bytes) {
    if (ec) return OnRead(ec, bytes);
    const auto& head = parser_->get();
    HeadProblem problem = CheckRequestHead(head, head.version());
    if (problem.status != 0) return SendError(problem.status, std::move(problem.message));
    if (parser_->is_done()) return OnRead(ec, bytes);
    RequestStarted();
    auto expect = head.find(http::field::expect);
    if (expect != head.end() && head.version() >= 11 &&
        EqualsIgnoreCase(Trim({expect->value().data(), expect->value().size()}), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(socket_, net::buffer(kContinue.data(), kContinue.size()),
                       beast::bind_front_handler(&Session::OnContinueSent, shared_from_this()));
      return;
    }
    ReadBody();
  }

  void OnContinueSent(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return Close();
    ReadBody();
  }

  void ReadBody() {
    http::async_read(socket_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t /*bytes*/) {
    reading_ = false;
    if (ec == http::error::end_of_stream) return DoShutdown();
    if (ec == http::error::header_limit) return SendError(431, "request header too large");
    if (ec == http::error::body_limit || ec == http::error::buffer_overflow) {
      return SendError(413, "request body too large");
    }
    if (ec) {
      if (IsHttpProtocolError(ec)) return SendError(400, "bad request: " + ec.message());
      return Close();  // timeout (the watchdog closed the socket), reset, or aborted by Stop()
    }
    ToRequest(parser_->release(), request_);
    if (listener_->async_handler) return CallAsyncHandler(request_);
    HttpResponse response = CallHandler(request_);
    Respond(response, request_.version, request_.keep_alive);
  }

  // The session waits with no read pending; the responder holds it alive and posts the answer
  // back to the io thread, whichever thread calls it.
  void CallAsyncHandler(const HttpRequest& request) {
    ClearDeadline();
    auto done = std::make_shared<std::atomic<bool>>(false);
    HttpResponder responder = [self = shared_from_this(), done, version = request.version,
                               keep_alive = request.keep_alive](HttpResponse response) {
      if (done->exchange(true)) return;
      net::post(self->socket_.get_executor(), [self, version, keep_alive, r = std::move(response)] {
        if (self->state_->stopping) return;
        self->Respond(r, version, keep_alive);
      });
    };
    try {
      listener_->async_handler(request, context_, responder);
    } catch (const std::exception& e) {
      responder(HttpResponse::Text(500, std::string("internal error: ") + e.what() + "\n"));
    } catch (...) {
      responder(HttpResponse::Text(500, "internal error\n"));
    }
  }

  void Respond(const HttpResponse& response, int version, bool keep_alive) {
    if (response.drop_connection && response.delay <= Duration::zero()) return Close();
    drop_ = response.drop_connection;
    Prepare(response, version, keep_alive);
    if (response.delay > Duration::zero()) {
      ClearDeadline();
      delay_.expires_after(response.delay);
      delay_.async_wait(beast::bind_front_handler(&Session::OnDelay, shared_from_this()));
      return;
    }
    DoWrite();
  }

  void OnDelay(beast::error_code ec) {
    if (ec) return;  // Stop() cancelled the wait
    if (drop_) return Close();
    DoWrite();
  }

  // Fills `r` (its strings keep their capacity from the previous request on this connection).
  static void ToRequest(http::request<http::string_body> req, HttpRequest& r) {
    const beast::string_view method = req.method_string();
    const beast::string_view target = req.target();
    r.method.assign(method.data(), method.size());
    r.target.assign(target.data(), target.size());
    size_t q = r.target.find('?');
    r.path.assign(r.target, 0, q);
    if (q != std::string::npos) {
      r.query.assign(r.target, q + 1);
    } else {
      r.query.clear();
    }
    r.headers.clear();
    for (const auto& field : req) {
      r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    r.version = static_cast<int>(req.version());
    r.keep_alive = req.keep_alive();
    r.body = std::move(req.body());
  }

  HttpResponse CallHandler(const HttpRequest& request) {
    // A handler must not throw; if one does, the client gets a 500 and the server goes on.
    try {
      if (listener_->handler) return listener_->handler(request, context_);
      return HttpResponse::Text(404, "no handler\n");
    } catch (const std::exception& e) {
      return HttpResponse::Text(500, std::string("internal error: ") + e.what() + "\n");
    } catch (...) {
      return HttpResponse::Text(500, "internal error\n");
    }
  }

  void Prepare(const HttpResponse& response, int version, bool keep_alive) {
    close_after_write_ = !(keep_alive && !response.close && !state_->stopping);
    SerializeResponse(response, version, !close_after_write_, request_.method == "HEAD",
                      state_->DateHeader(), out_);
  }

  void SendError(int status, std::string message) {
    HttpResponse r = HttpResponse::Text(status, std::move(message) + "\n");
    r.close = true;
    drop_ = false;
    request_.method.clear();  // the request did not parse: whatever it was, send the body
    Prepare(r, 11, false);
    DoWrite();
  }

  void DoWrite() {
    SetDeadline(state_->options.write_timeout);
    net::async_write(socket_, net::buffer(out_),
                     beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return Close();
    if (close_after_write_) return DoLinger();
    DoRead();
  }

  // Half-close, then discard what the client still sends, until it closes or time is up.
  void DoLinger() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    buffer_.consume(buffer_.size());
    SetDeadline(kLingerTimeout);
    socket_.async_read_some(net::buffer(discard_),
                            beast::bind_front_handler(&Session::OnLinger, shared_from_this()));
  }

  void OnLinger(beast::error_code ec, std::size_t bytes) {
    lingered_ += bytes;
    if (ec || lingered_ > kLingerMaxBytes) return Close();
    socket_.async_read_some(net::buffer(discard_),
                            beast::bind_front_handler(&Session::OnLinger, shared_from_this()));
  }

  void DoShutdown() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    Close();
  }

  Socket socket_;
  beast::flat_buffer buffer_;
  Timer watchdog_;  // the read/write deadline (SetDeadline)
  Timer delay_;     // latency faults
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point watch_until_ = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point idle_until_{};  // SetReadDeadline
  bool reading_ = false;          // the deadline is a request read's (SetReadDeadline)
  bool request_started_ = false;  // its first bytes are in
  std::shared_ptr<ServerState> state_;
  std::shared_ptr<const ListenerInfo> listener_;
  RequestContext context_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;
  std::string out_;  // the serialised response being written
  bool close_after_write_ = false;
  bool drop_ = false;
  std::array<char, 4096> discard_{};
  size_t lingered_ = 0;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(Acceptor acceptor, std::shared_ptr<ServerState> state,
           std::shared_ptr<const ListenerInfo> info)
      : acceptor_(std::move(acceptor)),
        retry_(acceptor_.get_executor()),
        state_(std::move(state)),
        info_(std::move(info)) {}

  void Start() { DoAccept(); }

  void Close() {
    beast::error_code ec;
    CancelTimer(retry_);
    acceptor_.close(ec);
  }

 private:
  void DoAccept() {
    if (state_->stopping) return;
    acceptor_.async_accept(beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }

  void OnAccept(beast::error_code ec, Socket socket) {
    if (ec == net::error::operation_aborted || state_->stopping) return;
    if (ec) {
      // EMFILE and friends: try again a little later instead of spinning.
      retry_.expires_after(kAcceptRetryDelay);
      retry_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec) self->DoAccept();
      });
      return;
    }
    if (info_->open >= info_->max_connections) {
      beast::error_code close_ec;
      socket.close(close_ec);
    } else {
      std::make_shared<Session>(std::move(socket), state_, info_)->Start();
    }
    DoAccept();
  }

  Acceptor acceptor_;
  Timer retry_;
  std::shared_ptr<ServerState> state_;
  std::shared_ptr<const ListenerInfo> info_;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const Clock& clock, HttpServerOptions options)
      : state_(std::make_shared<ServerState>(clock, options)) {}

  ~Impl() {
    // Listeners and signals go before the io_context (declared first, destroyed last), whose
    // destruction then releases any session still queued.
    for (auto& l : listeners_) l->Close();
  }

  Result<BoundListener> AddListener(ListenerSpec spec, AsyncHttpHandler async_handler = {}) {
    beast::error_code ec;
    net::ip::address address = net::ip::make_address(spec.address, ec);
    if (ec) {
      return InvalidArgument("listener \"" + spec.name + "\": \"" + spec.address +
                             "\" is not an IP address");
    }
    std::string where = FormatEndpoint(spec.address, spec.port);
    tcp::endpoint endpoint(address, spec.port);
    Acceptor acceptor(ioc_.get_executor());
    auto fail = [&](const char* step) {
      return Unavailable("listener \"" + spec.name + "\": cannot " + step + " " + where + ": " +
                         ec.message());
    };
    if (acceptor.open(endpoint.protocol(), ec); ec) return fail("open a socket for");
    if (acceptor.set_option(net::socket_base::reuse_address(true), ec); ec) return fail("set up");
    if (acceptor.bind(endpoint, ec); ec) return fail("bind");
    if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) return fail("listen on");
    tcp::endpoint local = acceptor.local_endpoint(ec);
    if (ec) return fail("read the port of");

    auto info = std::make_shared<ListenerInfo>();
    info->bound = BoundListener{spec.name, spec.address, local.port()};
    info->handler = std::move(spec.handler);
    info->async_handler = std::move(async_handler);
    info->max_connections =
        spec.max_connections > 0 ? spec.max_connections : state_->options.max_connections;
    bound_.push_back(info->bound);
    listeners_.push_back(std::make_shared<Listener>(std::move(acceptor), state_, info));
    return info->bound;
  }

  void EnableSignalHandling() {
    if (signals_) return;
    signals_.emplace(ioc_, SIGINT, SIGTERM);
    signals_->async_wait([this](beast::error_code ec, int /*signal*/) {
      if (!ec) Shutdown();
    });
  }

  Status Run() {
    for (auto& l : listeners_) l->Start();
    try {
      ioc_.run();
    } catch (const std::exception& e) {
      return Internal(std::string("mockmeta server stopped by an exception: ") + e.what());
    }
    return Status::Ok();
  }

  void Stop() {
    net::post(ioc_, [this] { Shutdown(); });
  }

  std::vector<BoundListener> bound() const { return bound_; }
  size_t connections() const { return state_->connections.load(); }
  bool WaitForConnections(size_t count, Duration timeout) const {
    std::unique_lock<std::mutex> lock(state_->connections_mu);
    return state_->connections_changed.wait_for(
        lock, timeout, [&] { return state_->connections.load() == count; });
  }

 private:
  // io thread: stop accepting, close every connection; run() returns once nothing is pending.
  void Shutdown() {
    state_->stopping = true;
    for (auto& l : listeners_) l->Close();
    if (signals_) {
      beast::error_code ec;
      signals_->cancel(ec);
    }
    std::vector<std::shared_ptr<Session>> open;
    for (auto& [ptr, weak] : state_->sessions) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
    for (auto& s : open) s->Close();
  }

  net::io_context ioc_{1};
  std::shared_ptr<ServerState> state_;
  std::vector<std::shared_ptr<Listener>> listeners_;
  std::vector<BoundListener> bound_;
  std::optional<net::signal_set> signals_;
};

HttpServer::HttpServer(const Clock& clock, HttpServerOptions options)
    : impl_(std::make_shared<Impl>(clock, options)) {}

HttpServer::~HttpServer() = default;

Result<BoundListener> HttpServer::AddListener(ListenerSpec spec) {
  return impl_->AddListener(std::move(spec));
}

Result<BoundListener> HttpServer::AddAsyncListener(ListenerSpec spec, AsyncHttpHandler handler) {
  return impl_->AddListener(std::move(spec), std::move(handler));
}

std::vector<BoundListener> HttpServer::listeners() const { return impl_->bound(); }

void HttpServer::EnableSignalHandling() { impl_->EnableSignalHandling(); }

Status HttpServer::Run() { return impl_->Run(); }

void HttpServer::Stop() { impl_->Stop(); }

size_t HttpServer::open_connections() const { return impl_->connections(); }

bool HttpServer::WaitForOpenConnections(size_t count, Duration timeout) const {
  return impl_->WaitForConnections(count, timeout);
}

}  // namespace lastcall::mock
