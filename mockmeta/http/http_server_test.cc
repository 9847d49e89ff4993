// Integration tests of HttpServer + ImdsRouter over real loopback sockets.
#include "mockmeta/http/http_server.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <map>
#include <thread>

#include "common/time_format.h"
#include "mockmeta/imds/imds_router.h"
#include "mockmeta/testing/memory_instance_directory.h"
#include "mockmeta/testing/test_http_client.h"

namespace lastcall::mock {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::MakeRequest;
using testing::ParsedResponse;
using testing::TestConnection;

MonoTime Now() { return SystemClock::Instance().Monotonic(); }

// Runs a server on its own thread; stops and joins it when the test ends, pass or fail.
class ServerThread {
 public:
  explicit ServerThread(HttpServer& server) : server_(server) {
    thread_ = std::thread([this] { status_ = server_.Run(); });
  }
  ~ServerThread() {
    server_.Stop();
    thread_.join();
    EXPECT_TRUE(status_.ok()) << status_.ToString();
  }

 private:
  HttpServer& server_;
  Status status_;
  std::thread thread_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() : tokens_(clock_, 3), router_(dir_, tokens_, faults_) {
    AwsMetadataView aws;
    aws.instance_id = "i-0aws";
    aws.instance_type = "m5.large";
    aws.ami_id = "ami-0123";
    aws.local_ipv4 = "10.0.0.5";
    dir_.PutAws(aws);
    AlibabaMetadataView ali;
    ali.instance_id = "i-0ali";
    ali.instance_type = "ecs.g6.large";
    dir_.PutAlibaba(ali);
    dir_.BindListener("i-0aws", "i-0aws");
    dir_.BindListener("i-0ali", "i-0ali");
  }

  // Starts a server with an "imds" listener (prefix addressing) and one port per instance.
  void Start(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(clock_, options);
    for (const char* name : {"imds", "i-0aws", "i-0ali"}) {
      auto bound = server_->AddListener({name, "127.0.0.1", 0, router_.AsHandler()});
      ASSERT_TRUE(bound.ok()) << bound.status().ToString();
      ports_[name] = bound->port;
    }
    thread_ = std::make_unique<ServerThread>(*server_);
  }

  std::unique_ptr<TestConnection> Connect(const std::string& listener = "imds") {
    auto c = TestConnection::Connect("127.0.0.1", ports_.at(listener));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c.value()) : nullptr;
  }

  std::optional<ParsedResponse> Get(TestConnection& c, const std::string& target,
                                    const HttpHeaders& headers = {}) {
    if (!c.Send(MakeRequest("GET", target, headers))) return std::nullopt;
    return c.ReadResponse();
  }

  FakeClock clock_{ParseRfc3339("2026-11-23T12:00:00Z").value()};
  MemoryInstanceDirectory dir_;
  TokenStore tokens_;
  FaultTable faults_{1};
  ImdsRouter router_;
  std::unique_ptr<HttpServer> server_;
  std::map<std::string, unsigned short> ports_;
  std::unique_ptr<ServerThread> thread_;  // declared last: stopped first

  void TearDown() override { thread_.reset(); }
};

TEST_F(HttpServerTest, PortZeroListenersGetDistinctReportedPorts) {
  Start();
  EXPECT_NE(ports_["imds"], 0);
  EXPECT_NE(ports_["i-0aws"], 0);
  EXPECT_NE(ports_["imds"], ports_["i-0aws"]);
  EXPECT_NE(ports_["i-0aws"], ports_["i-0ali"]);
  ASSERT_EQ(server_->listeners().size(), 3u);
  EXPECT_EQ(server_->listeners()[1].name, "i-0aws");
  EXPECT_EQ(server_->listeners()[1].port, ports_["i-0aws"]);
  // Port per instance: no prefix needed.
  auto aws = Connect("i-0aws");
  auto ali = Connect("i-0ali");
  ASSERT_TRUE(aws && ali);
  EXPECT_EQ(Get(*aws, "/latest/meta-data/instance-id")->body, "i-0aws");
  EXPECT_EQ(Get(*ali, "/latest/meta-data/instance-id")->body, "i-0ali");
  // Shared port: the prefix picks the instance.
  auto shared = Connect();
  ASSERT_TRUE(shared);
  EXPECT_EQ(Get(*shared, "/i-0ali/latest/meta-data/instance/instance-type")->body, "ecs.g6.large");
  EXPECT_EQ(Get(*shared, "/latest/meta-data/instance-id")->status, 404);
}

TEST(HttpServerListenTest, Ipv6LoopbackAndBindErrorsAreReported) {
  FakeClock clock;
  HttpServer server(clock);
  auto v6 = server.AddListener({"v6", "::1", 0, [](const HttpRequest& r, const RequestContext& c) {
                                  return HttpResponse::Text(200, c.peer_address + " " + r.path);
                                }});
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  auto clash = server.AddListener({"again", "::1", v6->port, {}});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("[::1]:" + std::to_string(v6->port)), std::string::npos)
      << clash.status().message();
  auto bad = server.AddListener({"bad", "localhost", 0, {}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("\"localhost\" is not an IP address"), std::string::npos);

  ServerThread running(server);
  auto c = TestConnection::Connect("::1", v6->port);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Send(MakeRequest("GET", "/x?y=1")));
  auto r = (*c)->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "::1 /x");
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  Start();
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  for (int i = 0; i < 200; ++i) {
    auto r = Get(*c, i % 2 ? "/latest/meta-data/ami-id" : "/latest/meta-data/instance-id");
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, i % 2 ? "ami-0123" : "i-0aws");
  }
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(HttpServerTest, EveryResponseCarriesVirtualDateAndServer) {
  Start();
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  auto r = Get(*c, "/latest/meta-data/instance-id");
  ASSERT_TRUE(r);
  ASSERT_NE(r->Header("Date"), nullptr);
  EXPECT_EQ(*r->Header("Date"), "Mon, 23 Nov 2026 12:00:00 GMT");
  ASSERT_NE(r->Header("Server"), nullptr);
  EXPECT_EQ(*r->Header("Server"), "mockmeta");
  EXPECT_EQ(*r->Header("Content-Type"), "text/plain");
  clock_.Advance(std::chrono::hours(25));
  auto later = Get(*c, "/latest/meta-data/nope");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 404);
  EXPECT_EQ(*later->Header("Date"), "Tue, 24 Nov 2026 13:00:00 GMT");
  EXPECT_EQ(*later->Header("Content-Type"), "text/html");
  EXPECT_NE(later->body.find("<title>404 - Not Found</title>"), std::string::npos);
}

// The Date value is formatted once per second and reused; it must still follow the clock.
TEST_F(HttpServerTest, DateFollowsTheClockSecondBySecond) {
  Start();
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  auto date = [&] {
    auto r = Get(*c, "/latest/meta-data/instance-id");
    return r && r->Header("Date") ? *r->Header("Date") : std::string("no answer");
  };
  EXPECT_EQ(date(), "Mon, 23 Nov 2026 12:00:00 GMT");
  clock_.Advance(std::chrono::milliseconds(999));
  EXPECT_EQ(date(), "Mon, 23 Nov 2026 12:00:00 GMT");
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(date(), "Mon, 23 Nov 2026 12:00:01 GMT");
  clock_.Advance(std::chrono::seconds(59));
  EXPECT_EQ(date(), "Mon, 23 Nov 2026 12:01:00 GMT");
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Start();
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  std::string batch;
  for (int i = 0; i < 20; ++i) {
    batch +=
        MakeRequest("GET", i % 2 ? "/latest/meta-data/ami-id" : "/latest/meta-data/instance-id");
  }
  ASSERT_TRUE(c->Send(batch));  // one write: the requests arrive together
  for (int i = 0; i < 20; ++i) {
    auto r = c->ReadResponse();
    ASSERT_TRUE(r) << "response " << i;
    EXPECT_EQ(r->body, i % 2 ? "ami-0123" : "i-0aws") << "response " << i;
  }
}

TEST_F(HttpServerTest, TokenFlowOverTheWire) {
  Start();
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(
      MakeRequest("PUT", "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", "300"}})));
  auto token = c->ReadResponse();
  ASSERT_TRUE(token);
  ASSERT_EQ(token->status, 200);
  ASSERT_NE(token->Header("X-aws-ec2-metadata-token-ttl-seconds"), nullptr);
  EXPECT_EQ(*token->Header("X-aws-ec2-metadata-token-ttl-seconds"), "300");
  auto r = Get(*c, "/latest/meta-data/instance-id", {{"X-aws-ec2-metadata-token", token->body}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  clock_.Advance(seconds(300));  // virtual time expires it
  EXPECT_EQ(
      Get(*c, "/latest/meta-data/instance-id", {{"X-aws-ec2-metadata-token", token->body}})->status,
      401);
}

// A real client library (the one lastcalld uses) speaks to the server: IMDSv2 flow, keep-alive
// reuse of one connection, the TTL header on the token response.
TEST_F(HttpServerTest, LibcurlClientWorksAndReusesTheConnection) {
  Start();
  CURL* curl = curl_easy_init();
  ASSERT_NE(curl, nullptr);
  struct Cleanup {
    CURL* c;
    ~Cleanup() { curl_easy_cleanup(c); }
  } cleanup{curl};
  std::string body, headers;
  auto collect = +[](char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  };
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  std::string base = "http://127.0.0.1:" + std::to_string(ports_["imds"]) + "/i-0aws";

  curl_slist* put_headers = curl_slist_append(nullptr, "X-aws-ec2-metadata-token-ttl-seconds: 60");
  curl_easy_setopt(curl, CURLOPT_URL, (base + "/latest/api/token").c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, put_headers);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(put_headers);
  ASSERT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(headers.find("X-aws-ec2-metadata-token-ttl-seconds: 60\r\n"), std::string::npos)
      << headers;
  std::string token = body;

  std::string token_header = "X-aws-ec2-metadata-token: " + token;
  curl_slist* get_headers = curl_slist_append(nullptr, token_header.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, nullptr);
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, get_headers);
  for (const char* path : {"/latest/meta-data/instance-id", "/latest/meta-data/ami-id"}) {
    body.clear();
    curl_easy_setopt(curl, CURLOPT_URL, (base + path).c_str());
    rc = curl_easy_perform(curl);
    ASSERT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    EXPECT_EQ(status, 200) << path;
    long new_connections = -1;
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &new_connections);
    EXPECT_EQ(new_connections, 0) << "connection not reused for " << path;
  }
  curl_slist_free_all(get_headers);
  EXPECT_EQ(body, "ami-0123");
}

TEST_F(HttpServerTest, ReadTimeoutClosesAnIdleConnection) {
  HttpServerOptions o;
  o.read_timeout = milliseconds(200);
  Start(o);
  auto c = Connect();
  ASSERT_TRUE(c);
  MonoTime start = Now();
  EXPECT_EQ(c->WaitForClose(seconds(5)), TestConnection::Outcome::kClosed);
  EXPECT_GE(Now() - start, milliseconds(150));
  // Also after a served request: keep-alive idles out too.
  auto d = Connect("i-0aws");
  ASSERT_TRUE(d);
  ASSERT_TRUE(Get(*d, "/latest/meta-data/instance-id"));
  EXPECT_EQ(d->WaitForClose(seconds(5)), TestConnection::Outcome::kClosed);
}

TEST_F(HttpServerTest, OversizedBodyGets413AndServerKeepsServing) {
  HttpServerOptions o;
  o.body_limit = 1024;
  Start(o);
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(MakeRequest("PUT", "/latest/api/token",
                                  {{"X-aws-ec2-metadata-token-ttl-seconds", "60"}},
                                  std::string(100 * 1024, 'x'))));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(*r->Header("Server"), "mockmeta");
  EXPECT_EQ(c->WaitForClose(seconds(5)), TestConnection::Outcome::kClosed);
  auto d = Connect("i-0aws");
  ASSERT_TRUE(d);
  EXPECT_EQ(Get(*d, "/latest/meta-data/instance-id")->body, "i-0aws");
}

TEST_F(HttpServerTest, OversizedHeaderGets431) {
  Start();
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(MakeRequest("GET", "/latest/meta-data/instance-id",
                                  {{"X-Padding", std::string(16 * 1024, 'p')}})));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(c->WaitForClose(seconds(5)), TestConnection::Outcome::kClosed);
  auto d = Connect("i-0aws");
  ASSERT_TRUE(d);
  EXPECT_EQ(Get(*d, "/latest/meta-data/instance-id")->status, 200);
}

TEST_F(HttpServerTest, MalformedRequestGets400) {
  Start();
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send("GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: nope\r\n\r\n"));
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(c->WaitForClose(seconds(5)), TestConnection::Outcome::kClosed);
}

TEST_F(HttpServerTest, StalledClientDoesNotBlockOthers) {
  Start();
  auto stalled = Connect("i-0aws");
  ASSERT_TRUE(stalled);
  ASSERT_TRUE(stalled->Send("GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: a\r\n"));
  auto other = Connect("i-0aws");
  ASSERT_TRUE(other);
  MonoTime start = Now();
  for (int i = 0; i < 20; ++i) {
    auto r = Get(*other, "/latest/meta-data/ami-id");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "ami-0123");
  }
  EXPECT_LT(Now() - start, seconds(2));
  EXPECT_FALSE(stalled->HasData());
  // The stalled client finishes its request and is served too.
  ASSERT_TRUE(stalled->Send("\r\n"));
  auto r = stalled->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "i-0aws");
}

TEST_F(HttpServerTest, LatencyFaultDelaysOnlyThatRequest) {
  FaultRule slow;
  slow.instance = "i-0aws";
  slow.path = "/latest/meta-data/instance-id";
  slow.kind = FaultKind::kLatency;
  slow.latency = milliseconds(700);
  slow.count = 1;
  ASSERT_TRUE(faults_.Add(slow).ok());
  Start();
  auto a = Connect("i-0aws");
  auto b = Connect("i-0aws");
  ASSERT_TRUE(a && b);
  MonoTime start = Now();
  ASSERT_TRUE(a->Send(MakeRequest("GET", "/latest/meta-data/instance-id")));
  // While `a` waits, `b` is answered at once (the delay is a timer, not a blocked thread).
  auto rb = Get(*b, "/latest/meta-data/ami-id");
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->body, "ami-0123");
  EXPECT_LT(Now() - start, milliseconds(500));
  EXPECT_FALSE(a->HasData());
  auto ra = a->ReadResponse(seconds(5));
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->body, "i-0aws");
  EXPECT_GE(Now() - start, milliseconds(650));
  // count = 1: the next one is fast again.
  MonoTime again = Now();
  EXPECT_EQ(Get(*a, "/latest/meta-data/instance-id")->body, "i-0aws");
  EXPECT_LT(Now() - again, milliseconds(500));
}

TEST_F(HttpServerTest, DropFaultClosesWithoutAnswer) {
  FaultRule drop;
  drop.instance = "i-0aws";
  drop.path = "/latest/meta-data/*";
  drop.kind = FaultKind::kDrop;
  drop.count = 1;
  ASSERT_TRUE(faults_.Add(drop).ok());
  Start();
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send(MakeRequest("GET", "/latest/meta-data/instance-id")));
  EXPECT_EQ(c->WaitForClose(seconds(5)), TestConnection::Outcome::kClosed);
  auto d = Connect("i-0aws");
  ASSERT_TRUE(d);
  EXPECT_EQ(Get(*d, "/latest/meta-data/instance-id")->body, "i-0aws");
}

TEST_F(HttpServerTest, ErrorFaultOverTheWire) {
  FaultRule err;
  err.path = "/latest/meta-data/spot/*";
  err.kind = FaultKind::kErrorStatus;
  err.status = 429;
  ASSERT_TRUE(faults_.Add(err).ok());
  Start();
  auto c = Connect();
  ASSERT_TRUE(c);
  auto r = Get(*c, "/i-0aws/latest/meta-data/spot/instance-action");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_NE(r->body.find("429 - Too Many Requests"), std::string::npos);
}

TEST_F(HttpServerTest, ConnectionLimitClosesExcessConnections) {
  HttpServerOptions o;
  o.max_connections = 2;
  Start(o);
  auto a = Connect("i-0aws");
  auto b = Connect("i-0aws");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(Get(*a, "/latest/meta-data/instance-id"));  // both accepted by now
  ASSERT_TRUE(Get(*b, "/latest/meta-data/instance-id"));
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  c->Send(MakeRequest("GET", "/latest/meta-data/instance-id"));
  EXPECT_EQ(c->WaitForClose(seconds(5)), TestConnection::Outcome::kClosed);
  a.reset();
  // Once a slot is free, new connections are served again (bounded wait for the close to land).
  EXPECT_TRUE(server_->WaitForOpenConnections(1, seconds(5)));
  auto d = Connect("i-0aws");
  ASSERT_TRUE(d);
  EXPECT_EQ(Get(*d, "/latest/meta-data/instance-id")->body, "i-0aws");
}

// One cap for all listeners let 2,000 IMDS connects lock the control API out: each listener now
// counts its own connections.
TEST_F(HttpServerTest, EachListenerHasItsOwnConnectionCap) {
  HttpServerOptions o;
  o.max_connections = 2;
  Start(o);
  auto a = Connect("imds");
  auto b = Connect("imds");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(Get(*a, "/i-0aws/latest/meta-data/instance-id"));
  ASSERT_TRUE(Get(*b, "/i-0aws/latest/meta-data/instance-id"));
  auto over = Connect("imds");
  ASSERT_TRUE(over);
  over->Send(MakeRequest("GET", "/i-0aws/latest/meta-data/instance-id"));
  EXPECT_EQ(over->WaitForClose(seconds(5)), TestConnection::Outcome::kClosed);
  // The other listeners are not touched by the full one.
  auto c = Connect("i-0aws");
  auto d = Connect("i-0aws");
  ASSERT_TRUE(c && d);
  EXPECT_EQ(Get(*c, "/latest/meta-data/instance-id")->body, "i-0aws");
  EXPECT_EQ(Get(*d, "/latest/meta-data/instance-id")->body, "i-0aws");
}

// Slowloris: a client dribbling a header held its connection for the whole idle timeout. Once
// a request's first bytes are in, the request has request_timeout to complete; an idle
// keep-alive connection still gets the longer read_timeout.
TEST_F(HttpServerTest, AStartedRequestIsCutOffAtTheRequestTimeoutNotTheIdleTimeout) {
  HttpServerOptions o;
  o.read_timeout = seconds(60);
  o.request_timeout = milliseconds(200);
  Start(o);
  auto idle = Connect("i-0aws");
  auto slow = Connect("i-0aws");
  ASSERT_TRUE(idle && slow);
  const MonoTime start = Now();
  ASSERT_TRUE(slow->Send("GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: x\r\nX-A: 1"));
  EXPECT_EQ(slow->WaitForClose(seconds(10)), TestConnection::Outcome::kClosed);
  EXPECT_LT(Now() - start, seconds(5));  // two request timeouts at most, not 60 s
  // The idle one was not cut off meanwhile and still serves.
  EXPECT_FALSE(idle->HasData());
  EXPECT_EQ(Get(*idle, "/latest/meta-data/instance-id")->body, "i-0aws");
}

// RFC 9112 §6.3: a transfer coding that does not end in chunked leaves the body length unknown;
// reading on let a second request be smuggled in behind the first.
TEST_F(HttpServerTest, TransferEncodingOtherThanAFinalChunkedGets400AndCloses) {
  Start();
  for (const char* coding : {"gzip", "identity", "deflate", "chunked, identity"}) {
    auto c = Connect("i-0aws");
    ASSERT_TRUE(c);
    c->Send(std::string("POST /latest/api/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") +
            coding + "\r\n\r\n" + MakeRequest("GET", "/latest/meta-data/instance-id"));
    auto r = c->ReadResponse();
    ASSERT_TRUE(r) << coding;
    EXPECT_EQ(r->status, 400) << coding;
    EXPECT_NE(r->body.find("Transfer-Encoding"), std::string::npos) << r->body;
    EXPECT_EQ(*r->Header("Connection"), "close");
    // The smuggled request is never answered.
    EXPECT_EQ(c->WaitForClose(seconds(5)), TestConnection::Outcome::kClosed) << coding;
  }
  // A coding before a final chunked is valid HTTP that this server does not decode: 501.
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  c->Send(
      "POST /latest/api/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "0\r\n\r\n");
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 501);
  // Plain chunked still works.
  auto ok = Connect("i-0aws");
  ok->Send(
      "PUT /latest/api/token HTTP/1.1\r\nHost: x\r\n"
      "X-aws-ec2-metadata-token-ttl-seconds: 60\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n");
  r = ok->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  Start();
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  c->Send(
      "PUT /latest/api/token HTTP/1.1\r\nHost: x\r\n"
      "X-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 4\r\n"
      "Expect: 100-continue\r\n\r\n");
  auto interim = c->ReadResponse();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  c->Send("abcd");
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

// RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host is a 400. HTTP/1.0 needs none.
TEST_F(HttpServerTest, Http11WithoutExactlyOneHostGets400) {
  Start();
  for (const char* head :
       {"GET /latest/meta-data/instance-id HTTP/1.1\r\n\r\n",
        "GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}) {
    auto c = Connect("i-0aws");
    ASSERT_TRUE(c);
    c->Send(head);
    auto r = c->ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(r->body.find("Host"), std::string::npos) << r->body;
  }
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  c->Send("GET /latest/meta-data/instance-id HTTP/1.0\r\n\r\n");
  auto r = c->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// The connection timer only watches: a connection whose client has gone is released at once,
// not when its read timeout would have fired.
TEST_F(HttpServerTest, AClosedConnectionIsReleasedBeforeItsTimeout) {
  HttpServerOptions o;
  o.read_timeout = seconds(60);
  Start(o);
  auto c = Connect("i-0aws");
  ASSERT_TRUE(c);
  ASSERT_TRUE(Get(*c, "/latest/meta-data/instance-id"));
  EXPECT_EQ(server_->open_connections(), 1u);
  c.reset();  // the client closes
  EXPECT_TRUE(server_->WaitForOpenConnections(0, seconds(5)));
}

// A client that asks for a large answer and never reads it is cut off after the write timeout.
TEST(HttpServerHandlerTest, WriteTimeoutClosesAClientThatDoesNotRead) {
  FakeClock clock;
  HttpServerOptions o;
  o.write_timeout = seconds(1);
  HttpServer server(clock, o);
  const std::string big(size_t{64} << 20, 'x');  // far more than the loopback socket buffers
  auto bound =
      server.AddListener({"t", "127.0.0.1", 0, [&big](const HttpRequest&, const RequestContext&) {
                            return HttpResponse::Text(200, big);
                          }});
  ASSERT_TRUE(bound.ok());
  ServerThread running(server);
  auto c = TestConnection::Connect("127.0.0.1", bound->port);
  ASSERT_TRUE(c.ok());
  const MonoTime start = Now();
  ASSERT_TRUE((*c)->Send(MakeRequest("GET", "/big")));
  ASSERT_TRUE(server.WaitForOpenConnections(1, seconds(5)));
  EXPECT_TRUE(server.WaitForOpenConnections(0, seconds(10)));
  EXPECT_GE(Now() - start, milliseconds(900));
}

TEST(HttpServerHandlerTest, ThrowingHandlerGets500AndServerGoesOn) {
  FakeClock clock;
  HttpServer server(clock);
  auto bound = server.AddListener(
      {"t", "127.0.0.1", 0, [](const HttpRequest& r, const RequestContext&) -> HttpResponse {
         if (r.path == "/throw") throw std::runtime_error("boom");
         return HttpResponse::Text(200, "fine");
       }});
  ASSERT_TRUE(bound.ok());
  ServerThread running(server);
  auto c = TestConnection::Connect("127.0.0.1", bound->port);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Send(MakeRequest("GET", "/throw")));
  auto r = (*c)->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("boom"), std::string::npos);
  ASSERT_TRUE((*c)->Send(MakeRequest("GET", "/ok")));
  r = (*c)->ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "fine");
}

// The server writes its responses itself: the head must be what a client library expects.
TEST(HttpServerHandlerTest, HeadGetsTheLengthButNoBodyAndHttp10KeepAliveIsExplicit) {
  FakeClock clock;
  HttpServer server(clock);
  auto bound = server.AddListener(
      {"t", "127.0.0.1", 0, [](const HttpRequest& r, const RequestContext&) -> HttpResponse {
         HttpResponse response = HttpResponse::Text(200, r.method + " body");
         response.SetHeader("X-Extra", "1");
         return response;
       }});
  ASSERT_TRUE(bound.ok());
  ServerThread running(server);
  auto c = TestConnection::Connect("127.0.0.1", bound->port);
  ASSERT_TRUE(c.ok());
  // HEAD then GET in one write: no body bytes of the HEAD answer may precede the GET's answer.
  ASSERT_TRUE((*c)->Send(MakeRequest("HEAD", "/x") + MakeRequest("GET", "/x")));
  auto head = (*c)->ReadResponse(seconds(5), /*to_head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(*head->Header("Content-Length"), "9");  // "HEAD body"
  EXPECT_EQ(*head->Header("X-Extra"), "1");
  EXPECT_EQ(head->Header("Connection"), nullptr);  // HTTP/1.1 is persistent by default
  auto get = (*c)->ReadResponse();
  ASSERT_TRUE(get);
  EXPECT_EQ(get->version, "HTTP/1.1");
  EXPECT_EQ(get->body, "GET body");

  // HTTP/1.0 stays open only when asked, and says so; otherwise it is answered and closed.
  auto old = TestConnection::Connect("127.0.0.1", bound->port);
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE((*old)->Send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto kept = (*old)->ReadResponse();
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->version, "HTTP/1.0");
  ASSERT_NE(kept->Header("Connection"), nullptr);
  EXPECT_EQ(*kept->Header("Connection"), "keep-alive");
  ASSERT_TRUE((*old)->Send("GET /b HTTP/1.0\r\n\r\n"));
  auto last = (*old)->ReadResponse();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, "GET body");
  EXPECT_EQ((*old)->WaitForClose(seconds(5)), TestConnection::Outcome::kClosed);
}

TEST(HttpServerStopTest, StopEndsRunAndClosesOpenConnections) {
  FakeClock clock;
  HttpServer server(clock);
  auto bound =
      server.AddListener({"t", "127.0.0.1", 0, [](const HttpRequest&, const RequestContext&) {
                            return HttpResponse::Text(200, "x");
                          }});
  ASSERT_TRUE(bound.ok());
  std::atomic<bool> returned{false};
  Status status = Internal("not run");
  std::thread t([&] {
    status = server.Run();
    returned = true;
  });
  auto c = TestConnection::Connect("127.0.0.1", bound->port);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Send(MakeRequest("GET", "/")));
  ASSERT_TRUE((*c)->ReadResponse());
  server.Stop();
  EXPECT_EQ((*c)->WaitForClose(seconds(5)), TestConnection::Outcome::kClosed);
  t.join();
  EXPECT_TRUE(returned);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_FALSE(TestConnection::Connect("127.0.0.1", bound->port).ok());
}

TEST(HttpServerStopTest, StopBeforeRunMakesRunReturn) {
  FakeClock clock;
  HttpServer server(clock);
  ASSERT_TRUE(server.AddListener({"t", "127.0.0.1", 0, {}}).ok());
  server.Stop();
  EXPECT_TRUE(server.Run().ok());
}

TEST(HttpServerSignalTest, SigtermStopsRun) {
  FakeClock clock;
  HttpServer server(clock);
  ASSERT_TRUE(server.AddListener({"t", "127.0.0.1", 0, {}}).ok());
  server.EnableSignalHandling();  // registered now, so the signal cannot kill the process
  std::promise<void> returned;
  std::future<void> run_ended = returned.get_future();
  std::thread t([&] {
    EXPECT_TRUE(server.Run().ok());
    returned.set_value();
  });
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  const bool stopped = run_ended.wait_for(seconds(5)) == std::future_status::ready;
  EXPECT_TRUE(stopped);
  if (!stopped) server.Stop();  // do not hang the test binary
  t.join();
}

}  // namespace
}  // namespace lastcall::mock
