#include "fuzz/http_input.h"

#include <algorithm>
#include <charconv>
#include <utility>

namespace lastcall::fuzz {
namespace {

// One line without its LF / CRLF; advances `data` past it.
std::string_view TakeLine(std::string_view& data) {
  size_t nl = data.find('\n');
  std::string_view line = data.substr(0, nl);
  data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<FuzzRequest> SplitHttpRequests(std::string_view data, size_t max_requests) {
  std::vector<FuzzRequest> out;
  while (!data.empty() && out.size() < max_requests) {
    std::string_view line = TakeLine(data);
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0) continue;  // not a request line
    std::string_view method = line.substr(0, sp);
    std::string_view rest = line.substr(sp + 1);
    size_t sp2 = rest.find(' ');
    std::string_view target = rest.substr(0, sp2);
    std::string_view version = sp2 == std::string_view::npos ? "" : rest.substr(sp2 + 1);

    mock::HttpHeaders headers;
    std::string listener;
    size_t content_length = 0;
    while (!data.empty()) {
      std::string_view h = TakeLine(data);
      if (h.empty()) break;
      size_t colon = h.find(':');
      std::string_view name = h.substr(0, colon);
      std::string_view value =
          colon == std::string_view::npos ? std::string_view() : Trim(h.substr(colon + 1));
      if (mock::EqualsIgnoreCase(name, "X-Fuzz-Listener")) {
        listener = std::string(value);
        continue;
      }
      if (mock::EqualsIgnoreCase(name, "Content-Length")) {
        std::from_chars(value.data(), value.data() + value.size(), content_length);
      }
      headers.emplace_back(std::string(name), std::string(value));
    }
    size_t body_size = std::min(content_length, data.size());
    std::string body(data.substr(0, body_size));
    data.remove_prefix(body_size);

    FuzzRequest r{mock::HttpRequest::Make(std::string(method), std::string(target),
                                          std::move(headers), std::move(body)),
                  std::move(listener)};
    r.http.version = version == "HTTP/1.0" ? 10 : 11;
    r.http.keep_alive = r.http.version == 11;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace lastcall::fuzz
