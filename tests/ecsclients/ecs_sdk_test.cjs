// Alibaba Cloud's SDKs for JavaScript against mockmeta's ECS API, unmodified but for the
// endpoint: @alicloud/ecs20140526 (V3 signatures, and V1 with signatureAlgorithm "v2") and
// @alicloud/pop-core (V1). Starts its own mockmeta processes (manual clock) and stops them by
// pid, also on failure. Exit 0 when every check passed; otherwise the first failure and why.
//   usage: node ecs_sdk_test.cjs MOCKMETA_BIN SCENARIO
'use strict';
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Ecs = require('@alicloud/ecs20140526');
const { Config } = require('@alicloud/openapi-client');
const RPCClient = require('@alicloud/pop-core').RPCClient;

const [mockmetaBin, scenario] = process.argv.slice(2);
const REGION = 'cn-hangzhou';
const ZONE = 'cn-hangzhou-b';
const CRUNCH_ZONE = 'cn-hangzhou-c';
const TYPE = 'ecs.c5.8xlarge';
const started = [];

// Starts mockmeta and resolves with its ready line (addresses) once it listens.
function startMockmeta(extra) {
  return new Promise((resolve, reject) => {
    const child = spawn(mockmetaBin, ['--scenario', scenario, '--clock', 'manual',
      '--imds-listen', '127.0.0.1:0', '--control-listen', '127.0.0.1:0',
      '--ec2-listen', '127.0.0.1:0', '--ecs-listen', '127.0.0.1:0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error('mockmeta not ready in 10 s: ' + err)), 10000);
    child.stderr.on('data', (d) => { err += d; child.errText = err; });
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      const ready = JSON.parse(out.slice(0, nl));
      ready.stderr = () => err;
      resolve(ready);
    });
    child.on('exit', (code) => reject(new Error('mockmeta exited ' + code + ': ' + err)));
  });
}

async function http(base, method, p, body) {
  const r = await fetch('http://' + base + p, {
    method, headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(method + ' ' + p + ': ' + r.status + ' ' + text);
  return text;
}
const control = async (m, method, p, body) => JSON.parse(await http(m.control, method, p, body));
const advance = (m, by) => control(m, 'POST', '/v1/clock/advance', { by });

function ecsClient(m, keyId, secret, v1) {
  const cfg = new Config({ accessKeyId: keyId, accessKeySecret: secret, endpoint: m.ecs,
    protocol: 'http', regionId: REGION });
  if (v1) cfg.signatureAlgorithm = 'v2';
  return new Ecs.default(cfg);
}
function popClient(m, keyId, secret) {
  return new RPCClient({ accessKeyId: keyId, accessKeySecret: secret,
    endpoint: 'http://' + m.ecs, apiVersion: '2014-05-26' });
}

// The SDK error's code (the test fails if the call succeeds).
async function codeOf(promise) {
  try {
    await promise;
  } catch (e) {
    return e.code || (e.data && e.data.Code) || String(e);
  }
  assert.fail('the call succeeded but should have failed');
}

async function describe(ecs, id) {
  const r = await ecs.describeInstances(new Ecs.DescribeInstancesRequest({
    regionId: REGION, instanceIds: JSON.stringify([id]) }));
  assert.equal(r.body.instances.instance.length, 1, 'DescribeInstances ' + id);
  return r.body.instances.instance[0];
}
const locks = (i) => i.operationLocks.lockReason.map((l) => l.lockReason);

async function run(ecs, fields) {
  const r = await ecs.runInstances(new Ecs.RunInstancesRequest({
    regionId: REGION, zoneId: ZONE, instanceType: TYPE, amount: 1, ...fields }));
  return r.body.instanceIdSets.instanceIdSet;
}

async function recycleStory(m, ecs) {
  // SpotWithPriceLimit without protection, and one with the protection hour.
  const [bare] = await run(ecs, { spotStrategy: 'SpotWithPriceLimit', spotPriceLimit: 0.3,
    spotDuration: 0, instanceName: 'bare' });
  const [kept] = await run(ecs, { spotStrategy: 'SpotWithPriceLimit', spotPriceLimit: 0.3,
    spotDuration: 1, instanceName: 'kept' });
  assert.equal((await describe(ecs, bare)).status, 'Running');
  // One market: the control API and IMDS see the instance ECS made.
  const ctl = await control(m, 'GET', '/v1/alibaba/instances/' + bare);
  assert.equal(ctl.Status, 'Running');
  assert.equal(await http(m.imds, 'GET', '/' + bare + '/latest/meta-data/instance-id'), bare);

  await control(m, 'PATCH', '/v1/pools/' + TYPE + '@' + ZONE, { price: 0.6 });
  await advance(m, '5m');
  const noticed = await describe(ecs, bare);
  assert.equal(noticed.status, 'Running');
  assert.deepEqual(locks(noticed), ['Recycling']);
  const termination = await http(m.imds, 'GET',
    '/' + bare + '/latest/meta-data/instance/spot/termination-time');
  assert.equal(termination, '2026-04-07T00:10:00Z');
  assert.deepEqual(locks(await describe(ecs, kept)), [], 'protection period honoured');
  await advance(m, '5m');
  assert.equal((await describe(ecs, bare)).status, 'Released');
  assert.equal((await describe(ecs, kept)).status, 'Running');

  // The price history ECS answers is the control API's.
  const hist = await ecs.describeSpotPriceHistory(new Ecs.DescribeSpotPriceHistoryRequest({
    regionId: REGION, zoneId: ZONE, instanceType: TYPE, networkType: 'vpc',
    startTime: '2026-04-07T00:00:00Z' }));
  const ours = hist.body.spotPrices.spotPriceType.map((p) => [p.timestamp, p.spotPrice]);
  const theirs = (await control(m, 'GET', '/v1/pools/' + TYPE + '@' + ZONE + '/price-history'))
    .prices.map((p) => [p.time, p.price]);
  assert.deepEqual(ours, theirs);
  assert.equal(hist.body.spotPrices.spotPriceType[0].originPrice, 1.52);
  await control(m, 'PATCH', '/v1/pools/' + TYPE + '@' + ZONE, { price: 0.152 });
  return kept;
}

async function crunchStory(m, ecs) {
  // SpotAsPriceGo in the one-slot pool: stock runs out, it is recycled.
  const [id] = await run(ecs, { zoneId: CRUNCH_ZONE, spotStrategy: 'SpotAsPriceGo',
    spotDuration: 0 });
  assert.equal(await codeOf(run(ecs, { zoneId: CRUNCH_ZONE, spotStrategy: 'SpotAsPriceGo' })),
    'OperationDenied.NoStock');
  await control(m, 'PATCH', '/v1/pools/' + TYPE + '@' + CRUNCH_ZONE, { capacity: 0 });
  await advance(m, '5m');
  assert.deepEqual(locks(await describe(ecs, id)), ['Recycling']);
}

async function lifecycleStory(ecs, id) {
  await ecs.stopInstance(new Ecs.StopInstanceRequest({ instanceId: id,
    stoppedMode: 'StopCharging' }));
  const stopped = await describe(ecs, id);
  assert.equal(stopped.status, 'Stopped');
  assert.equal(stopped.stoppedMode, 'StopCharging');
  await ecs.startInstance(new Ecs.StartInstanceRequest({ instanceId: id }));
  assert.equal((await describe(ecs, id)).status, 'Running');
  assert.equal(await codeOf(ecs.startInstance(new Ecs.StartInstanceRequest({ instanceId: id }))),
    'IncorrectInstanceStatus');
  await ecs.deleteInstance(new Ecs.DeleteInstanceRequest({ instanceId: id, force: true }));
  assert.equal((await describe(ecs, id)).status, 'Released');
}

async function errorStory(ecs) {
  assert.equal(await codeOf(run(ecs, { spotStrategy: 'SpotWithPriceLimit',
    spotPriceLimit: 0.01 })), 'InvalidSpotPriceLimit.LowerThanPublicPrice');
  assert.equal(await codeOf(ecs.deleteInstance(new Ecs.DeleteInstanceRequest({
    instanceId: 'i-doesnotexist0000000' }))), 'InvalidInstanceId.NotFound');
  assert.equal(await codeOf(ecs.runInstances(new Ecs.RunInstancesRequest({
    regionId: REGION, zoneId: ZONE }))), 'MissingParameter');
  assert.equal(await codeOf(run(ecs, { amount: 1000 })), 'InvalidParameter.Amount');
  assert.equal(await codeOf(run(ecs, { spotStrategy: 'SpotAsPriceGo', dryRun: true })),
    'DryRunOperation');
  const advice = await ecs.describeSpotAdvice(new Ecs.DescribeSpotAdviceRequest({
    regionId: REGION }));
  const zones = advice.body.availableSpotZones.availableSpotZone;
  assert.ok(zones.length >= 1);
  assert.match(zones[0].availableSpotResources.availableSpotResource[0].interruptRateDesc,
    /^(0-3|3-5|5-10|10-100)%$/);
}

async function popCoreStory(m) {
  const pop = popClient(m, 'AKID', 'secret');
  const made = await pop.request('RunInstances', { RegionId: REGION, ZoneId: ZONE,
    InstanceType: TYPE, SpotStrategy: 'SpotAsPriceGo' }, { method: 'POST' });
  const id = made.InstanceIdSets.InstanceIdSet[0];
  const got = await pop.request('DescribeInstances', { RegionId: REGION,
    InstanceIds: JSON.stringify([id]) });
  assert.equal(got.Instances.Instance[0].Status, 'Running');
  assert.equal(await codeOf(pop.request('StopInstance', { InstanceId: 'i-nope' })),
    'InvalidInstanceId.NotFound');
}

async function signatureStory() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecs-sdk-'));
  const creds = path.join(dir, 'config.json');
  fs.writeFileSync(creds, JSON.stringify({ profiles: [{ name: 'default', mode: 'AK',
    access_key_id: 'AKID', access_key_secret: 'secret' }] }));
  const m = await startMockmeta(['--alibaba-credentials', creds]);
  const req = () => new Ecs.DescribeRegionsRequest({});
  await ecsClient(m, 'AKID', 'secret', false).describeRegions(req());  // V3
  await ecsClient(m, 'AKID', 'secret', true).describeRegions(req());  // V1 (openapi)
  await popClient(m, 'AKID', 'secret').request('DescribeRegions', {});  // V1 (pop-core)
  assert.equal(await codeOf(ecsClient(m, 'AKID', 'wrong', false).describeRegions(req())),
    'SignatureDoesNotMatch');
  assert.equal(await codeOf(popClient(m, 'AKID', 'wrong').request('DescribeRegions', {})),
    'SignatureDoesNotMatch');
  assert.equal(await codeOf(ecsClient(m, 'NOKEY', 'secret', false).describeRegions(req())),
    'InvalidAccessKeyId.NotFound');
  // The same nonce twice: the SDK's nonce source pinned for two calls.
  const utils = require('@alicloud/openapi-core/dist/utils').default;
  const getNonce = utils.getNonce;
  utils.getNonce = () => 'a-nonce-used-twice';
  try {
    const ecs = ecsClient(m, 'AKID', 'secret', false);
    await ecs.describeRegions(req());
    assert.equal(await codeOf(ecs.describeRegions(req())), 'SignatureNonceUsed');
  } finally {
    utils.getNonce = getNonce;
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main() {
  const m = await startMockmeta([]);
  const ecs = ecsClient(m, 'anykey', 'anysecret', false);
  const kept = await recycleStory(m, ecs);
  await crunchStory(m, ecs);
  await lifecycleStory(ecs, kept);
  await errorStory(ecs);
  await popCoreStory(m);
  await signatureStory();
  console.log('ok: every ECS SDK check passed');
}

// Stops every mockmeta this test started, by its pid; resolves with the exit codes.
function stopAll() {
  return Promise.all(started.map((c) => new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve(c.exitCode);
    c.once('exit', (code) => resolve(code));
    c.kill('SIGTERM');
  })));
}

main().then(() => 0, (e) => {
  console.error('FAIL:', e && e.stack ? e.stack : e);
  for (const c of started) {
    console.error('mockmeta stderr (tail):\n' + (c.errText || '').slice(-2000));
  }
  return 1;
}).then(async (code) => {
  const exits = await stopAll();
  if (code === 0 && exits.some((x) => x !== 0)) {
    console.error('FAIL: mockmeta did not stop cleanly (exit codes ' + exits.join(', ') + ')');
    for (const c of started) console.error((c.errText || '').slice(-2000));
    code = 1;
  }
  process.exitCode = code;
});
