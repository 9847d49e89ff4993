// HttpResponseParser on byte strings: every response is parsed whole, byte by byte, and cut
// in two and three pieces at every position, and all of them must agree.
#include "agent/http_response_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace lastcall {
namespace {

using Limits = HttpResponseParser::Limits;

struct Outcome {
  Status status;  // the first error, from Feed or FinishAtEof
  int http_status = 0;
  std::string body;
  HttpHeaders headers;
  bool done = false;
  bool keep_alive = false;
  size_t consumed = 0;  // bytes Feed() claimed for the response
};

bool operator==(const Outcome& a, const Outcome& b) {
  return a.status == b.status && a.http_status == b.http_status && a.body == b.body &&
         a.headers == b.headers && a.done == b.done && a.keep_alive == b.keep_alive &&
         a.consumed == b.consumed;
}

// Feeds `wire` cut at `cuts` (ascending offsets); `eof` then tells the parser the server closed.
Outcome Parse(std::string_view wire, const std::vector<size_t>& cuts, bool eof, Limits limits) {
  HttpResponseParser p(limits);
  Outcome out;
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(wire.size());
  for (size_t end : ends) {
    Result<size_t> used = p.Feed(wire.substr(from, end - from));
    if (!used.ok()) {
      out.status = used.status();
      out.consumed = 0;  // how far it got before failing depends on the cuts
      break;
    }
    out.consumed += *used;
    from = end;
  }
  if (out.status.ok() && eof) out.status = p.FinishAtEof();
  out.done = p.done();
  if (p.done()) {
    out.http_status = p.response().status;
    out.body = p.response().body;
    out.headers = p.response().headers;
    out.keep_alive = p.keep_alive();
  }
  return out;
}

// Parses `wire` whole and checks that every way of cutting it gives the same outcome.
Outcome ParseEverySplit(std::string_view wire, bool eof = false, Limits limits = {}) {
  Outcome whole = Parse(wire, {}, eof, limits);
  std::vector<size_t> bytes;
  for (size_t i = 1; i < wire.size(); ++i) bytes.push_back(i);
  EXPECT_EQ(Parse(wire, bytes, eof, limits), whole) << "byte by byte";
  for (size_t i = 1; i < wire.size(); ++i) {
    EXPECT_EQ(Parse(wire, {i}, eof, limits), whole) << "cut at " << i;
    for (size_t j = i + 1; j < wire.size() && wire.size() < 200; ++j) {
      EXPECT_EQ(Parse(wire, {i, j}, eof, limits), whole) << "cut at " << i << " and " << j;
    }
  }
  return whole;
}

TEST(HttpResponseParserTest, ContentLengthBody) {
  Outcome o = ParseEverySplit(
      "HTTP/1.1 200 OK\r\nDate: Mon, 23 Nov 2026 19:00:00 GMT\r\n"
      "X-aws-ec2-metadata-token-ttl-seconds:  21600 \r\nContent-Length: 6\r\n\r\ni-0abc");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.http_status, 200);
  EXPECT_EQ(o.body, "i-0abc");
  EXPECT_TRUE(o.keep_alive);
  HttpHeaders want = {{"Date", "Mon, 23 Nov 2026 19:00:00 GMT"},
                      {"X-aws-ec2-metadata-token-ttl-seconds", "21600"},
                      {"Content-Length", "6"}};
  EXPECT_EQ(o.headers, want);
}

TEST(HttpResponseParserTest, ChunkedBodyWithExtensionsAndTrailers) {
  Outcome o = ParseEverySplit(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n1;name=val\r\n \r\nA \r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.body, "hello 0123456789");
  EXPECT_TRUE(o.keep_alive);
}

TEST(HttpResponseParserTest, BareLineFeedsAreAccepted) {
  Outcome o =
      ParseEverySplit("HTTP/1.1 404 Not Found\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.http_status, 404);
  EXPECT_EQ(o.body, "abc");
}

TEST(HttpResponseParserTest, BytesAfterTheResponseAreNotConsumed) {
  std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  Outcome o = ParseEverySplit(first + "HTTP/1.1 200 OK\r\n");
  ASSERT_TRUE(o.done);
  EXPECT_EQ(o.consumed, first.size());
  EXPECT_EQ(o.body, "ok");
}

TEST(HttpResponseParserTest, BodyUntilCloseNeedsEofAndEndsKeepAlive) {
  std::string wire = "HTTP/1.1 200 OK\r\n\r\nuntil the end";
  Outcome open = Parse(wire, {}, /*eof=*/false, {});
  EXPECT_FALSE(open.done);
  Outcome o = ParseEverySplit(wire, /*eof=*/true);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.body, "until the end");
  EXPECT_FALSE(o.keep_alive);
}

TEST(HttpResponseParserTest, ConnectionCloseAndHttp10) {
  EXPECT_FALSE(ParseEverySplit("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n")
                   .keep_alive);
  EXPECT_FALSE(ParseEverySplit("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx").keep_alive);
  Outcome ka =
      ParseEverySplit("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx");
  EXPECT_TRUE(ka.done);
  EXPECT_TRUE(ka.keep_alive);
  EXPECT_FALSE(
      ParseEverySplit("HTTP/1.1 200 OK\r\nConnection: TE, close\r\nContent-Length: 0\r\n\r\n")
          .keep_alive);
}

TEST(HttpResponseParserTest, InterimResponsesAreSkipped) {
  Outcome o = ParseEverySplit(
      "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n"
      "\r\nx");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.http_status, 201);
  EXPECT_EQ(o.headers, (HttpHeaders{{"Content-Length", "1"}}));
}

TEST(HttpResponseParserTest, NoBodyFor204And304) {
  Outcome o = ParseEverySplit("HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_TRUE(o.done);
  EXPECT_TRUE(o.keep_alive);
  EXPECT_TRUE(ParseEverySplit("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n").done);
}

TEST(HttpResponseParserTest, StatusLineWithoutReason) {
  Outcome o = ParseEverySplit("HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.http_status, 503);
}

// Errors: the code, and a message that names what was wrong.
void ExpectError(std::string_view wire, StatusCode code, std::string_view text, bool eof = false,
                 Limits limits = {}) {
  SCOPED_TRACE(std::string(wire.substr(0, 80)));
  Outcome o = ParseEverySplit(wire, eof, limits);
  EXPECT_EQ(o.status.code(), code) << o.status.ToString();
  EXPECT_NE(o.status.message().find(text), std::string::npos) << o.status.ToString();
  EXPECT_FALSE(o.done);
}

TEST(HttpResponseParserTest, MalformedStatusLines) {
  ExpectError("SSH-2.0-OpenSSH_9.2\r\n", StatusCode::kDataLoss,
              "malformed status line \"SSH-2.0-OpenSSH_9.2\"");
  ExpectError("HTTP/1.1 2000 OK\r\n\r\n", StatusCode::kDataLoss, "malformed status line");
  ExpectError("HTTP/1.1 20 OK\r\n\r\n", StatusCode::kDataLoss, "malformed status line");
  ExpectError("HTTP/1.1 099 Low\r\n\r\n", StatusCode::kDataLoss, "malformed status line");
  ExpectError("HTTP/2 200\r\n\r\n", StatusCode::kDataLoss, "malformed status line");
  ExpectError("\x01\x02\xff\r\n", StatusCode::kDataLoss, "\"\\x01\\x02\\xff\"");
}

TEST(HttpResponseParserTest, MalformedHeaders) {
  ExpectError("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", StatusCode::kDataLoss,
              "malformed header line \"no colon here\"");
  ExpectError("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", StatusCode::kDataLoss,
              "malformed header line");
  ExpectError("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", StatusCode::kDataLoss,
              "malformed header name \"Bad Name\"");
  ExpectError("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", StatusCode::kDataLoss,
              "folded header line");
  ExpectError("HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n", StatusCode::kDataLoss,
              "malformed Content-Length \"12x\"");
  ExpectError("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", StatusCode::kDataLoss,
              "malformed Content-Length");
  ExpectError("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
              StatusCode::kDataLoss, "conflicting Content-Length headers (1 and 2)");
  ExpectError("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", StatusCode::kDataLoss,
              "unsupported Transfer-Encoding \"gzip, chunked\"");
  ExpectError("HTTP/1.1 101 Switching Protocols\r\n\r\n", StatusCode::kDataLoss, "101");
}

TEST(HttpResponseParserTest, MalformedChunks) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  ExpectError(head + "zz\r\n", StatusCode::kDataLoss, "malformed chunk size line \"zz\"");
  ExpectError(head + "\r\n", StatusCode::kDataLoss, "malformed chunk size line \"\"");
  ExpectError(head + "-5\r\n", StatusCode::kDataLoss, "malformed chunk size line");
  ExpectError(head + "3\r\nabcX\r\n", StatusCode::kDataLoss, "chunk data not followed by CRLF");
  ExpectError(head + "3\r\nabc\rX", StatusCode::kDataLoss, "chunk data not followed by CRLF");
  ExpectError(head + std::string(2000, '1'), StatusCode::kDataLoss, "too long");
  // A size that would overflow 64 bits is malformed, not wrapped around.
  ExpectError(head + "10000000000000001\r\n", StatusCode::kDataLoss, "malformed chunk size");
}

TEST(HttpResponseParserTest, HeaderLimit) {
  Limits small{.max_header_bytes = 64, .max_body_bytes = 1024};
  ExpectError("HTTP/1.1 200 OK\r\nX-Fat: " + std::string(100, 'h') + "\r\n\r\n",
              StatusCode::kResourceExhausted, "response headers larger than 64 bytes",
              /*eof=*/false, small);
  // Without a line end in sight, too: the limit holds while a line is still being assembled.
  ExpectError("HTTP/1.1 200 OK\r\nX-Fat: " + std::string(100, 'h'), StatusCode::kResourceExhausted,
              "headers larger", /*eof=*/false, small);
  // Endless interim responses count against the same limit.
  std::string interim;
  for (int i = 0; i < 10; ++i) interim += "HTTP/1.1 100 Continue\r\n\r\n";
  ExpectError(interim, StatusCode::kResourceExhausted, "headers larger", /*eof=*/false, small);
  // Trailers too.
  ExpectError("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " +
                  std::string(100, 't') + "\r\n\r\n",
              StatusCode::kResourceExhausted, "headers larger", /*eof=*/false, small);
}

TEST(HttpResponseParserTest, BodyLimit) {
  Limits small{.max_header_bytes = 1024, .max_body_bytes = 10};
  ExpectError("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", StatusCode::kResourceExhausted,
              "response body larger than 10 bytes (Content-Length 11)", false, small);
  ExpectError("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n",
              StatusCode::kResourceExhausted, "response body larger than 10 bytes", false, small);
  ExpectError("HTTP/1.1 200 OK\r\n\r\n" + std::string(11, 'x'), StatusCode::kResourceExhausted,
              "response body larger than 10 bytes", false, small);
  Outcome exact =
      ParseEverySplit("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", false, small);
  EXPECT_TRUE(exact.done);
}

TEST(HttpResponseParserTest, EofBeforeTheEnd) {
  ExpectError("", StatusCode::kUnavailable, "empty reply", /*eof=*/true);
  ExpectError("HTTP/1.1 200 OK\r\nContent-Len", StatusCode::kUnavailable,
              "closed the connection in the middle of the response", /*eof=*/true);
  ExpectError("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", StatusCode::kUnavailable,
              "in the middle", /*eof=*/true);
  ExpectError("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc",
              StatusCode::kUnavailable, "in the middle", /*eof=*/true);
}

TEST(HttpResponseParserTest, StartedAndFailedStays) {
  HttpResponseParser p(Limits{});
  EXPECT_FALSE(p.started());
  ASSERT_TRUE(p.Feed("").ok());
  EXPECT_FALSE(p.started());
  EXPECT_FALSE(p.Feed("garbage\r\n").ok());
  EXPECT_TRUE(p.started());
  Result<size_t> again = p.Feed("HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(again.status().code(), StatusCode::kDataLoss);
  EXPECT_FALSE(p.done());
}

// Mutated responses (fixed seed): whatever the bytes, the parser ends in done, an error or a
// wish for more, with the limits held; never a crash (this runs under ASan/UBSan too).
TEST(HttpResponseParserTest, MutatedResponsesNeverBreakTheLimits) {
  const std::vector<std::string> seeds = {
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: x\r\n\r\nhello",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n",
      "HTTP/1.0 404 Not Found\r\n\r\nbody until close",
  };
  const std::string alphabet = "0123456789abcdefABCDEF:;, \r\n\t-HTTP/1.chunkedContent-Length\xff";
  std::mt19937 rng(12345);
  Limits limits{.max_header_bytes = 128, .max_body_bytes = 32};
  for (int i = 0; i < 3000; ++i) {
    std::string wire = seeds[static_cast<size_t>(i) % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % (wire.size() + 1);
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          if (at < wire.size()) wire[at] = c;
          break;
        case 1:
          wire.insert(at, std::string(1 + rng() % 40, c));
          break;
        default:
          if (at < wire.size()) wire.erase(at, 1 + rng() % 8);
      }
    }
    HttpResponseParser p(limits);
    size_t from = 0;
    Status st;
    while (from < wire.size() && st.ok() && !p.done()) {
      size_t n = 1 + rng() % 16;
      Result<size_t> used = p.Feed(std::string_view(wire).substr(from, n));
      st = used.status();
      from += n;
    }
    if (st.ok() && rng() % 2 == 0) st = p.FinishAtEof();
    EXPECT_LE(p.response().body.size(), limits.max_body_bytes) << wire;
    if (!st.ok()) {
      EXPECT_FALSE(p.done());
      EXPECT_FALSE(st.message().empty());
    }
  }
}

}  // namespace
}  // namespace lastcall
