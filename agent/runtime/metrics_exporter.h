// MetricsExporter: gets the daemon's Metrics out, as a textfile and/or over loopback HTTP.
//
// The textfile (for node_exporter's textfile collector) is rewritten atomically every
// write_interval and at exit, so the collector never reads a half-written file. The optional
// listener is a deliberately tiny Boost.Asio server: GET /metrics only, request head bounded
// to 8 KiB, 5 s per connection, at most 32 connections, one thread. It refuses non-loopback
// addresses (the config loader rejects them too): the endpoint has no authentication and would
// tell the network when this instance is about to go away. Remote scraping uses the textfile.
//
// Thread-safety: MetricsServer runs its own thread and only reads Metrics (which is
// thread-safe). MetricsExporter is driven by one thread (the daemon loop).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "agent/base/config.h"
#include "agent/base/metrics.h"
#include "common/clock.h"
#include "common/status.h"

namespace lastcall {

// The pure part of the HTTP server: a request head ("GET /metrics HTTP/1.1\r\n...") to the
// full response bytes. GET/HEAD /metrics: 200 in Prometheus text format 0.0.4; other paths
// 404; other methods 405; an unparsable request line 400.
std::string HandleMetricsRequest(std::string_view head, const Metrics& metrics);

class MetricsServer {
 public:
  // `listen` is "HOST:PORT" (port 0 picks a free port); HOST must be loopback.
  static Result<std::unique_ptr<MetricsServer>> Start(const Metrics& metrics,
                                                      const std::string& listen);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  uint16_t port() const { return port_; }
  const std::string& listen() const { return listen_; }

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::string listen_;
};

class MetricsExporter {
 public:
  MetricsExporter(const Metrics& metrics, const Clock& clock);
  ~MetricsExporter();

  // Applies options: (re)starts or stops the listener when `listen` changed. A listener that
  // cannot start is an error, but the textfile part is applied regardless.
  Status Configure(const MetricsOptions& options);

  // Writes the textfile if one is configured and write_interval has passed since the last.
  void MaybeWrite();
  // Writes it now (at exit). Ok when no textfile is configured.
  Status WriteNow();
  // When MaybeWrite next has something to do; MonoTime::max() when never.
  MonoTime NextWrite() const;

  uint16_t http_port() const { return server_ ? server_->port() : 0; }

 private:
  const Metrics& metrics_;
  const Clock& clock_;
  MetricsOptions options_;
  MonoTime next_write_{};
  bool write_failing_ = false;
  std::unique_ptr<MetricsServer> server_;
};

}  // namespace lastcall
