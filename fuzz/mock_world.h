// MockWorld: a small mockmeta, in process and on a fake clock, for the control-API and IMDS
// fuzzers: one Market loaded from a fixed scenario, the control API and the IMDS router over it,
// and instances set up through the control API the way a test would: an AWS spot instance with
// an interruption (instance-action, rebalance), an AWS instance with IMDSv2 required, a
// scheduled event and a lifecycle state, and an Alibaba preemptible instance being recycled.
//
// The listeners "aws" and "alibaba" are bound to the first AWS and the Alibaba instance (port
// per instance); the instance ids are fixed by the scenario's seed (kAwsInstance, ...), so seed
// inputs can name them in path prefixes ("/i-.../latest/meta-data/"); run a fuzzer with
// LASTCALL_FUZZ_SHOW_WORLD=1 to see them.
//
// The EC2 and ECS API faces run over the same market, as in the mockmeta binary.
//
// Build one per fuzz input: the world is cheap (well under a millisecond) and a fresh one makes
// every input reproducible on its own.
//
// Thread-safety: single-threaded use.
#pragma once

#include <optional>
#include <string>

#include "common/clock.h"
#include "fuzz/http_input.h"
#include "mockmeta/control/control_api.h"
#include "mockmeta/ec2api/ec2_api.h"
#include "mockmeta/ecsapi/ecs_api.h"
#include "mockmeta/host/market_host.h"
#include "mockmeta/imds/fault_table.h"
#include "mockmeta/imds/imds_router.h"
#include "mockmeta/imds/market_directory.h"
#include "mockmeta/imds/token_store.h"

namespace lastcall::fuzz {

class MockWorld {
 public:
  MockWorld();

  // Calls the control API; nullopt when the request was parked (a long poll).
  std::optional<mock::HttpResponse> Control(const mock::HttpRequest& request);
  mock::HttpResponse Imds(const mock::HttpRequest& request, const std::string& listener);
  // The cloud-API faces over the same market (any access key accepted, as by default).
  mock::HttpResponse Ec2(const mock::HttpRequest& request);
  mock::HttpResponse Ecs(const mock::HttpRequest& request);

  // Moves the host clock (and so the virtual clock in realtime / speed mode) and ticks.
  void Advance(Duration d);
  // Answers every parked long poll (503), as the server does on shutdown.
  void Finish() { api_.CancelWaiters(); }

  const std::string& aws_instance() const { return aws_instance_; }
  const std::string& aws_tokens_instance() const { return aws_tokens_instance_; }
  const std::string& alibaba_instance() const { return alibaba_instance_; }

 private:
  std::string Setup(const std::string& method, const std::string& target, std::string body);

  FakeClock clock_;
  mock::MarketHost host_;
  mock::VirtualTimeClock vclock_;
  mock::MarketDirectory directory_;
  mock::TokenStore tokens_;
  mock::FaultTable faults_;
  mock::ControlApi api_;
  mock::ImdsRouter imds_;
  mock::ec2::Ec2Api ec2_;
  mock::ecs::EcsApi ecs_;
  std::string aws_instance_, aws_tokens_instance_, alibaba_instance_;
};

// Checks what every control-API answer promises (docs/mockmeta-api.md): a known status, and a
// JSON body whose errors are {"error":{"code","message",...}}. Aborts with the request on failure.
void CheckControlResponse(const mock::HttpRequest& request, const mock::HttpResponse& response);

}  // namespace lastcall::fuzz
