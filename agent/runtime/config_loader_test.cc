#include "agent/runtime/config_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/support/test_env.h"

namespace lastcall {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Parses `text` and expects an error that starts with "t.toml:LINE:COL: " and contains `what`.
void ExpectError(const std::string& text, int line, int col, const std::string& what) {
  Result<Config> c = ParseConfig(text, "t.toml");
  ASSERT_FALSE(c.ok()) << "accepted:\n" << text;
  std::string prefix = "t.toml:" + std::to_string(line) + ":" + std::to_string(col) + ": ";
  EXPECT_EQ(c.status().message().rfind(prefix, 0), 0u)
      << "want prefix " << prefix << "\n got " << c.status().message();
  EXPECT_NE(c.status().message().find(what), std::string::npos)
      << "want \"" << what << "\" in " << c.status().message();
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
}

TEST(ConfigLoader, EmptyFileGivesTheDefaults) {
  Result<Config> c = ParseConfig("", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Config def;
  def.path = "t.toml";
  EXPECT_EQ(FormatConfig(*c), FormatConfig(def));
  EXPECT_EQ(c->path, "t.toml");
}

TEST(ConfigLoader, ReadsEverySection) {
  Result<Config> c = ParseConfig(R"(
provider = "aws"
state_dir = "/tmp/state"
runtime_dir = "/tmp/run"
log_level = "debug"
[poll]
interval = "500ms"
jitter = 0
request_timeout = "200ms"
max_backoff = "10s"
clock_skew_threshold = "5s"
[aws]
endpoint = "http://127.0.0.1:8080/i-1"
allow_imdsv1 = true
token_ttl = "1m"
watch_rebalance = false
[alibaba]
endpoint = "http://[::1]:9000"
token = "required"
token_ttl = "1h"
[detect]
dmi_dir = "/tmp/dmi"
probe_timeout = "50ms"
[hooks]
dir = "/opt/hooks"
default_timeout = "30s"
safety_margin = "2s"
kill_grace = "1s"
allowed_owner = "lastcall"
max_output_bytes = 2048
[hooks.policy.rebalance]
phases = ["notify", "checkpoint"]
lead = "1m"
[[hook]]
name = "save"
phase = "checkpoint"
command = ["/bin/echo", "hi"]
timeout = "90s"
kinds = ["interruption", "release"]
env = { BUCKET = "b" }
[[hook]]
name = "tell"
phase = "notify"
command = "/bin/true"
[metrics]
textfile = "/tmp/lastcall.prom"
listen = "127.0.0.1:9877"
write_interval = "5s"
)",
                                 "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->provider, ProviderChoice::kAws);
  EXPECT_EQ(c->state_dir, "/tmp/state");
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(c->poll.interval, milliseconds(500));
  EXPECT_EQ(c->poll.jitter, 0.0);
  EXPECT_EQ(c->poll.request_timeout, milliseconds(200));
  EXPECT_EQ(c->poll.clock_skew_threshold, seconds(5));
  EXPECT_EQ(c->aws.endpoint, "http://127.0.0.1:8080/i-1");
  EXPECT_TRUE(c->aws.allow_imdsv1);
  EXPECT_FALSE(c->aws.watch_rebalance);
  EXPECT_TRUE(c->aws.watch_instance_action);
  EXPECT_EQ(c->aws.token_ttl, seconds(60));
  EXPECT_EQ(c->alibaba.token, TokenMode::kRequired);
  EXPECT_EQ(c->detect.probe_timeout, milliseconds(50));
  EXPECT_EQ(c->hooks.hooks_dir, "/opt/hooks");
  EXPECT_EQ(c->hooks.max_output_bytes, 2048u);
  EXPECT_EQ(c->hooks.allowed_owner, "lastcall");
  const PhasePolicy& reb = c->hooks.policies.at(NoticeKind::kRebalance);
  EXPECT_EQ(reb.phases, (std::vector<HookPhase>{HookPhase::kNotify, HookPhase::kCheckpoint}));
  EXPECT_EQ(reb.lead, seconds(60));
  // Other kinds keep their defaults.
  EXPECT_EQ(c->hooks.policies.at(NoticeKind::kMaintenance).lead, std::chrono::minutes(10));
  ASSERT_EQ(c->hook_specs.size(), 2u);
  EXPECT_EQ(c->hook_specs[0].name, "save");
  EXPECT_EQ(c->hook_specs[0].command, (std::vector<std::string>{"/bin/echo", "hi"}));
  EXPECT_EQ(c->hook_specs[0].timeout, std::optional<Duration>(seconds(90)));
  EXPECT_EQ(c->hook_specs[0].kinds,
            (std::vector<NoticeKind>{NoticeKind::kInterruption, NoticeKind::kRelease}));
  EXPECT_EQ(c->hook_specs[0].env.at("BUCKET"), "b");
  EXPECT_EQ(c->hook_specs[0].source, "t.toml:34");
  EXPECT_EQ(c->hook_specs[1].phase, HookPhase::kNotify);
  EXPECT_EQ(c->hook_specs[1].command, std::vector<std::string>{"/bin/true"});
  EXPECT_FALSE(c->hook_specs[1].timeout.has_value());
  EXPECT_EQ(c->metrics.listen, "127.0.0.1:9877");
  EXPECT_EQ(c->metrics.write_interval, seconds(5));

  // FormatConfig renders something ParseConfig reads back to the same config.
  Result<Config> again = ParseConfig(FormatConfig(*c), "t.toml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << FormatConfig(*c);
  EXPECT_EQ(FormatConfig(*again), FormatConfig(*c));
}

TEST(ConfigLoader, HooksStopTimeoutIsReadAndRangeChecked) {
  EXPECT_EQ(Config().hooks.stop_timeout, seconds(90));
  Result<Config> c = ParseConfig("[hooks]\nstop_timeout = \"2m\"\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->hooks.stop_timeout, std::chrono::minutes(2));
  ExpectError("[hooks]\nstop_timeout = \"2h\"\n", 2, 16,
              "hooks.stop_timeout must be between 100ms and 1h, got \"2h\"");
  ExpectError("[hooks]\nstop_timout = \"2m\"\n", 2, 1, "did you mean \"stop_timeout\"?");
}

TEST(ConfigLoader, UnknownKeySuggestsTheClosest) {
  ExpectError("[poll]\nintervall = \"2s\"\n", 2, 1,
              "unknown key \"intervall\" in [poll]; did you mean \"interval\"?");
  ExpectError("log_levl = \"info\"\n", 1, 1, "did you mean \"log_level\"?");
  ExpectError("[aws]\nwatch_rebalanse = true\n", 2, 1, "did you mean \"watch_rebalance\"?");
  ExpectError("[hooks]\ntimeout = \"1s\"\n", 2, 1, "unknown key \"timeout\" in [hooks]");
  ExpectError("[pol]\n", 1, 2, "did you mean \"poll\"?");
  ExpectError("[[hook]]\nname=\"a\"\nphase=\"drain\"\ncommand=\"/x\"\ncmd = 1\n", 5, 1,
              "unknown key \"cmd\"");
}

TEST(ConfigLoader, FarOffUnknownKeyListsTheKnownOnes) {
  ExpectError("[metrics]\nzzzzzzzzzz = 1\n", 2, 1, "known keys: textfile listen write_interval");
}

TEST(ConfigLoader, WrongTypesNameTheExpectedType) {
  ExpectError("[poll]\ninterval = 2\n", 2, 12,
              "poll.interval must be a duration string like \"2s\" or \"100ms\", got an integer");
  ExpectError("[aws]\nallow_imdsv1 = \"yes\"\n", 2, 16,
              "aws.allow_imdsv1 must be a boolean (true or false), got a string");
  ExpectError("[poll]\njitter = \"0.1\"\n", 2, 10, "poll.jitter must be a number, got a string");
  ExpectError("state_dir = 5\n", 1, 13, "state_dir must be a string, got an integer");
  ExpectError("poll = 5\n", 1, 8, "poll must be a table");
  ExpectError("[hooks]\nmax_output_bytes = \"1k\"\n", 2, 20, "must be an integer");
  ExpectError("hook = 1\n", 1, 8, "hook must be an array of tables ([[hook]])");
}

TEST(ConfigLoader, RangesAreChecked) {
  ExpectError("[poll]\ninterval = \"50ms\"\n", 2, 12,
              "poll.interval must be between 100ms and 1h, got \"50ms\"");
  ExpectError("[poll]\njitter = 0.6\n", 2, 10, "poll.jitter must be between 0 and 0.5, got 0.6");
  ExpectError("[poll]\njitter = -0.1\n", 2, 10, "between 0 and 0.5");
  ExpectError("[aws]\ntoken_ttl = \"7h\"\n", 2, 13, "aws.token_ttl must be between 1s and 6h");
  ExpectError("[alibaba]\ntoken_ttl = \"500ms\"\n", 2, 13, "between 1s and 6h");
  ExpectError("[poll]\ninterval = \"2x\"\n", 2, 12, "poll.interval: expected a duration");
  ExpectError("[hooks]\nmax_output_bytes = 10\n", 2, 20, "between 1024 and 16777216, got 10");
}

TEST(ConfigLoader, RequestTimeoutMustBeBelowTheInterval) {
  ExpectError("[poll]\ninterval = \"1s\"\nrequest_timeout = \"1s\"\n", 3, 19,
              "poll.request_timeout (1s) must be less than poll.interval (1s)");
  // Only the interval set: reported there.
  ExpectError("[poll]\ninterval = \"500ms\"\n", 2, 12, "must be less than poll.interval (500ms)");
  ExpectError("[poll]\nmax_backoff = \"1s\"\n", 2, 15,
              "poll.max_backoff (1s) must be at least poll.interval (2s)");
}

TEST(ConfigLoader, EnumsAndPathsAreChecked) {
  ExpectError("provider = \"gcp\"\n", 1, 12,
              "provider must be one of \"auto\", \"aws\", \"alibaba\", got \"gcp\"");
  ExpectError("log_level = \"loud\"\n", 1, 13, "log_level must be one of");
  ExpectError("[alibaba]\ntoken = \"maybe\"\n", 2, 9, "alibaba.token must be one of");
  ExpectError("state_dir = \"var/lib\"\n", 1, 13, "state_dir must be an absolute path");
  ExpectError("[aws]\nendpoint = \"169.254.169.254\"\n", 2, 12,
              "aws.endpoint must be an http:// or https:// URL with a host");
  ExpectError("[aws]\nendpoint = \"http:///latest\"\n", 2, 12,
              "aws.endpoint must be an http:// or https:// URL with a host (a path prefix is "
              "allowed), got "
              "\"http:///latest\"");
  ExpectError("[metrics]\ntextfile = \"x.prom\"\n", 2, 12, "must be an absolute path");
}

// Operators behind a metadata proxy that speaks TLS: https endpoints are accepted.
TEST(ConfigLoader, HttpsEndpointsAreAccepted) {
  auto c = ParseConfig(
      "[aws]\nendpoint = \"https://imds.example/aws/\"\n[alibaba]\n"
      "endpoint = \"https://100.100.100.200\"\n",
      "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->aws.endpoint, "https://imds.example/aws/");
  EXPECT_EQ(c->alibaba.endpoint, "https://100.100.100.200");
  ExpectError("[aws]\nendpoint = \"https://\"\n", 2, 12,
              "aws.endpoint must be an http:// or https:// URL with a host");
}

TEST(ConfigLoader, ProxyIsNoneByDefaultOrAUrl) {
  auto c = ParseConfig("", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->poll.proxy, "");
  c = ParseConfig("[poll]\nproxy = \"http://10.0.0.1:3128\"\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->poll.proxy, "http://10.0.0.1:3128");
  c = ParseConfig("[poll]\nproxy = \"\"\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->poll.proxy, "");
  ExpectError("[poll]\nproxy = \"10.0.0.1:3128\"\n", 2, 9,
              "poll.proxy must be an http:// or https:// URL with a host (or \"\" for none), got "
              "\"10.0.0.1:3128\"");
  ExpectError("[poll]\nproxy = 3128\n", 2, 9, "poll.proxy must be a string");
}

TEST(ConfigLoader, HookPolicyNamesAreChecked) {
  ExpectError("[hooks.policy.interupt]\nphases = []\n", 1, 15, "unknown notice kind \"interupt\"");
  ExpectError("[hooks.policy.release]\nphases = [\"checkpoint\", \"dran\"]\n", 2, 25,
              "hooks.policy.release.phases: unknown phase \"dran\"");
  ExpectError("[hooks.policy.release]\nphases = [\"drain\", \"drain\"]\n", 2, 20, "twice");
  ExpectError("[hooks.policy.release]\nlead = \"-1s\"\n", 2, 8, "hooks.policy.release.lead");
  ExpectError("[hooks.policy.release]\nphase = []\n", 2, 1, "did you mean \"phases\"?");
}

TEST(ConfigLoader, HookTablesAreChecked) {
  ExpectError("[[hook]]\nname = \"a\"\nphase = \"drain\"\ncommand = [\"bin/x\"]\n", 4, 11,
              "hook.command must start with an absolute path");
  ExpectError("[[hook]]\nname = \"a\"\nphase = \"drain\"\ncommand = []\n", 4, 11, "absolute path");
  ExpectError("[[hook]]\nname = \"a\"\nphase = \"later\"\ncommand = \"/x\"\n", 3, 9,
              "hook.phase: unknown phase \"later\"");
  ExpectError("[[hook]]\nphase = \"drain\"\ncommand = \"/x\"\n", 1, 1, "[[hook]] needs a name");
  ExpectError("[[hook]]\nname = \"a\"\ncommand = \"/x\"\n", 1, 1, "\"a\" needs a phase");
  ExpectError("[[hook]]\nname = \"a\"\nphase = \"drain\"\n", 1, 1, "needs a command");
  ExpectError(
      "[[hook]]\nname = \"a\"\nphase = \"drain\"\ncommand = \"/x\"\n"
      "[[hook]]\nname = \"a\"\nphase = \"drain\"\ncommand = \"/y\"\n",
      6, 8, "hook.name \"a\" is used by an earlier [[hook]]");
  ExpectError("[[hook]]\nname = \"a\"\nphase = \"drain\"\ncommand = \"/x\"\nkinds = [\"spot\"]\n",
              5, 10, "hook.kinds: unknown notice kind \"spot\"");
  ExpectError(
      "[[hook]]\nname = \"a\"\nphase = \"drain\"\ncommand = \"/x\"\nenv = { LASTCALL_PHASE = "
      "\"x\" }\n",
      5, 9, "may not set \"LASTCALL_PHASE\"");
  ExpectError("[[hook]]\nname = \"a\"\nphase = \"drain\"\ncommand = [\"/x\", 3]\n", 4, 18,
              "hook.command must be an array of strings");
}

TEST(ConfigLoader, MetricsListenIsLoopbackOnly) {
  ExpectError("[metrics]\nlisten = \"0.0.0.0:9877\"\n", 2, 10,
              "metrics.listen must be a loopback address");
  ExpectError("[metrics]\nlisten = \"10.0.0.1:9877\"\n", 2, 10, "loopback");
  ExpectError("[metrics]\nlisten = \"127.0.0.1\"\n", 2, 10, "must be HOST:PORT");
  ExpectError("[metrics]\nlisten = \"127.0.0.1:99999\"\n", 2, 10, "must be HOST:PORT");
  for (const char* ok : {"127.0.0.1:9877", "[::1]:9877", "localhost:1"}) {
    Result<Config> c = ParseConfig(std::string("[metrics]\nlisten = \"") + ok + "\"\n", "t.toml");
    EXPECT_TRUE(c.ok()) << ok << ": " << c.status().ToString();
  }
}

TEST(ConfigLoader, TomlSyntaxErrorsCarryTheirPosition) {
  Result<Config> c = ParseConfig("[poll]\ninterval = \"2s\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind("t.toml:2:", 0), 0u) << c.status().message();
  c = ParseConfig("a = 1\na = 2\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind("t.toml:2:", 0), 0u) << c.status().message();
}

TEST(ConfigLoader, MissingFileIsAnErrorOnlyWhenExplicit) {
  std::string path = ::testing::TempDir() + "/no-such-lastcalld.toml";
  Result<Config> c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find(path), std::string::npos);
  EXPECT_NE(c.status().message().find("No such file"), std::string::npos);

  Result<Config> d = LoadConfigFile(path, /*must_exist=*/false);
  ASSERT_TRUE(d.ok());
  Config def;
  EXPECT_EQ(FormatConfig(*d), FormatConfig(def));
}

TEST(ConfigLoader, LoadsAFileAndReportsItsPath) {
  std::string path = ::testing::TempDir() + "/lastcalld-bad.toml";
  {
    std::ofstream f(path);
    f << "# comment\n[poll]\n\ninterval = \"10ms\"\n";
  }
  Result<Config> c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind(path + ":4:12: poll.interval", 0), 0u)
      << c.status().message();
  ::unlink(path.c_str());
}

TEST(ConfigLoader, ShippedExampleIsValidAndItsValuesAreTheDefaults) {
  std::string path = testing::SourceDir() + "/etc/lastcalld.toml";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();

  // As shipped (everything commented out): the defaults.
  Result<Config> shipped = ParseConfig(text.str(), path);
  ASSERT_TRUE(shipped.ok()) << shipped.status().ToString();
  Config def;
  EXPECT_EQ(FormatConfig(*shipped), FormatConfig(def));

  // Every commented-out setting ("#key = ..." or "#[section]", no space after '#') uncommented:
  // still the defaults, so the documented values are the real ones.
  std::istringstream lines(text.str());
  std::string uncommented;
  int settings = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > 1 && line[0] == '#' && line[1] != ' ' && line[1] != '#') {
      line = line.substr(1);
      ++settings;
    }
    uncommented += line + "\n";
  }
  EXPECT_GT(settings, 40);
  Result<Config> all = ParseConfig(uncommented, path);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(FormatConfig(*all), FormatConfig(def));

  // Every key FormatConfig knows appears in the example.
  std::istringstream keys(FormatConfig(def));
  for (std::string line; std::getline(keys, line);) {
    size_t eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    EXPECT_NE(text.str().find("#" + key + " = "), std::string::npos) << key << " undocumented";
  }
}

TEST(EditDistance, CountsEdits) {
  EXPECT_EQ(EditDistance("interval", "interval"), 0u);
  EXPECT_EQ(EditDistance("intervall", "interval"), 1u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

// Regression (issue 11, item 7): --check-config said "ok" for each of these, and the daemon
// then failed (or did something else) with them.
TEST(ConfigLoader, EndpointsAreParsedTheWayTheDaemonUsesThem) {
  ExpectError("[aws]\nendpoint = \"http://h:p /x\"\n", 2, 12, "aws.endpoint: not a usable");
  ExpectError("[aws]\nendpoint = \"http://h:99999\"\n", 2, 12, "the port must be 1-65535");
  ExpectError("[aws]\nendpoint = \"http://user@h\"\n", 2, 12, "user info is not allowed");
  ExpectError("[alibaba]\nendpoint = \"http://[::1\"\n", 2, 12, "must be in brackets");
  ExpectError("[metrics]\nlisten = \"127.0.0.1.evil.com:9877\"\n", 2, 10,
              "metrics.listen must be a loopback address");
  ExpectError("[metrics]\nlisten = \"127.0.0.1:0\"\n", 2, 10, "port 1-65535");
  Result<Config> v6 = ParseConfig("[aws]\nendpoint = \"http://[fd00:ec2::254]:80\"\n", "t.toml");
  EXPECT_TRUE(v6.ok()) << v6.status().ToString();
}

TEST(ConfigLoader, PathsWithNulOrControlCharactersAreRefused) {
  ExpectError("state_dir = \"/var/lib/x\\u0000y\"\n", 1, 13,
              "state_dir must not contain control characters, got \"/var/lib/x\\x00y\"");
  ExpectError("runtime_dir = \"/run/x\\ny\"\n", 1, 15, "runtime_dir must not contain control");
  ExpectError("state_dir = \"relative\"\n", 1, 13, "must be an absolute path");
}

// Regression (issue 11, item 7): a crafted sum of durations overflowed and printed as "2s".
TEST(ConfigLoader, DurationSumsThatOverflowAreRefused) {
  std::string crafted;
  for (int i = 0; i < 120; ++i) crafted += "1000000000d";
  ExpectError("[poll]\ninterval = \"" + crafted + "2s\"\n", 2, 12, "longer than the longest");
}

// Regression (issue 11, item 7): --check-config --verbose printed control characters raw, so
// its output no longer parsed. What FormatConfig writes parses back to the same config.
TEST(ConfigLoader, FormatConfigEscapesControlCharacters) {
  Result<Config> c = ParseConfig(
      "[[hook]]\nname = \"a\\u001b[2J\\u007f\"\nphase = \"drain\"\ncommand = [\"/bin/x\", "
      "\"\\r\\n\\t\"]\nenv = { K = \"\\u0001\" }\n",
      "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string text = FormatConfig(*c);
  for (char ch : text) {
    unsigned char u = static_cast<unsigned char>(ch);
    EXPECT_TRUE(ch == '\n' || (u >= 0x20 && u != 0x7f)) << "raw control byte " << int(u);
  }
  Result<Config> again = ParseConfig(text, "t.toml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << text;
  EXPECT_EQ(FormatConfig(*again), text);
}

// Regression (issue 11, item 8): toml++ asserted (debug and sanitizer builds aborted) on "["
// followed by a newline or NUL, and reached __builtin_unreachable on a non-ASCII bare key.
// Each is a clean file:line:col error in every preset.
TEST(ConfigLoader, TomlInputsThatCrashedTomlPlusPlusAreCleanErrors) {
  ExpectError("[\n", 1, 2, "");
  ExpectError("[[\n", 1, 3, "");
  ExpectError("[ \t\n", 1, 4, "");
  ExpectError(std::string("[\0", 2), 1, 2, "NUL byte");
  ExpectError("log_level = \"info\"\n\xc3\xa9 = 1\n", 2, 1, "non-ASCII character");
  ExpectError("[\xc3\xa9]\n", 1, 2, "non-ASCII character");
  ExpectError("[poll]\na.\xc3\xa9 = 1\n", 2, 3, "non-ASCII character");
  ExpectError("x = { \xc3\xa9 = 1 }\n", 1, 7, "non-ASCII character");
  ExpectError("\xff\n", 1, 1, "non-ASCII character");
  // Non-ASCII inside strings and comments stays fine, multi-line ones included.
  Result<Config> ok = ParseConfig(
      "# caf\xc3\xa9\n[[hook]]\nname = \"caf\xc3\xa9\"\nphase = 'drain'\n"
      "command = [\"\"\"/bin/\xc3\xa9\"\"\"\"\", '''/x\xc3\xa9''']\n",
      "t.toml");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

}  // namespace
}  // namespace lastcall
