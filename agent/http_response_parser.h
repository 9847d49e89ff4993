// HttpResponseParser: an incremental HTTP/1.x response parser with no I/O of its own.
//
// The HTTP client feeds it whatever recv() returned, in whatever pieces the network cut; the
// parser never looks back at bytes it was given earlier, so a split in the middle of a status
// line, a header, a chunk-size line or a CRLF parses the same as one big read (the unit tests
// feed byte strings in every split). It understands what a metadata service can answer:
// HTTP/1.0 and 1.1 status lines, headers, interim 1xx responses (skipped), bodies framed by
// Content-Length, by chunked transfer coding, or by the server closing the connection; and it
// decides whether the connection may carry another request (keep-alive).
//
// Limits are enforced while parsing, so a hostile or broken server cannot grow memory without
// bound: the response head (status line plus headers, also chunk trailers) is capped at
// max_header_bytes and the body at max_body_bytes (kResourceExhausted). Anything that is not
// HTTP (a garbage status line, a header without a colon, a bad chunk size or Content-Length)
// is kDataLoss with a message naming what was wrong. After an error the parser stays failed.
//
// Thread-safety: a parser is a plain value used by one thread for one response.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/http_client.h"
#include "common/status.h"

namespace lastcall {

class HttpResponseParser {
 public:
  struct Limits {
    size_t max_header_bytes = 16 * 1024;
    size_t max_body_bytes = 64 * 1024;
  };

  explicit HttpResponseParser(Limits limits) : limits_(limits) {}

  // Parses the next bytes of the response. Returns how many bytes of `data` belong to this
  // response (fewer than data.size() only once done(): the rest is whatever the server sent
  // after it), or the error that makes the response unusable.
  Result<size_t> Feed(std::string_view data);

  // The server closed the connection. Completes a body that runs until close; for any other
  // state it is an error (kUnavailable: the response was cut short, or never started).
  Status FinishAtEof();

  // True once a complete final (non-1xx) response has been parsed.
  bool done() const { return state_ == State::kDone; }
  // True once any byte of a response has arrived (a connection that fails before that may be
  // retried on a fresh one).
  bool started() const { return started_; }
  // Valid once done(): may the connection carry the next request? False for HTTP/1.0 without
  // "Connection: keep-alive", for "Connection: close" and for a body delimited by close.
  bool keep_alive() const { return keep_alive_; }

  HttpResponse& response() { return response_; }
  const HttpResponse& response() const { return response_; }

 private:
  enum class State {
    kStatusLine,
    kHeaders,
    kBodyLength,    // Content-Length bytes left in remaining_
    kChunkSize,     // a chunk-size line
    kChunkData,     // remaining_ bytes of chunk data
    kChunkDataEnd,  // the CRLF after chunk data
    kTrailers,      // trailer lines after the last chunk, up to an empty line
    kBodyUntilClose,
    kDone,
    kFailed,
  };

  // Appends data to line_ up to and including the first '\n'; returns the bytes taken and
  // sets *complete when the '\n' was among them.
  size_t TakeLine(std::string_view data, bool* complete);
  Status OnStatusLine(std::string_view line);
  Status OnHeaderLine(std::string_view line);
  Status OnHeadersComplete();
  Status OnChunkSizeLine(std::string_view line);
  Status AppendBody(std::string_view bytes);
  Status Fail(Status s);

  Limits limits_;
  State state_ = State::kStatusLine;
  HttpResponse response_;
  std::string line_;        // the line being assembled, across Feed() calls
  size_t head_bytes_ = 0;   // bytes of the current head (status line + headers) or trailers
  uint64_t remaining_ = 0;  // body or chunk bytes still expected
  int minor_version_ = 1;   // HTTP/1.<minor>
  bool started_ = false;
  bool keep_alive_ = false;
  Status error_;  // once kFailed
};

}  // namespace lastcall
