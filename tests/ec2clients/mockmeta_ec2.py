"""A real mockmeta process for the EC2 client tests (AWS CLI, boto3).

Starts the binary ($MOCKMETA_BIN) on loopback with every listener on a free port, a manual
virtual clock and the scenario below; reads the ready file; stops the process by its pid (also
when a test fails). Helpers reach the control API and IMDS of the same process, so a test can
move the market (price, capacity, clock) and check that all three faces agree.
"""

import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

SCENARIO = """
seed = 7
start = "2026-04-07T00:00:00Z"

[[zone]]
name = "us-east-1a"
region = "us-east-1"

[[zone]]
name = "us-east-1b"
region = "us-east-1"

[[instance_type]]
name = "m5.large"
vcpu = 2
memory_gib = 8
on_demand_price = 0.096

[[instance_type]]
name = "c5.large"
vcpu = 2
memory_gib = 4
on_demand_price = 0.085

[[pool]]
type = "m5.large"
zone = "us-east-1a"
capacity = 20
price = 0.03

[[pool]]
type = "c5.large"
zone = "us-east-1b"
capacity = 0
price = 0.03
"""

POOL = "m5.large@us-east-1a"
REGION = "us-east-1"
ACCESS_KEY = "AKIDMOCKMETATEST"
SECRET_KEY = "mockmeta-test-secret"


class Mockmeta:
    def __init__(self, extra_args=()):
        self.dir = tempfile.TemporaryDirectory(prefix="mockmeta-ec2-")
        scenario = os.path.join(self.dir.name, "scenario.toml")
        with open(scenario, "w") as f:
            f.write(SCENARIO)
        ready = os.path.join(self.dir.name, "ready.json")
        self.stderr = open(os.path.join(self.dir.name, "stderr"), "w+")
        self.proc = subprocess.Popen(
            [os.environ["MOCKMETA_BIN"], "--scenario", scenario, "--clock", "manual",
             "--imds-listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0",
             "--ec2-listen", "127.0.0.1:0", "--ecs-listen", "127.0.0.1:0", "--ready-file", ready,
             *extra_args],
            stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + 20
        # The ready file appears (atomically) once every listener is bound.
        while not os.path.exists(ready):
            if self.proc.poll() is not None:
                raise RuntimeError("mockmeta exited: " + self.log())
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("mockmeta did not get ready: " + self.log())
            time.sleep(0.02)
        with open(ready) as f:
            self.ready = json.load(f)
        self.endpoint = "http://" + self.ready["ec2"]

    def log(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        self.dir.cleanup()

    # --- the control API -------------------------------------------------------------------
    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://" + self.ready["control"] + path, data=data,
                                     method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def set_price(self, price, pool=POOL):
        return self.control("PATCH", "/v1/pools/" + pool, {"price": price})

    def set_capacity(self, capacity, pool=POOL):
        return self.control("PATCH", "/v1/pools/" + pool, {"capacity": capacity})

    def advance(self, by):
        return self.control("POST", "/v1/clock/advance", {"by": by})

    # --- IMDS of one instance (path prefix on the shared listener) ---------------------------
    def imds(self, instance_id, path):
        url = "http://%s/%s/latest/meta-data/%s" % (self.ready["imds"], instance_id, path)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, ""

    # --- raw EC2 Query requests (for bodies no SDK would send) -------------------------------
    def raw(self, body, content_type="application/x-www-form-urlencoded"):
        req = urllib.request.Request(self.endpoint + "/", data=body.encode(), method="POST",
                                     headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


def client_env(home):
    """An environment for AWS clients: dummy keys, the region, no user config, no retries."""
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.path.join(home, "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
        "AWS_PAGER": "",
        "AWS_MAX_ATTEMPTS": "1",  # InsufficientInstanceCapacity is a 500: no retry backoff
        "HOME": home,
    })
    env.pop("AWS_PROFILE", None)
    return env
