#!/usr/bin/env python3
"""Instance metadata as real tools read it: the clouds' own clients against mockmeta.

    imds_clients_test.py CASE        (ctest runs one CASE per test: imds_clients.<case>)

Each case starts the real mockmeta (MOCKMETA_BIN) on loopback, or inside a network namespace it
creates (`unshare -r -n -m`, 169.254.169.254 / 100.100.100.200 on the namespace's lo), and drives
an unmodified client: cloud-init's DataSourceEc2 / DataSourceAliYun, botocore's credential and
region fetchers, Debian's ec2metadata, and lastcalld with the shipped default configuration.
Nothing is sent outside 127.0.0.0/8 or the namespace. A client that cannot be run fails the case
with the reason (install it with `scripts/install-deps imds-clients`); nothing is skipped.
Every process a case starts is stopped by its pid, also when the case fails.
"""
import datetime
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

SOURCE_DIR = os.environ.get("LASTCALL_SOURCE_DIR", os.path.dirname(os.path.abspath(__file__)) + "/../../..")
MOCKMETA = os.environ.get("MOCKMETA_BIN", "")
LASTCALLD = os.environ.get("LASTCALLD_BIN", "")

AWS_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockMockMockMockMockMockMockMockMockMock ops@example"


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def scenario(start, flavor, settings):
    """A scenario with one spot instance of `flavor` carrying `settings` (TOML lines)."""
    if flavor == "aws":
        return f"""seed = 7
start = "{start}"
[[zone]]
name = "us-east-1a"
region = "us-east-1"
[[instance_type]]
name = "m5.large"
vcpu = 2
memory_gib = 8
on_demand_price = 0.096
[[pool]]
type = "m5.large"
zone = "us-east-1a"
capacity = 5
price = 0.03
[pool.model]
kind = "fixed"
[[aws.instance]]
type = "m5.large"
zone = "us-east-1a"
market = "spot"
name = "web-1"
{settings}
"""
    return f"""seed = 7
start = "{start}"
[[zone]]
name = "cn-hangzhou-b"
region = "cn-hangzhou"
[[instance_type]]
name = "ecs.g6.large"
vcpu = 2
memory_gib = 8
on_demand_price = 0.2
[[pool]]
type = "ecs.g6.large"
zone = "cn-hangzhou-b"
capacity = 5
price = 0.02
[pool.model]
kind = "fixed"
[[alibaba.instance]]
type = "ecs.g6.large"
zone = "cn-hangzhou-b"
name = "worker-1"
spot_strategy = "SpotAsPriceGo"
{settings}
"""


AWS_SETTINGS = f'''instance_profile = "web-role"
tags = {{ team = "web" }}
metadata_tags = true
public_ip = "203.0.113.7"
key_name = "ops"
public_key = "{AWS_KEY}"
user_data = "#cloud-config\\nhostname: web-1\\n"
security_groups = ["web", "ssh"]'''

ALI_SETTINGS = f'''instance_profile = "EcsRole"
public_ip = "47.98.1.2"
key_name = "ops"
public_key = "{AWS_KEY}"
user_data = "#cloud-config\\nhostname: worker-1\\n"'''


class Mockmeta:
    """The real mockmeta binary; stopped by pid on exit."""

    def __init__(self, workdir, scenario_text, args):
        check(os.access(MOCKMETA, os.X_OK), f"mockmeta binary not found (MOCKMETA_BIN={MOCKMETA!r})")
        path = os.path.join(workdir, "scenario.toml")
        with open(path, "w") as f:
            f.write(scenario_text)
        self.proc = subprocess.Popen(
            # Every listener on a free port: cases run in parallel with other tests.
            [MOCKMETA, "--scenario", path, "--clock", "manual", "--control-listen", "127.0.0.1:0",
             "--ec2-listen", "127.0.0.1:0", "--ecs-listen", "127.0.0.1:0"] + args,
            stdout=subprocess.PIPE, stderr=open(os.path.join(workdir, "mockmeta.log"), "w"))
        # mockmeta prints one JSON line when every listener is bound.
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.stop()
            raise Failure("mockmeta did not become ready: " + open(os.path.join(workdir, "mockmeta.log")).read())
        self.ready = json.loads(line)
        self.control = "http://" + self.ready["control"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.control + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def instance_id(self):
        ids = [i["id"] for i in self.call("GET", "/v1/instances")["instances"]]
        check(len(ids) == 1, f"expected one instance, got {ids}")
        return ids[0]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_mockmeta(workdir, flavor, settings, args=None, start=None):
    start = start or "2026-11-23T10:00:00Z"
    return Mockmeta(workdir, scenario(start, flavor, settings), args or ["--imds-listen", "127.0.0.1:0"])


def import_or_fail(module, package):
    try:
        return __import__(module, fromlist=["x"])
    except ImportError as e:
        raise Failure(f"cannot import {module} ({e}): install {package} (scripts/install-deps imds-clients)")


# --- cloud-init ---------------------------------------------------------------------------------

def cloud_init_datasource(kind, url, workdir):
    helpers = import_or_fail("cloudinit.helpers", "cloud-init")
    distros = import_or_fail("cloudinit.distros", "cloud-init")
    ec2 = import_or_fail("cloudinit.sources.DataSourceEc2", "cloud-init")
    paths = helpers.Paths({"cloud_dir": workdir + "/cloud", "run_dir": workdir + "/run"})
    distro = distros.fetch("debian")("debian", {}, paths)
    cfg = {"metadata_urls": [url], "timeout": 5, "max_wait": 10}
    if kind == "ec2":
        # DMI is empty in the sandbox; on EC2 it names the platform. Stand in for it, as the
        # instance's DMI would, so the datasource takes its AWS path (tokens, identity).
        ec2.identify_platform = lambda: ec2.CloudNames.AWS
        return ec2.DataSourceEc2({"datasource": {"Ec2": cfg}}, distro, paths)
    ali = import_or_fail("cloudinit.sources.DataSourceAliYun", "cloud-init")
    ali._is_aliyun = lambda: True  # the DMI product name "Alibaba Cloud ECS", as above
    return ali.DataSourceAliYun({"datasource": {"AliYun": cfg}}, distro, paths)


def cloud_init_ec2(tokens):
    with tempfile.TemporaryDirectory() as d:
        m = run_mockmeta(d, "aws", AWS_SETTINGS)
        try:
            iid = m.instance_id()
            m.call("PATCH", f"/v1/instances/{iid}", {"http_tokens": tokens})
            url = f"http://{m.ready['imds']}/{iid}"
            ds = cloud_init_datasource("ec2", url, d)
            check(ds.get_data(), "DataSourceEc2.get_data() returned False: " + open(d + "/mockmeta.log").read())
            md = ds.metadata
            check(md["instance-id"] == iid, f"instance-id {md.get('instance-id')}")
            check(md["placement"]["availability-zone"] == "us-east-1a", "placement")
            check(md["public-ipv4"] == "203.0.113.7", "public-ipv4")
            check(ds.get_public_ssh_keys() == [AWS_KEY], f"keys {ds.get_public_ssh_keys()}")
            check(md["tags"]["instance"]["team"] == "web", "tags")
            # cloud-init skips security-credentials on purpose (botocore's case reads them).
            info = md["iam"]["info"]
            check(info["InstanceProfileArn"].endswith(":instance-profile/web-role"), f"iam/info {info}")
            mac = md["mac"]
            nic = md["network"]["interfaces"]["macs"][mac]
            check(nic["security-groups"] in ("web\nssh", ["web", "ssh"]), f"groups {nic}")
            check(ds.userdata_raw == b"#cloud-config\nhostname: web-1\n", f"user-data {ds.userdata_raw!r}")
            check(ds.identity["instanceId"] == iid and ds.identity["region"] == "us-east-1",
                  f"identity {ds.identity}")
            check(ds.get_instance_id() == iid and ds.region == "us-east-1", "instance id / region")
            # The datasource used the newest version it knows, served like latest.
            check(ds.get_metadata_api_version() == "2021-03-23", "api version")
            if tokens == "required":
                check(ds._api_token, "no IMDSv2 token was used")
        finally:
            m.stop()


def case_cloud_init_ec2_tokens_optional():
    cloud_init_ec2("optional")


def case_cloud_init_ec2_tokens_required():
    cloud_init_ec2("required")


def case_cloud_init_aliyun():
    with tempfile.TemporaryDirectory() as d:
        m = run_mockmeta(d, "alibaba", ALI_SETTINGS)
        try:
            iid = m.instance_id()
            ds = cloud_init_datasource("aliyun", f"http://{m.ready['imds']}/{iid}", d)
            check(ds.get_data(), "DataSourceAliYun.get_data() returned False: " + open(d + "/mockmeta.log").read())
            md = ds.metadata
            check(md["instance-id"] == iid, "instance-id")
            check(md["mac"].startswith("00:16:3e:"), f"mac {md['mac']}")
            check(md["network-type"] == "vpc" and md["eipv4"] == "47.98.1.2", "network-type / eipv4")
            check(md["dns-conf"]["nameservers"], "nameservers")
            check(ds.get_hostname().hostname == md["hostname"], "hostname")
            check(ds.get_public_ssh_keys() == [AWS_KEY], f"keys {ds.get_public_ssh_keys()}")
            # cloud-init skips security-credentials on purpose; read them as Alibaba's SDKs do.
            ram = json.loads(urllib.request.urlopen(
                f"http://{m.ready['imds']}/{iid}/latest/meta-data/ram/security-credentials/EcsRole",
                timeout=5).read())
            check(ram["AccessKeyId"].startswith("STS.") and ram["SecurityToken"], f"ram {ram}")
            check(ds.userdata_raw == b"#cloud-config\nhostname: worker-1\n", f"user-data {ds.userdata_raw!r}")
            check(ds.get_instance_id() == iid, "instance id")
            # Identity: cloud-init's AliYun path does not read it; read it as Alibaba documents.
            doc = json.loads(urllib.request.urlopen(
                f"http://{m.ready['imds']}/{iid}/2016-01-01/dynamic/instance-identity/document", timeout=5).read())
            check(doc["instance-id"] == iid, f"identity {doc}")
        finally:
            m.stop()


# --- botocore -----------------------------------------------------------------------------------

def case_botocore_credentials_and_region():
    utils = import_or_fail("botocore.utils", "python3-botocore")
    credentials = import_or_fail("botocore.credentials", "python3-botocore")
    # The virtual clock starts at the real time, so Expiration means the same to botocore.
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as d:
        m = run_mockmeta(d, "aws", AWS_SETTINGS, start=rfc3339(start))
        try:
            iid = m.instance_id()
            m.call("PATCH", f"/v1/instances/{iid}", {"http_tokens": "required"})
            base = f"http://{m.ready['imds']}/{iid}"
            fetcher = utils.InstanceMetadataFetcher(timeout=5, num_attempts=2, base_url=base)
            creds = credentials.InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
            check(creds is not None, "InstanceMetadataProvider found no credentials")
            first = creds.get_frozen_credentials()
            first_expiry = creds._expiry_time
            check(first.access_key.startswith("ASIA") and first.token, f"credentials {first}")
            check(first_expiry == start + datetime.timedelta(hours=6), f"Expiration {first_expiry}")
            # 5h48m pass, for the mock (its virtual clock) and for botocore (its clock, the one
            # thing the test moves in the client): the credentials have 12 minutes left, inside
            # botocore's 15-minute advisory window, and the mock has rotated them.
            passed = datetime.timedelta(hours=5, minutes=48)
            m.call("POST", "/v1/clock/advance", {"by": "5h48m"})
            real_time = creds._time_fetcher
            creds._time_fetcher = lambda: real_time() + passed
            second = creds.get_frozen_credentials()
            check(creds._time_fetcher() < first_expiry, "the old credentials expired before the refresh")
            check(second.access_key != first.access_key,
                  f"botocore did not refresh the credentials (expiry {first_expiry})")
            check(creds._expiry_time > first_expiry, "the refreshed credentials do not last longer")
            region = utils.InstanceMetadataRegionFetcher(timeout=5, num_attempts=2, base_url=base).retrieve_region()
            check(region == "us-east-1", f"region {region!r}")
        finally:
            m.stop()


# --- AWS SDK for JavaScript v3 -------------------------------------------------------------------

AWS_SDK_JS = "@aws-sdk/ec2-metadata-service@3.1161.0"

JS_CLIENT = r"""
const { MetadataService } = require(process.env.NPM_DIR + "/node_modules/@aws-sdk/ec2-metadata-service");
const ms = new MetadataService({ endpoint: process.argv[1], ec2MetadataV1Disabled: true,
                                 retries: 0, httpOptions: { timeout: 5000 } });
(async () => {
  const out = {};
  for (const p of ["instance-id", "placement/region", "public-keys/0/openssh-key",
                   "iam/security-credentials/web-role"])
    out[p] = await ms.request("/latest/meta-data/" + p, {});
  out.document = await ms.request("/latest/dynamic/instance-identity/document", {});
  out.token = await ms.fetchMetadataToken();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(String(e)); process.exit(3); });
"""


def npm_package_dir():
    """The SDK, installed by npm into a cache dir under the build tree (once per version)."""
    d = os.environ.get("IMDS_NPM_DIR", "")
    check(d, "IMDS_NPM_DIR is not set (the build tree's npm cache for this test)")
    for tool in ("node", "npm"):
        check(shutil.which(tool), f"{tool} not found: install nodejs and npm")
    stamp = os.path.join(d, "installed-" + AWS_SDK_JS.replace("/", "_"))
    if not os.path.exists(stamp):
        os.makedirs(d, exist_ok=True)
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", d, AWS_SDK_JS],
                           capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, f"npm install {AWS_SDK_JS} failed: {r.stderr[-2000:]}")
        open(stamp, "w").close()
    return d


def case_aws_sdk_js_ec2_metadata_service():
    npm_dir = npm_package_dir()
    with tempfile.TemporaryDirectory() as d:
        probe = run_mockmeta(d, "aws", AWS_SETTINGS)
        try:
            iid = probe.instance_id()
        finally:
            probe.stop()
        m = run_mockmeta(d, "aws", AWS_SETTINGS, args=["--imds-listen-instance", f"{iid}=127.0.0.1:0",
                                                        "--imds-listen", "127.0.0.1:0"])
        try:
            m.call("PATCH", f"/v1/instances/{iid}", {"http_tokens": "required"})
            env = dict(os.environ, NPM_DIR=npm_dir)

            def node(endpoint):
                return subprocess.run(["node", "-e", JS_CLIENT, endpoint], capture_output=True, text=True,
                                      timeout=60, env=env)
            r = node("http://" + m.ready["instances"][iid])
            check(r.returncode == 0, f"the SDK failed on the bound listener: {r.stderr}")
            out = json.loads(r.stdout)
            check(out["instance-id"] == iid and out["placement/region"] == "us-east-1", f"SDK read {out}")
            check(out["public-keys/0/openssh-key"] == AWS_KEY, "openssh-key")
            check(json.loads(out["iam/security-credentials/web-role"])["AccessKeyId"].startswith("ASIA"), "creds")
            check(json.loads(out["document"])["instanceId"] == iid, "identity document")
            check(out["token"], "no token")
            # On the shared listener the SDK PUTs /latest/api/token without the prefix: no
            # instance, 404, and with IMDSv1 disabled it cannot go on. Hence the bound listener.
            r = node(f"http://{m.ready['imds']}/{iid}")
            check(r.returncode != 0, "the SDK unexpectedly worked through a path prefix: " + r.stdout)
        finally:
            m.stop()


# --- in a network namespace ---------------------------------------------------------------------

def in_namespace(case):
    """Runs `case` (a function name) in a fresh user+network+mount namespace."""
    for tool in ("unshare", "ip"):
        check(shutil.which(tool), f"{tool} not found: install util-linux / iproute2 (scripts/install-deps imds-clients)")
    r = subprocess.run(["unshare", "-r", "-n", "-m", sys.executable, os.path.abspath(__file__), "--inside", case],
                       env=os.environ)
    check(r.returncode == 0, f"{case} failed inside the namespace (exit {r.returncode})")


def namespace_setup(addresses):
    """Inside the namespace: lo up with the metadata addresses; nothing routes elsewhere."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for a in addresses:
        subprocess.run(["ip", "addr", "add", a + "/32", "dev", "lo"], check=True)
    routes = subprocess.run(["ip", "route", "show"], capture_output=True, text=True, check=True).stdout
    check("default" not in routes, "the namespace has a default route: " + routes)


def bound_mockmeta(d, flavor, settings, address):
    """mockmeta with `flavor`'s instance on a listener of its own at address:80."""
    probe = run_mockmeta(d, flavor, settings)  # the same seed gives the same instance id
    try:
        iid = probe.instance_id()
    finally:
        probe.stop()
    m = run_mockmeta(d, flavor, settings, args=["--imds-listen-instance", f"{iid}={address}:80",
                                                 "--imds-listen", "127.0.0.1:0"])
    check(m.instance_id() == iid, "the instance id changed between runs")
    return m, iid


def inside_ec2metadata():
    namespace_setup(["169.254.169.254"])
    tool = shutil.which("ec2metadata")
    check(tool, "ec2metadata not found: install cloud-guest-utils (scripts/install-deps imds-clients)")
    with tempfile.TemporaryDirectory() as d:
        m, iid = bound_mockmeta(d, "aws", AWS_SETTINGS, "169.254.169.254")
        try:
            def run(*args):
                r = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)
                check(r.returncode == 0, f"ec2metadata {args}: exit {r.returncode}: {r.stderr}")
                return r.stdout
            expect = {
                "--instance-id": iid, "--instance-type": "m5.large", "--ami-id": "ami-0abcdef1234567890",
                "--ami-launch-index": "0", "--ami-manifest-path": "(unknown)",
                "--availability-zone": "us-east-1a", "--availability-zone-id": "use1-az1",
                "--region": "us-east-1", "--instance-action": "none", "--profile": "default-hvm",
                "--public-ipv4": "203.0.113.7", "--public-hostname": "ec2-203-0-113-7.compute-1.amazonaws.com",
                "--security-groups": "web\nssh",
                "--block-device-mapping": "ami\nroot",
                "--public-keys": str([AWS_KEY]),  # ec2metadata prints the Python list
                # Not on this instance (no kernel, ramdisk, product codes, placement group,
                # dedicated host): 404, which ec2metadata prints as "unavailable".
                "--kernel-id": "unavailable", "--ramdisk-id": "unavailable", "--product-codes": "unavailable",
                "--ancestor-ami-ids": "unavailable", "--group-name": "unavailable",
                "--host-id": "unavailable", "--partition-number": "unavailable",
            }
            for opt, want in expect.items():
                got = run(opt).rstrip("\n")
                check(got == want, f"ec2metadata {opt}: {got!r}, want {want!r}")
            for opt in ("--local-hostname", "--local-ipv4", "--mac", "--reservation-id"):
                got = run(opt).strip()
                check(got and got != "unavailable", f"ec2metadata {opt}: {got!r}")
            check(run("--user-data") == "#cloud-config\nhostname: web-1\n", "ec2metadata --user-data")
            everything = run()
            check(f"instance-id: {iid}" in everything and "region: us-east-1" in everything,
                  "ec2metadata (all options): " + everything)
            # --url: another version of the tree on the same address; tokens required as well.
            m.call("PATCH", f"/v1/instances/{iid}", {"http_tokens": "required"})
            got = run("--url", "http://169.254.169.254/latest", "--instance-id").strip()
            check(got == iid, f"ec2metadata --url .../latest --instance-id: {got!r}")
        finally:
            m.stop()


def case_ec2metadata_in_namespace():
    in_namespace("inside_ec2metadata")


def lastcalld_zero_config(flavor, address, settings):
    namespace_setup([address])
    check(os.access(LASTCALLD, os.X_OK), f"lastcalld binary not found (LASTCALLD_BIN={LASTCALLD!r})")
    config = os.path.join(SOURCE_DIR, "etc", "lastcalld.toml")
    with tempfile.TemporaryDirectory() as d:
        # The shipped default writes /var/lib/lastcall and /run/lastcall: private tmpfs in this
        # mount namespace (over the parent when the directory does not exist on the host), so
        # the host's are never touched. /etc/lastcall/hooks.d need not exist (no hooks).
        for path in ("/var/lib/lastcall", "/run/lastcall"):
            target = path if os.path.isdir(path) else os.path.dirname(path)
            subprocess.run(["mount", "-t", "tmpfs", "tmpfs", target], check=True)
            os.makedirs(path, exist_ok=True)
        m, iid = bound_mockmeta(d, flavor, settings, address)
        log_path = os.path.join(d, "lastcalld.log")
        agent = subprocess.Popen([LASTCALLD, "--config", config], stdout=open(log_path, "w"),
                                 stderr=subprocess.STDOUT)
        try:
            # The instance gets its notice; the agent must see it through the default endpoint.
            if flavor == "aws":
                m.call("POST", f"/v1/aws/instances/{iid}/interrupt", {"action": "terminate", "in": "2m"})
            else:
                m.call("POST", f"/v1/alibaba/instances/{iid}/recycle")
            want = "interruption" if flavor == "aws" else "release"
            deadline = time.monotonic() + 30
            status = None
            while time.monotonic() < deadline:
                r = subprocess.run([LASTCALLD, "--config", config, "status"], capture_output=True, text=True)
                status = r.stdout
                if f"notice:" in status and want in status:
                    break
                check(agent.poll() is None, "lastcalld exited: " + open(log_path).read())
                # The agent polls every 2 s (the default); `status` reads what it last saw.
                time.sleep(0.5)
            check(status and want in status, f"lastcalld never showed the {want} notice: {status}\n" + open(log_path).read())
            check(flavor in status, f"lastcalld detected another provider: {status}")
            check(iid in status, f"lastcalld does not name {iid}: {status}")
            print(status)
        finally:
            agent.send_signal(signal.SIGTERM)
            try:
                agent.wait(30)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait()
            m.stop()


def inside_lastcalld_aws():
    lastcalld_zero_config("aws", "169.254.169.254", "")


def inside_lastcalld_alibaba():
    lastcalld_zero_config("alibaba", "100.100.100.200", "")


def case_lastcalld_zero_config_aws():
    in_namespace("inside_lastcalld_aws")


def case_lastcalld_zero_config_alibaba():
    in_namespace("inside_lastcalld_alibaba")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--inside":
        fn = globals()[sys.argv[2]]
    elif len(sys.argv) == 2 and "case_" + sys.argv[1] in globals():
        fn = globals()["case_" + sys.argv[1]]
    else:
        cases = sorted(k[5:] for k in globals() if k.startswith("case_"))
        sys.exit(f"usage: {sys.argv[0]} CASE   (cases: {', '.join(cases)})")
    try:
        fn()
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
