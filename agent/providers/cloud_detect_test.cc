#include "agent/providers/cloud_detect.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

namespace lastcall {
namespace {

namespace fs = std::filesystem;

// A fake /sys/class/dmi/id under a fresh temporary directory, removed at the end.
class DmiDir {
 public:
  DmiDir() {
    path_ = fs::temp_directory_path() /
            ("lastcall-dmi-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~DmiDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void Write(const std::string& name, const std::string& content) {
    std::ofstream(path_ / name) << content;
  }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// Refuses everything, like a host with no metadata service; records what was asked.
class RefusingHttp final : public HttpClient {
 public:
  Result<HttpResponse> Send(const HttpRequest& request) override {
    urls.push_back(request.method + " " + request.url);
    timeouts.push_back(request.timeout);
    return Unavailable("connection refused");
  }
  std::vector<std::string> urls;
  std::vector<Duration> timeouts;
};

TEST(DetectFromDmiTest, Matches) {
  struct Case {
    std::string sys_vendor, product_name, board_vendor;
    ProviderChoice want;
  } cases[] = {
      {"Amazon EC2", "m5.large", "Amazon EC2", ProviderChoice::kAws},
      {"", "", "Amazon EC2", ProviderChoice::kAws},
      {"amazon ec2", "", "", ProviderChoice::kAws},
      {"Alibaba Cloud", "Alibaba Cloud ECS", "", ProviderChoice::kAlibaba},
      {"", "Alibaba Cloud ECS", "", ProviderChoice::kAlibaba},
      {"Aliyun", "", "", ProviderChoice::kAlibaba},
      {"Xen", "HVM domU", "", ProviderChoice::kAuto},
      {"QEMU", "Standard PC (Q35 + ICH9, 2009)", "", ProviderChoice::kAuto},
      {"Dell Inc.", "ECS", "Dell Inc.", ProviderChoice::kAuto},
  };
  for (const auto& c : cases) {
    DmiDir dmi;
    if (!c.sys_vendor.empty()) dmi.Write("sys_vendor", c.sys_vendor + "\n");
    if (!c.product_name.empty()) dmi.Write("product_name", c.product_name + "\n");
    if (!c.board_vendor.empty()) dmi.Write("board_vendor", c.board_vendor + "\n");
    std::string evidence;
    EXPECT_EQ(DetectFromDmi(dmi.path(), &evidence), c.want)
        << c.sys_vendor << "/" << c.product_name;
    EXPECT_NE(evidence.find("sys_vendor=\"" + c.sys_vendor + "\""), std::string::npos) << evidence;
  }
}

TEST(DetectFromDmiTest, MissingDirectoryIsNoIdea) {
  EXPECT_EQ(DetectFromDmi("/nonexistent/lastcall/dmi"), ProviderChoice::kAuto);
}

TEST(DetectProviderTest, ConfiguredProviderWinsWithoutAnyRequest) {
  Config c;
  c.provider = ProviderChoice::kAlibaba;
  c.detect.dmi_dir = "/nonexistent";
  RefusingHttp http;
  EXPECT_EQ(DetectProvider(c, http).value(), ProviderChoice::kAlibaba);
  EXPECT_TRUE(http.urls.empty());
}

TEST(DetectProviderTest, DmiAnswersWithoutProbes) {
  DmiDir dmi;
  dmi.Write("sys_vendor", "Amazon EC2\n");
  Config c;
  c.detect.dmi_dir = dmi.path();
  RefusingHttp http;
  EXPECT_EQ(DetectProvider(c, http).value(), ProviderChoice::kAws);
  EXPECT_TRUE(http.urls.empty());
}

TEST(DetectProviderTest, NothingFoundNamesWhatWasTried) {
  DmiDir dmi;
  dmi.Write("sys_vendor", "QEMU\n");
  Config c;
  c.detect.dmi_dir = dmi.path();
  c.detect.probe_timeout = std::chrono::milliseconds(123);
  c.aws.endpoint = "http://aws.test";
  c.alibaba.endpoint = "http://ali.test";
  RefusingHttp http;
  auto r = DetectProvider(c, http);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("QEMU"), std::string::npos);
  EXPECT_NE(r.status().message().find("http://aws.test"), std::string::npos);
  EXPECT_NE(r.status().message().find("http://ali.test"), std::string::npos);
  EXPECT_NE(r.status().message().find("connection refused"), std::string::npos);
  // A refused AWS endpoint gets one probe, not two; every probe uses the probe timeout.
  EXPECT_EQ(http.urls, (std::vector<std::string>{"PUT http://aws.test/latest/api/token",
                                                 "GET http://ali.test/latest/meta-data/zone-id"}));
  for (Duration t : http.timeouts) EXPECT_EQ(t, std::chrono::milliseconds(123));
}

TEST(MakeProviderTest, BuildsTheConfiguredProvider) {
  Config c;
  FakeClock clock;
  c.provider = ProviderChoice::kAws;
  auto aws = MakeProvider(c, clock, std::make_unique<RefusingHttp>());
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ((*aws)->name(), "aws");
  c.provider = ProviderChoice::kAlibaba;
  auto ali = MakeProvider(c, clock, std::make_unique<RefusingHttp>());
  ASSERT_TRUE(ali.ok());
  EXPECT_EQ((*ali)->name(), "alibaba");
}

TEST(MakeProviderTest, DetectionFailureIsReturned) {
  DmiDir dmi;
  Config c;
  c.detect.dmi_dir = dmi.path();
  c.aws.endpoint = "http://aws.test";
  c.alibaba.endpoint = "http://ali.test";
  FakeClock clock;
  auto p = MakeProvider(c, clock, std::make_unique<RefusingHttp>());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace lastcall
