// Fuzzes lastcalld's own HTTP/1.x response parser (agent/http_response_parser.h): the first code
// that sees the bytes a metadata server (or whatever answers on its address) sends. The first
// two bytes of the input pick a split point; the rest is the response stream.
//
// Oracles: no crash or sanitizer report; the limits hold (head and body never exceed them);
// feeding the stream in two pieces cut anywhere gives the same outcome as one piece (the
// parser is incremental: recv() cuts where the network cut); Feed never claims more bytes than
// it was given.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/http_response_parser.h"
#include "fuzz/fuzz_check.h"

namespace lastcall {
namespace {

constexpr HttpResponseParser::Limits kLimits{.max_header_bytes = 4096, .max_body_bytes = 8192};

struct Outcome {
  bool ok = true;
  std::string error;
  bool done = false;
  size_t used = 0;
  int status = 0;
  std::string body;
  size_t headers = 0;
};

// Feeds `pieces` in order, then EOF when the response is not complete yet.
Outcome Run(std::initializer_list<std::string_view> pieces) {
  HttpResponseParser parser(kLimits);
  Outcome o;
  for (std::string_view piece : pieces) {
    if (parser.done()) break;
    auto used = parser.Feed(piece);
    if (!used.ok()) {
      o.ok = false;
      o.error = used.status().ToString();
      return o;
    }
    FUZZ_CHECK(*used <= piece.size(), "Feed used %zu of %zu bytes", *used, piece.size());
    o.used += *used;
  }
  if (!parser.done()) {
    Status eof = parser.FinishAtEof();
    if (!eof.ok()) {
      o.ok = false;
      o.error = eof.ToString();
      return o;
    }
  }
  o.done = parser.done();
  o.status = parser.response().status;
  o.body = parser.response().body;
  o.headers = parser.response().headers.size();
  FUZZ_CHECK(o.body.size() <= kLimits.max_body_bytes, "body of %zu bytes", o.body.size());
  return o;
}

}  // namespace
}  // namespace lastcall

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lastcall;
  if (size < 2) return 0;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  const size_t cut = (size_t{data[0]} << 8 | data[1]) % (stream.size() + 1);

  Outcome whole = Run({stream});
  Outcome split = Run({stream.substr(0, cut), stream.substr(cut)});
  FUZZ_CHECK(whole.ok == split.ok, "cut at %zu: %s vs %s", cut, whole.error.c_str(),
             split.error.c_str());
  if (!whole.ok) return 0;
  FUZZ_CHECK(whole.done == split.done && whole.status == split.status && whole.body == split.body &&
                 whole.headers == split.headers && whole.used == split.used,
             "cut at %zu parses differently (status %d/%d, body %zu/%zu bytes, used %zu/%zu)", cut,
             whole.status, split.status, whole.body.size(), split.body.size(), whole.used,
             split.used);
  return 0;
}
