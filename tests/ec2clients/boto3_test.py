"""boto3 (Debian's python3-boto3) against mockmeta's EC2 endpoint: the spot flows, paginators,
waiters and ClientError codes, plus bad input sent raw (malformed bodies, unknown actions, wrong
types, a huge MaxCount) that must get EC2's error, apply nothing and leave the server serving."""

import os
import tempfile
import unittest
import urllib.request

try:
    import boto3
    import botocore.config
    from botocore.exceptions import ClientError
except ImportError as e:
    raise SystemExit("boto3 is not installed (scripts/install-deps ec2-clients): %s" % e)

from mockmeta_ec2 import ACCESS_KEY, REGION, SECRET_KEY, Mockmeta, client_env


def make_client(endpoint, secret=SECRET_KEY):
    return boto3.client(
        "ec2", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))


class Boto3Test(unittest.TestCase):
    def setUp(self):
        home = tempfile.TemporaryDirectory(prefix="boto3-home-")
        self.addCleanup(home.cleanup)
        # No user configuration leaks in.
        for k, v in client_env(home.name).items():
            if k.startswith("AWS_") or k == "HOME":
                os.environ[k] = v
        self.mock = Mockmeta()
        self.addCleanup(self.mock.stop)
        self.ec2 = make_client(self.mock.endpoint)

    def error_code(self, call, **kwargs):
        with self.assertRaises(ClientError) as cm:
            call(**kwargs)
        return cm.exception.response["Error"]["Code"]

    def test_spot_request_waiter_price_rise_and_imds(self):
        out = self.ec2.request_spot_instances(
            SpotPrice="0.05", InstanceCount=1,
            LaunchSpecification={"InstanceType": "m5.large",
                                 "Placement": {"AvailabilityZone": "us-east-1a"}})
        rid = out["SpotInstanceRequests"][0]["SpotInstanceRequestId"]
        self.ec2.get_waiter("spot_instance_request_fulfilled").wait(
            SpotInstanceRequestIds=[rid], WaiterConfig={"Delay": 1, "MaxAttempts": 5})
        req = self.ec2.describe_spot_instance_requests(
            SpotInstanceRequestIds=[rid])["SpotInstanceRequests"][0]
        iid = req["InstanceId"]
        self.ec2.get_waiter("instance_running").wait(
            InstanceIds=[iid], WaiterConfig={"Delay": 1, "MaxAttempts": 5})
        self.assertEqual(self.mock.imds(iid, "instance-id"), (200, iid))
        self.mock.set_price(0.08)
        req = self.ec2.describe_spot_instance_requests(
            SpotInstanceRequestIds=[rid])["SpotInstanceRequests"][0]
        self.assertEqual(req["Status"]["Code"], "marked-for-termination")
        self.assertEqual(self.mock.imds(iid, "spot/instance-action")[0], 200)
        self.mock.advance("2m")
        req = self.ec2.describe_spot_instance_requests(
            SpotInstanceRequestIds=[rid])["SpotInstanceRequests"][0]
        self.assertEqual((req["State"], req["Status"]["Code"]),
                         ("closed", "instance-terminated-by-price"))

    def test_capacity_withdrawn_terminates_no_capacity(self):
        rid = self.ec2.request_spot_instances(
            SpotPrice="0.05", LaunchSpecification={"InstanceType": "m5.large"},
            Type="persistent")["SpotInstanceRequests"][0]["SpotInstanceRequestId"]
        self.mock.set_capacity(0)
        req = self.ec2.describe_spot_instance_requests(
            Filters=[{"Name": "spot-instance-request-id", "Values": [rid]}])
        self.assertEqual(req["SpotInstanceRequests"][0]["Status"]["Code"], "marked-for-termination")
        self.mock.advance("2m")
        req = self.ec2.describe_spot_instance_requests(SpotInstanceRequestIds=[rid])
        self.assertEqual(req["SpotInstanceRequests"][0]["State"], "open")
        self.assertEqual(req["SpotInstanceRequests"][0]["Status"]["Code"], "capacity-not-available")

    def test_paginators_cover_every_item_once(self):
        out = self.ec2.run_instances(InstanceType="m5.large", MinCount=12, MaxCount=12,
                                     TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                         {"Key": "fleet", "Value": "batch"}]}])
        launched = sorted(i["InstanceId"] for i in out["Instances"])
        pages = list(self.ec2.get_paginator("describe_instances").paginate(
            PaginationConfig={"PageSize": 5}))
        self.assertEqual(len(pages), 3)
        self.assertNotIn("NextToken", pages[-1])
        seen = sorted(i["InstanceId"] for p in pages for r in p["Reservations"]
                      for i in r["Instances"])
        self.assertEqual(seen, launched)
        for minutes, price in (("1m", 0.031), ("1m", 0.032), ("1m", 0.033)):
            self.mock.advance(minutes)
            self.mock.set_price(price)
        history = [p["SpotPrice"] for page in self.ec2.get_paginator(
            "describe_spot_price_history").paginate(
                InstanceTypes=["m5.large"], PaginationConfig={"PageSize": 1})
            for p in page["SpotPriceHistory"]]
        self.assertEqual(history, ["0.033000", "0.032000", "0.031000", "0.030000"])
        tags = [t for page in self.ec2.get_paginator("describe_tags").paginate(
            Filters=[{"Name": "key", "Values": ["fleet"]}], PaginationConfig={"PageSize": 5})
            for t in page["Tags"]]
        self.assertEqual(sorted(t["ResourceId"] for t in tags), launched)

    def test_client_error_codes(self):
        cases = [
            (self.ec2.request_spot_instances,
             dict(SpotPrice="-1", LaunchSpecification={"InstanceType": "m5.large"}),
             "InvalidParameterValue"),
            (self.ec2.cancel_spot_instance_requests,
             dict(SpotInstanceRequestIds=["sir-00000000"]),
             "InvalidSpotInstanceRequestID.NotFound"),
            (self.ec2.describe_instances, dict(InstanceIds=["i-nothex"]),
             "InvalidInstanceID.Malformed"),
            (self.ec2.run_instances,
             dict(InstanceType="c5.large", MinCount=1, MaxCount=1,
                  InstanceMarketOptions={"MarketType": "spot"}),
             "InsufficientInstanceCapacity"),
            (self.ec2.run_instances,
             dict(InstanceType="m5.large", MinCount=1, MaxCount=1,
                  InstanceMarketOptions={"MarketType": "spot",
                                         "SpotOptions": {"MaxPrice": "0.001"}}),
             "SpotMaxPriceTooLow"),
            (self.ec2.run_instances,
             dict(InstanceType="m5.large", MinCount=5000, MaxCount=5000),
             "InstanceLimitExceeded"),
            (self.ec2.describe_instances, dict(DryRun=True), "DryRunOperation"),
            (self.ec2.describe_instances,
             dict(Filters=[{"Name": "no-such-filter", "Values": ["x"]}]), "InvalidParameterValue"),
        ]
        for call, kwargs, code in cases:
            with self.subTest(code=code):
                self.assertEqual(self.error_code(call, **kwargs), code)
        self.assertEqual(self.mock.control("GET", "/v1/instances")["instances"], [])

    def test_stop_start_status_types_zones(self):
        ids = [i["InstanceId"] for i in self.ec2.run_instances(
            InstanceType="m5.large", MinCount=1, MaxCount=1,
            InstanceMarketOptions={"MarketType": "spot", "SpotOptions": {
                "SpotInstanceType": "persistent", "InstanceInterruptionBehavior": "stop"}})[
                    "Instances"]]
        self.ec2.stop_instances(InstanceIds=ids, Hibernate=True)
        self.ec2.get_waiter("instance_stopped").wait(InstanceIds=ids,
                                                     WaiterConfig={"Delay": 1, "MaxAttempts": 3})
        statuses = self.ec2.describe_instance_status(InstanceIds=ids)["InstanceStatuses"]
        self.assertEqual(statuses, [])
        statuses = self.ec2.describe_instance_status(InstanceIds=ids, IncludeAllInstances=True)
        self.assertEqual(statuses["InstanceStatuses"][0]["InstanceState"]["Name"], "stopped")
        self.ec2.start_instances(InstanceIds=ids)
        self.mock.control("POST", "/v1/aws/instances/%s/scheduled-events" % ids[0],
                          {"code": "system-reboot", "not_before": "2026-04-09T00:00:00Z"})
        events = self.ec2.describe_instance_status(InstanceIds=ids)["InstanceStatuses"][0]["Events"]
        self.assertEqual(events[0]["Code"], "system-reboot")
        types = self.ec2.describe_instance_types(InstanceTypes=["m5.large"])["InstanceTypes"]
        self.assertEqual(types[0]["MemoryInfo"]["SizeInMiB"], 8192)
        zones = self.ec2.describe_availability_zones()["AvailabilityZones"]
        self.assertEqual([z["ZoneName"] for z in zones], ["us-east-1a", "us-east-1b"])
        self.assertEqual([r["RegionName"] for r in self.ec2.describe_regions()["Regions"]],
                         ["us-east-1"])
        self.ec2.create_tags(Resources=ids, Tags=[{"Key": "team", "Value": "a"}])
        self.ec2.delete_tags(Resources=ids, Tags=[{"Key": "team"}])
        self.assertEqual(self.ec2.describe_tags()["Tags"], [])

    def test_bad_input_gets_ec2_errors_and_the_server_keeps_serving(self):
        cases = [
            ("Action=DescribeRegions&Broken=%zz", "MalformedQueryString"),
            ("Action=FlyToTheMoon&Version=2016-11-15", "InvalidAction"),
            ("Version=2016-11-15", "MissingAction"),
            ("Action=RunInstances&InstanceType=m5.large&MinCount=one&MaxCount=1",
             "InvalidParameterValue"),
            ("Action=RunInstances&InstanceType=m5.large&MinCount=1&MaxCount=1e99",
             "InvalidParameterValue"),
            ("Action=RunInstances&InstanceType=m5.large&MinCount=2147483647&MaxCount=2147483647",
             "InstanceLimitExceeded"),
            ("Action=DescribeInstances&MaxResults=5&NextToken=%00%01", "InvalidPaginationToken"),
            ("Action=CreateTags&ResourceId.1=i-0123456789abcdef0&Tag.1.Key=a",
             "InvalidInstanceID.NotFound"),
        ]
        for body, code in cases:
            with self.subTest(body=body):
                status, xml = self.mock.raw(body)
                self.assertEqual(status, 400)
                self.assertIn("<Code>%s</Code>" % code, xml)
        status, xml = self.mock.raw("{}", content_type="application/json")
        self.assertIn("<Code>MalformedQueryString</Code>", xml)
        self.assertEqual(self.mock.control("GET", "/v1/instances")["instances"], [])
        self.assertEqual(len(self.ec2.describe_regions()["Regions"]), 1)


class Boto3CredentialsTest(unittest.TestCase):
    def test_good_signature_passes_wrong_secret_is_auth_failure(self):
        home = tempfile.TemporaryDirectory(prefix="boto3-home-")
        self.addCleanup(home.cleanup)
        creds = os.path.join(home.name, "server-credentials")
        with open(creds, "w") as f:
            f.write("[test]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (ACCESS_KEY, SECRET_KEY))
        mock = Mockmeta(["--aws-credentials", creds])
        self.addCleanup(mock.stop)
        self.assertEqual(len(make_client(mock.endpoint).describe_regions()["Regions"]), 1)
        with self.assertRaises(ClientError) as cm:
            make_client(mock.endpoint, secret="wrong").describe_regions()
        self.assertEqual(cm.exception.response["Error"]["Code"], "AuthFailure")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 401)
        # Query signing verifies too: botocore presigns EC2 calls for the operation's method,
        # POST, with an empty body.
        url = make_client(mock.endpoint).generate_presigned_url(
            "describe_regions", Params={}, ExpiresIn=60)
        with urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST"),
                                    timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertIn(b"<regionName>us-east-1</regionName>", r.read())


if __name__ == "__main__":
    unittest.main()
