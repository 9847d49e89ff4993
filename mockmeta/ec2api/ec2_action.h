// What the EC2 actions share: the call they answer, the EC2-only state (tags, reservation ids)
// kept beside the market, the action table, and the helpers every describe uses (filters,
// pagination, DryRun, EC2's time and price formats, the XML of instances and spot requests).
//
// Each action is a function (Ec2Context&, const Ec2Call&, XmlWriter&) -> MaybeError, in the file
// of its resource group (actions_spot.cc, actions_instances.cc, actions_run.cc,
// actions_prices.cc, actions_tags.cc, actions_zones.cc). An action reads and checks all its
// parameters first (ParamReader), answers DryRun, then works on the market inside one
// Ec2Context::With (the market's lock, the market advanced to the virtual now), so a call is
// applied whole or not at all. On success it writes the members of <ActionResponse> after
// <requestId>; the handler (ec2_api.cc) wraps them.
//
// Thread-safety: Ec2State is touched only inside Ec2Context::With, i.e. under the MarketHost's
// mutex; everything else here is per call.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mockmeta/core/market.h"
#include "mockmeta/core/world.h"
#include "mockmeta/ec2api/ec2_error.h"
#include "mockmeta/ec2api/query_params.h"
#include "mockmeta/ec2api/xml_writer.h"
#include "mockmeta/host/cloud_api_context.h"
#include "mockmeta/host/market_host.h"

namespace lastcall::mock::ec2 {

// What EC2 knows and the market does not.
struct Ec2State {
  // Resource id (i-..., sir-...) -> tag key -> value.
  std::map<std::string, std::map<std::string, std::string>, std::less<>> tags;
  // Instance id -> the reservation it was launched in (RunInstances launches N in one).
  std::map<std::string, std::string, std::less<>> reservation_of;
  uint64_t generation = 0;  // the MarketHost generation these belong to
};

struct Ec2Call {
  const QueryParams& params;
  std::string action;
  std::string region;  // from the signature's credential scope; empty when unsigned
};

// The face's way to the shared market (mockmeta/host/cloud_api_context.h).
using Ec2Context = CloudApiContext<Ec2State, Ec2Error, &FromMarketStatus, AwsFlavor, &World::aws>;

using ActionFn = MaybeError (*)(Ec2Context&, const Ec2Call&, XmlWriter&);
using ActionTable = std::map<std::string, ActionFn, std::less<>>;

void RegisterSpotActions(ActionTable& table);
void RegisterInstanceActions(ActionTable& table);
void RegisterRunActions(ActionTable& table);
void RegisterPriceActions(ActionTable& table);
void RegisterTagActions(ActionTable& table);
void RegisterZoneActions(ActionTable& table);

// --- helpers ----------------------------------------------------------------------------------
// DryRun=true after the parameters were read: EC2 answers DryRunOperation (412) and does nothing.
bool DryRun(ParamReader& reader);
Ec2Error DryRunError();
Ec2Error MarketError(const Status& s);

std::string Ec2Time(WallTime t);   // 2026-04-07T00:00:00.000Z
std::string Ec2Price(double usd);  // 0.035000
// pending 0, running 16, shutting-down 32, terminated 48, stopping 64, stopped 80.
std::string_view Ec2StateName(InstanceState s);
int Ec2StateCode(InstanceState s);

// Filters: every name must be one of `names`, or (with tags) tag:KEY, tag-key, tag-value;
// otherwise InvalidParameterValue naming it.
MaybeError CheckFilters(const std::vector<Filter>& filters,
                        std::initializer_list<std::string_view> names, bool tags);
// The item's values for a filter name (nullopt: no value, never matches).
using FieldLookup = std::function<std::vector<std::string>(std::string_view name)>;
// Every filter matches (one of its values, with * and ? wildcards, equals one of the item's).
bool Matches(const std::vector<Filter>& filters, const FieldLookup& lookup);
bool GlobMatch(std::string_view pattern, std::string_view text);
// The tag filter values of an item with tags `tags` (tag:KEY, tag-key, tag-value), else empty.
std::vector<std::string> TagField(std::string_view name,
                                  const std::map<std::string, std::string>& tags);

// Pagination over items sorted by unique ascending keys: the page is [begin, end); the token is
// the first key of the next page (opaque to clients).
struct Page {
  size_t begin = 0;
  size_t end = 0;
  std::string next_token;  // empty on the last page
};
MaybeError Paginate(const std::vector<std::string>& keys, std::optional<long long> max_results,
                    const std::optional<std::string>& next_token, Page& page);

// Tags of a resource: the EC2 state's, plus the market's Name for an instance without one.
std::map<std::string, std::string> TagsOf(const Ec2State& state, std::string_view id,
                                          std::string_view market_name = {});
void WriteTagSet(XmlWriter& w, const std::map<std::string, std::string>& tags);

// The spot request each instance was launched by (an instance id -> its request).
std::map<std::string_view, const SpotRequest*> RequestsByInstance(const AwsFlavor& aws);
// Reservation id of an instance (its launch's, or one derived from its id).
std::string ReservationOf(const Ec2State& state, const Instance& inst);

void WriteInstance(XmlWriter& w, const Ec2State& state, const Instance& inst,
                   const SpotRequest* request);
void WriteSpotRequest(XmlWriter& w, const Ec2State& state, const SpotRequest& r);
void WriteInstanceState(XmlWriter& w, std::string_view element, InstanceState s);

}  // namespace lastcall::mock::ec2
