"""The real AWS CLI v2 (Debian's awscli) against mockmeta's EC2 endpoint, changing nothing but
--endpoint-url: spot requests through their whole life, with the market moved through the
control API and the instance's IMDS checked at the same virtual instant."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from mockmeta_ec2 import ACCESS_KEY, POOL, SECRET_KEY, Mockmeta, client_env

AWS = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else shutil.which("aws")


class AwsCli:
    def __init__(self, endpoint, env):
        self.endpoint = endpoint
        self.env = env

    def run(self, *args):
        return subprocess.run([AWS, "--endpoint-url", self.endpoint, "--output", "json", *args],
                              env=self.env, capture_output=True, text=True, timeout=60)

    def ok(self, *args):
        r = self.run(*args)
        if r.returncode != 0:
            raise AssertionError("aws %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr))
        return json.loads(r.stdout) if r.stdout.strip() else None

    def fails(self, code, *args):
        r = self.run(*args)
        if r.returncode == 0:
            raise AssertionError("aws %s succeeded; expected %s" % (" ".join(args), code))
        if "(%s)" % code not in r.stderr:
            raise AssertionError("aws %s: expected (%s), got: %s" % (" ".join(args), code, r.stderr))
        return r.stderr


class AwsCliTest(unittest.TestCase):
    def setUp(self):
        self.assertIsNotNone(AWS, "the AWS CLI is not installed (scripts/install-deps ec2-clients)")
        self.home = tempfile.TemporaryDirectory(prefix="aws-home-")
        self.mock = Mockmeta()
        self.addCleanup(self.home.cleanup)
        self.addCleanup(self.mock.stop)
        self.aws = AwsCli(self.mock.endpoint, client_env(self.home.name))

    def request(self, *extra):
        out = self.aws.ok("ec2", "request-spot-instances", "--spot-price", "0.05",
                          "--launch-specification", '{"InstanceType":"m5.large"}', *extra)
        return out["SpotInstanceRequests"][0]["SpotInstanceRequestId"]

    def describe_request(self, rid):
        out = self.aws.ok("ec2", "describe-spot-instance-requests",
                          "--spot-instance-request-ids", rid)
        return out["SpotInstanceRequests"][0]

    def test_request_fulfilled_then_terminated_by_price(self):
        rid = self.request()
        self.aws.ok("ec2", "wait", "spot-instance-request-fulfilled",
                    "--spot-instance-request-ids", rid)
        req = self.describe_request(rid)
        iid = req["InstanceId"]
        inst = self.aws.ok("ec2", "describe-instances", "--instance-ids", iid)
        inst = inst["Reservations"][0]["Instances"][0]
        self.assertEqual(inst["State"]["Name"], "running")
        self.assertEqual(inst["InstanceLifecycle"], "spot")
        self.assertEqual(inst["SpotInstanceRequestId"], rid)
        # One market: the control API and the instance's IMDS see the same instance.
        self.assertEqual(self.mock.control("GET", "/v1/instances/" + iid)["state"], "running")
        self.assertEqual(self.mock.imds(iid, "instance-id"), (200, iid))
        self.assertEqual(self.mock.imds(iid, "spot/instance-action")[0], 404)

        self.mock.set_price(0.07)  # above the max price 0.05
        req = self.describe_request(rid)
        self.assertEqual((req["State"], req["Status"]["Code"]), ("active", "marked-for-termination"))
        status, body = self.mock.imds(iid, "spot/instance-action")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["action"], "terminate")

        self.mock.advance("2m")
        req = self.describe_request(rid)
        self.assertEqual((req["State"], req["Status"]["Code"]),
                         ("closed", "instance-terminated-by-price"))
        inst = self.aws.ok("ec2", "describe-instances", "--instance-ids", iid)
        self.assertEqual(inst["Reservations"][0]["Instances"][0]["State"]["Name"], "terminated")

    def test_persistent_request_reopens_and_relaunches(self):
        rid = self.request("--type", "persistent")
        first = self.describe_request(rid)["InstanceId"]
        self.mock.set_price(0.07)
        self.mock.advance("2m")
        # Reopened at the instant its instance ended, and evaluated at once: still too dear.
        req = self.describe_request(rid)
        self.assertEqual((req["State"], req["Status"]["Code"]), ("open", "price-too-low"))
        self.mock.set_price(0.03)
        self.aws.ok("ec2", "wait", "spot-instance-request-fulfilled",
                    "--spot-instance-request-ids", rid)
        second = self.describe_request(rid)["InstanceId"]
        self.assertNotEqual(first, second)

    def test_cancel_keeps_the_instance(self):
        rid = self.request()
        iid = self.describe_request(rid)["InstanceId"]
        out = self.aws.ok("ec2", "cancel-spot-instance-requests", "--spot-instance-request-ids", rid)
        self.assertEqual(out["CancelledSpotInstanceRequests"],
                         [{"SpotInstanceRequestId": rid, "State": "cancelled"}])
        req = self.describe_request(rid)
        self.assertEqual(req["Status"]["Code"], "request-canceled-and-instance-running")
        out = self.aws.ok("ec2", "describe-instances", "--filters",
                          "Name=instance-state-name,Values=running")
        ids = [i["InstanceId"] for r in out["Reservations"] for i in r["Instances"]]
        self.assertEqual(ids, [iid])

    def test_price_history_equals_the_control_api(self):
        for minutes, price in (("1m", 0.04), ("3m", 0.045), ("10m", 0.032)):
            self.mock.advance(minutes)
            self.mock.set_price(price)
        out = self.aws.ok("ec2", "describe-spot-price-history", "--instance-types", "m5.large",
                          "--availability-zone", "us-east-1a",
                          "--start-time", "2026-04-07T00:00:00Z")
        ec2 = [(p["Timestamp"], float(p["SpotPrice"])) for p in out["SpotPriceHistory"]]
        control = self.mock.control("GET", "/v1/pools/%s/price-history" % POOL)["prices"]
        expected = [(p["time"].replace("Z", "+00:00"), p["price"]) for p in reversed(control)]
        self.assertEqual(ec2, expected)
        self.assertEqual(len(ec2), 4)

    def test_error_paths(self):
        self.aws.fails("InvalidParameterValue", "ec2", "request-spot-instances", "--spot-price",
                       "abc", "--launch-specification", '{"InstanceType":"m5.large"}')
        self.aws.fails("InvalidSpotInstanceRequestID.NotFound", "ec2",
                       "describe-spot-instance-requests", "--spot-instance-request-ids",
                       "sir-00000000")
        self.aws.fails("InvalidInstanceID.NotFound", "ec2", "terminate-instances",
                       "--instance-ids", "i-0123456789abcdef0")
        self.aws.fails("InsufficientInstanceCapacity", "ec2", "run-instances", "--instance-type",
                       "c5.large", "--count", "1", "--instance-market-options",
                       '{"MarketType":"spot"}')
        self.aws.fails("DryRunOperation", "ec2", "run-instances", "--instance-type", "m5.large",
                       "--count", "1", "--dry-run")
        self.assertEqual(self.mock.control("GET", "/v1/instances")["instances"], [])

    def test_run_instances_tags_and_describes(self):
        out = self.aws.ok("ec2", "run-instances", "--instance-type", "m5.large", "--count", "2",
                          "--instance-market-options",
                          '{"MarketType":"spot","SpotOptions":{"MaxPrice":"0.05",'
                          '"SpotInstanceType":"persistent","InstanceInterruptionBehavior":"stop"}}',
                          "--tag-specifications",
                          "ResourceType=instance,Tags=[{Key=Name,Value=render}]")
        ids = [i["InstanceId"] for i in out["Instances"]]
        self.assertEqual(len(ids), 2)
        self.aws.ok("ec2", "wait", "instance-running", "--instance-ids", *ids)
        out = self.aws.ok("ec2", "stop-instances", "--instance-ids", ids[0], "--hibernate")
        self.assertEqual(out["StoppingInstances"][0]["CurrentState"]["Name"], "stopped")
        tags = self.aws.ok("ec2", "describe-tags", "--filters", "Name=key,Values=Name")["Tags"]
        self.assertEqual(sorted(t["ResourceId"] for t in tags), sorted(ids))


class AwsCliCredentialsTest(unittest.TestCase):
    def test_good_signature_passes_wrong_secret_is_auth_failure(self):
        home = tempfile.TemporaryDirectory(prefix="aws-home-")
        self.addCleanup(home.cleanup)
        creds = os.path.join(home.name, "server-credentials")
        with open(creds, "w") as f:
            f.write("[test]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (ACCESS_KEY, SECRET_KEY))
        mock = Mockmeta(["--aws-credentials", creds])
        self.addCleanup(mock.stop)
        env = client_env(home.name)
        AwsCli(mock.endpoint, env).ok("ec2", "describe-regions")
        env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        AwsCli(mock.endpoint, env).fails("AuthFailure", "ec2", "describe-regions")


if __name__ == "__main__":
    unittest.main()
