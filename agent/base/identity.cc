#include "agent/base/identity.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace lastcall {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool IsLowerAlnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'); }

// For error messages: printable ASCII only, at most 40 characters.
std::string Quote(std::string_view v) {
  std::string out = "\"";
  for (size_t i = 0; i < v.size() && i < 40; ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? static_cast<char>(c) : '?';
  }
  if (v.size() > 40) out += "...";
  return out + "\"";
}

bool IdWithBody(std::string_view id, size_t len, bool (*ok)(char)) {
  return id.size() == 2 + len && id.starts_with("i-") && std::all_of(id.begin() + 2, id.end(), ok);
}

bool PlaceShape(std::string_view v) {
  if (v.size() < 2 || v.size() > 64 || !std::islower(static_cast<unsigned char>(v[0])) ||
      v.back() == '-') {
    return false;
  }
  return std::all_of(v.begin(), v.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
}

bool TypeShape(std::string_view v) {
  if (v.empty() || v.size() > 64) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

}  // namespace

Status ValidateIdentity(std::string_view provider, const Identity& id) {
  const std::string_view iid = id.instance_id;
  bool id_ok;
  if (provider == "aws") {
    id_ok = IdWithBody(iid, 8, IsLowerHex) || IdWithBody(iid, 17, IsLowerHex);
  } else if (provider == "alibaba") {
    id_ok = IdWithBody(iid, 20, IsLowerAlnum);
  } else {
    id_ok = iid.size() >= 3 && iid.size() <= 64 && TypeShape(iid);
  }
  const char* want = provider == "aws"       ? "i- and 8 or 17 lowercase hex digits"
                     : provider == "alibaba" ? "i- and 20 lowercase letters or digits"
                                             : "1-64 letters, digits, '.', '-', '_'";
  if (!id_ok)
    return DataLoss("instance-id " + Quote(iid) + " is not an instance id (" + want + ")");
  if (!TypeShape(id.instance_type)) {
    return DataLoss("instance type " + Quote(id.instance_type) + " is not an instance type");
  }
  if (!PlaceShape(id.zone)) return DataLoss("zone " + Quote(id.zone) + " is not a zone name");
  if (!PlaceShape(id.region)) {
    return DataLoss("region " + Quote(id.region) + " is not a region name");
  }
  return Status::Ok();
}

IdentityTracker::Outcome IdentityTracker::Observe(const Identity& read) {
  if (!believed_) {
    believed_ = read;
    candidate_.reset();
    candidate_reads_ = 0;
    return Outcome::kFirst;
  }
  if (*believed_ == read) {
    candidate_.reset();
    candidate_reads_ = 0;
    return Outcome::kSame;
  }
  if (candidate_ && *candidate_ == read) {
    ++candidate_reads_;
  } else {
    candidate_ = read;
    candidate_reads_ = 1;
  }
  if (candidate_reads_ < kConfirmReads) return Outcome::kPending;
  believed_ = read;
  candidate_.reset();
  candidate_reads_ = 0;
  return Outcome::kSwitched;
}

std::string_view IdentityOutcomeName(IdentityTracker::Outcome outcome) {
  return NameOf(kIdentityOutcomeNames, outcome);
}

Result<Identity> IdentityFromJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLoss("identity: not a JSON object");
  Identity id;
  for (auto [key, out] :
       {std::pair{"instance_id", &id.instance_id}, std::pair{"instance_type", &id.instance_type},
        std::pair{"zone", &id.zone}, std::pair{"region", &id.region}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
      return DataLoss(std::string("identity: \"") + key + "\" must be a string");
    }
    *out = it->get<std::string>();
  }
  auto prov = j.find("provider");
  id.provider = prov != j.end() && prov->is_string() ? prov->get<std::string>() : "";
  if (Status s = ValidateIdentity(id.provider, id); !s.ok()) {
    return DataLoss("identity: " + s.message());
  }
  return id;
}

std::string IdentityToJson(const Identity& identity) {
  nlohmann::json j = {{"version", 1},
                      {"provider", identity.provider},
                      {"instance_id", identity.instance_id},
                      {"instance_type", identity.instance_type},
                      {"zone", identity.zone},
                      {"region", identity.region}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace lastcall
