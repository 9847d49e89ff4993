// SplitHttpRequests: turns a fuzz input into the HttpRequest values mockmeta's routers see.
//
// The input reads like requests pipelined on one connection, so seeds are plain wire text:
//
//   GET /latest/meta-data/spot/instance-action HTTP/1.1\r\n
//   X-aws-ec2-metadata-token: $TOKEN\r\n
//   \r\n
//   PUT /latest/api/token HTTP/1.1 ...
//
// Lines end in LF or CRLF. A request line is "METHOD TARGET [HTTP/1.x]"; header lines are
// "Name: value"; a body follows the blank line when Content-Length says so (clamped to what is
// left). Nothing here validates like Beast does: the routers get what Beast could hand them
// and more, which is the point. The pseudo-header "X-Fuzz-Listener: <name>" picks the listener
// the request arrives on (RequestContext::listener) and is removed; a header value "$TOKEN" is
// replaced by the caller with the last token it was issued.
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mockmeta/http/http_message.h"

namespace lastcall::fuzz {

struct FuzzRequest {
  mock::HttpRequest http;
  std::string listener;  // from X-Fuzz-Listener; empty when absent
};

// At most `max_requests` requests; trailing bytes that make no request line are dropped.
std::vector<FuzzRequest> SplitHttpRequests(std::string_view data, size_t max_requests);

}  // namespace lastcall::fuzz
