#include "agent/http_response_parser.h"

#include <algorithm>
#include <cctype>

namespace lastcall {
namespace {

// A chunk-size line is a hex number plus optional extensions; anything this long is not one.
constexpr size_t kMaxChunkSizeLine = 1024;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Quotes bytes from the wire for an error message: at most 60 of them, non-printable ones as
// \xNN, so a binary answer cannot garble a log line.
std::string Quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 60; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (s.size() > 60) out += "...";
  return out + "\"";
}

// Strips the line terminator: "\n" or "\r\n".
std::string_view StripEol(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Calls f(token) for each comma-separated, trimmed, non-empty token of a header value.
template <typename F>
void ForEachToken(std::string_view value, F f) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view token = TrimWhitespace(value.substr(0, comma));
    if (!token.empty()) f(token);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace

Status HttpResponseParser::Fail(Status s) {
  state_ = State::kFailed;
  error_ = s;
  return s;
}

size_t HttpResponseParser::TakeLine(std::string_view data, bool* complete) {
  size_t nl = data.find('\n');
  size_t n = nl == std::string_view::npos ? data.size() : nl + 1;
  line_.append(data.data(), n);
  *complete = nl != std::string_view::npos;
  return n;
}

Result<size_t> HttpResponseParser::Feed(std::string_view data) {
  if (state_ == State::kFailed) return error_;
  if (!data.empty()) started_ = true;
  size_t pos = 0;
  while (pos < data.size() && state_ != State::kDone) {
    std::string_view rest = data.substr(pos);
    Status st;
    switch (state_) {
      case State::kStatusLine:
      case State::kHeaders:
      case State::kTrailers: {
        bool complete = false;
        size_t n = TakeLine(rest, &complete);
        pos += n;
        head_bytes_ += n;
        if (head_bytes_ > limits_.max_header_bytes) {
          return Fail(ResourceExhausted("response headers larger than " +
                                        std::to_string(limits_.max_header_bytes) + " bytes"));
        }
        if (!complete) break;
        std::string line = std::move(line_);
        line_.clear();
        std::string_view l = StripEol(line);
        if (state_ == State::kStatusLine) {
          // Tolerate stray empty lines before a status line (RFC 9112 section 2.2).
          if (!l.empty()) st = OnStatusLine(l);
        } else if (state_ == State::kHeaders) {
          st = l.empty() ? OnHeadersComplete() : OnHeaderLine(l);
        } else if (l.empty()) {
          state_ = State::kDone;  // trailers are read and dropped: nobody here uses them
        }
        break;
      }
      case State::kChunkSize: {
        bool complete = false;
        pos += TakeLine(rest, &complete);
        if (line_.size() > kMaxChunkSizeLine) {
          return Fail(DataLoss("malformed chunk size line " + Quote(line_) + " (too long)"));
        }
        if (!complete) break;
        std::string line = std::move(line_);
        line_.clear();
        st = OnChunkSizeLine(StripEol(line));
        break;
      }
      case State::kChunkDataEnd: {
        bool complete = false;
        pos += TakeLine(rest, &complete);
        std::string_view l = complete ? StripEol(line_) : std::string_view(line_);
        if (!(l.empty() || (!complete && l == "\r"))) {
          return Fail(DataLoss("chunk data not followed by CRLF"));
        }
        if (complete) {
          line_.clear();
          state_ = State::kChunkSize;
        }
        break;
      }
      case State::kBodyLength:
      case State::kChunkData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        st = AppendBody(rest.substr(0, n));
        pos += n;
        remaining_ -= n;
        if (st.ok() && remaining_ == 0) {
          state_ = state_ == State::kBodyLength ? State::kDone : State::kChunkDataEnd;
        }
        break;
      }
      case State::kBodyUntilClose:
        st = AppendBody(rest);
        pos = data.size();
        break;
      case State::kDone:
      case State::kFailed:
        break;
    }
    if (!st.ok()) return Fail(std::move(st));
  }
  return pos;
}

Status HttpResponseParser::FinishAtEof() {
  switch (state_) {
    case State::kDone:
      return Status::Ok();
    case State::kBodyUntilClose:
      state_ = State::kDone;
      return Status::Ok();
    case State::kFailed:
      return error_;
    case State::kStatusLine:
      if (!started_) {
        return Fail(Unavailable("empty reply: the server closed the connection without answering"));
      }
      [[fallthrough]];
    default:
      return Fail(Unavailable("the server closed the connection in the middle of the response"));
  }
}

Status HttpResponseParser::OnStatusLine(std::string_view line) {
  // "HTTP/1.1 200 OK": version, one space, three digits, then a space and a reason (or end).
  bool ok = line.size() >= 12 && line.starts_with("HTTP/1.") && IsDigit(line[7]) &&
            line[8] == ' ' && IsDigit(line[9]) && IsDigit(line[10]) && IsDigit(line[11]) &&
            (line.size() == 12 || line[12] == ' ') && line[9] != '0';
  if (!ok) return DataLoss("malformed status line " + Quote(line));
  minor_version_ = line[7] - '0';
  response_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  response_.headers.clear();
  state_ = State::kHeaders;
  return Status::Ok();
}

Status HttpResponseParser::OnHeaderLine(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') {
    return DataLoss("folded header line " + Quote(line) + " (obsolete line folding)");
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return DataLoss("malformed header line " + Quote(line) + " (no \"name:\")");
  }
  std::string_view name = line.substr(0, colon);
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return DataLoss("malformed header name " + Quote(name) + " in header line " + Quote(line));
    }
  }
  response_.headers.emplace_back(std::string(name),
                                 std::string(TrimWhitespace(line.substr(colon + 1))));
  return Status::Ok();
}

Status HttpResponseParser::OnHeadersComplete() {
  const int status = response_.status;
  if (status >= 100 && status < 200) {
    if (status == 101) return DataLoss("unexpected 101 Switching Protocols");
    // An interim answer (100 Continue, 103 Early Hints): the real one follows. Head bytes keep
    // counting, so a stream of interim answers still hits the header limit.
    response_.status = 0;
    response_.headers.clear();
    state_ = State::kStatusLine;
    return Status::Ok();
  }
  bool close = false;
  bool keep_alive_token = false;
  bool chunked = false;
  bool has_transfer_encoding = false;
  std::string transfer_encoding;
  std::optional<uint64_t> content_length;
  for (const auto& [name, value] : response_.headers) {
    if (EqualsIgnoreCase(name, "Connection")) {
      ForEachToken(value, [&](std::string_view t) {
        if (EqualsIgnoreCase(t, "close")) close = true;
        if (EqualsIgnoreCase(t, "keep-alive")) keep_alive_token = true;
      });
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      has_transfer_encoding = true;
      if (!transfer_encoding.empty()) transfer_encoding += ", ";
      transfer_encoding += value;
    } else if (EqualsIgnoreCase(name, "Content-Length")) {
      std::string_view v = value;
      if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), IsDigit)) {
        return DataLoss("malformed Content-Length " + Quote(v));
      }
      uint64_t n = std::stoull(std::string(v));
      if (content_length && *content_length != n) {
        return DataLoss("conflicting Content-Length headers (" + std::to_string(*content_length) +
                        " and " + std::to_string(n) + ")");
      }
      content_length = n;
    }
  }
  keep_alive_ = minor_version_ >= 1 ? !close : (keep_alive_token && !close);
  if (has_transfer_encoding) {
    // Only "chunked" alone: a content coding (gzip, ...) would need decoding nobody asked for.
    if (!EqualsIgnoreCase(TrimWhitespace(transfer_encoding), "chunked")) {
      return DataLoss("unsupported Transfer-Encoding " + Quote(transfer_encoding));
    }
    chunked = true;
    // Both framings at once is how request smuggling starts: use chunked, never reuse.
    if (content_length) keep_alive_ = false;
  }
  if (status == 204 || status == 304) {
    state_ = State::kDone;
  } else if (chunked) {
    state_ = State::kChunkSize;
  } else if (content_length) {
    if (*content_length > limits_.max_body_bytes) {
      return ResourceExhausted("response body larger than " +
                               std::to_string(limits_.max_body_bytes) + " bytes (Content-Length " +
                               std::to_string(*content_length) + ")");
    }
    remaining_ = *content_length;
    state_ = remaining_ == 0 ? State::kDone : State::kBodyLength;
  } else {
    keep_alive_ = false;  // the body ends when the connection does
    state_ = State::kBodyUntilClose;
  }
  return Status::Ok();
}

Status HttpResponseParser::OnChunkSizeLine(std::string_view line) {
  std::string_view size = TrimWhitespace(line.substr(0, line.find(';')));
  while (size.size() > 1 && size.front() == '0') size.remove_prefix(1);
  uint64_t n = 0;
  bool ok = !size.empty() && size.size() <= 15;
  for (char c : size) {
    if (!ok) break;
    int d = std::isxdigit(static_cast<unsigned char>(c))
                ? (IsDigit(c) ? c - '0' : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10)
                : -1;
    if (d < 0) ok = false;
    n = n * 16 + static_cast<uint64_t>(d < 0 ? 0 : d);
  }
  if (!ok) return DataLoss("malformed chunk size line " + Quote(line));
  if (n == 0) {
    state_ = State::kTrailers;
    return Status::Ok();
  }
  if (n > limits_.max_body_bytes - response_.body.size()) {
    return ResourceExhausted("response body larger than " + std::to_string(limits_.max_body_bytes) +
                             " bytes (chunked)");
  }
  remaining_ = n;
  state_ = State::kChunkData;
  return Status::Ok();
}

Status HttpResponseParser::AppendBody(std::string_view bytes) {
  if (bytes.size() > limits_.max_body_bytes - response_.body.size()) {
    return ResourceExhausted("response body larger than " + std::to_string(limits_.max_body_bytes) +
                             " bytes");
  }
  response_.body.append(bytes);
  return Status::Ok();
}

}  // namespace lastcall
