// The AWS SDK for JavaScript v3 (@aws-sdk/client-ec2) against mockmeta's EC2 endpoint:
// RequestSpotInstances, RunInstances, DescribeInstances through the SDK's paginator, and an
// error's code. Run by sdk_js_test.py, which starts mockmeta and passes the endpoint; the SDK
// comes from a cache dir under the build tree (NODE_PATH), installed by the ec2clients.js_install
// test. Exits non-zero on the first failed check.
'use strict';
const assert = require('node:assert/strict');
const {
  EC2Client, RequestSpotInstancesCommand, RunInstancesCommand, DescribeSpotInstanceRequestsCommand,
  paginateDescribeInstances,
} = require('@aws-sdk/client-ec2');

async function main() {
  const endpoint = process.argv[2];
  const client = new EC2Client({
    endpoint, region: 'us-east-1', maxAttempts: 1,
    credentials: {accessKeyId: 'AKIDMOCKMETATEST', secretAccessKey: 'mockmeta-test-secret'},
  });

  const spot = await client.send(new RequestSpotInstancesCommand({
    SpotPrice: '0.05', InstanceCount: 2, LaunchSpecification: {InstanceType: 'm5.large'},
  }));
  assert.equal(spot.SpotInstanceRequests.length, 2);
  for (const r of spot.SpotInstanceRequests) {
    assert.equal(r.State, 'active');
    assert.equal(r.Status.Code, 'fulfilled');
    assert.ok(r.CreateTime instanceof Date);
    assert.equal(r.CreateTime.toISOString(), '2026-04-07T00:00:00.000Z');
    assert.match(r.InstanceId, /^i-[0-9a-f]{17}$/);
  }

  const run = await client.send(new RunInstancesCommand({
    InstanceType: 'm5.large', MinCount: 10, MaxCount: 10,
    TagSpecifications: [{ResourceType: 'instance', Tags: [{Key: 'Name', Value: 'js'}]}],
  }));
  assert.equal(run.Instances.length, 10);

  const seen = [];
  let pages = 0;
  let last;
  for await (const page of paginateDescribeInstances({client, pageSize: 5}, {})) {
    pages += 1;
    last = page;
    for (const res of page.Reservations) {
      for (const inst of res.Instances) seen.push(inst.InstanceId);
    }
  }
  assert.equal(pages, 3);
  assert.equal(last.NextToken, undefined);
  assert.equal(seen.length, 12);
  assert.equal(new Set(seen).size, 12);

  await assert.rejects(
      client.send(new DescribeSpotInstanceRequestsCommand({SpotInstanceRequestIds: ['sir-00000000']})),
      (err) => err.name === 'InvalidSpotInstanceRequestID.NotFound' &&
          err.$metadata.httpStatusCode === 400);
  console.log(JSON.stringify({requests: spot.SpotInstanceRequests.map((r) => r.SpotInstanceRequestId)}));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
