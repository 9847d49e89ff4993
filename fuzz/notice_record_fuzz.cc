// Fuzzes the state records lastcalld reads back from <state_dir>/notices/<id>.json at start-up
// (NoticeRecordFromJson, agent/actions/notice_record.h): a file a crash may have cut short, an
// older version wrote, or a local user tampered with.
//
// Oracles: no crash, sanitizer report (out-of-range times are UBSan findings) or escaping
// exception; a record that parses writes back (NoticeRecordToJson) to JSON that parses to the
// same record, so what the agent saves it can load again after a restart.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/actions/notice_record.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lastcall;
  auto record = NoticeRecordFromJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!record.ok()) return 0;
  std::string saved = NoticeRecordToJson(*record);
  auto again = NoticeRecordFromJson(saved);
  FUZZ_CHECK(again.ok(), "a saved record does not load: %s\n%s", again.status().ToString().c_str(),
             saved.c_str());
  FUZZ_CHECK(*again == *record, "a saved record loads as another record:\n%s", saved.c_str());
  return 0;
}
