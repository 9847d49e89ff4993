"""The AWS SDK for JavaScript v3 against mockmeta: runs sdk_js_test.cjs with node against a fresh
mockmeta and checks that what it made shows in the control API (one market behind both)."""

import json
import os
import shutil
import subprocess
import unittest

from mockmeta_ec2 import Mockmeta


class SdkJsTest(unittest.TestCase):
    def test_request_run_paginate_error(self):
        mock = Mockmeta()
        self.addCleanup(mock.stop)
        env = dict(os.environ)
        env["NODE_PATH"] = os.path.join(os.environ["LASTCALL_NPM_PREFIX"], "node_modules")
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sdk_js_test.cjs")
        self.assertIsNotNone(shutil.which("node"),
                             "node is not installed (scripts/install-deps ec2-clients)")
        r = subprocess.run(["node", script, mock.endpoint], env=env, capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr + "\nmockmeta: " + mock.log())
        made = json.loads(r.stdout.strip().splitlines()[-1])["requests"]
        control = mock.control("GET", "/v1/aws/spot-requests")["spot_requests"]
        self.assertEqual(sorted(made), sorted(q["id"] for q in control if q["state"] == "active"))


if __name__ == "__main__":
    unittest.main()
