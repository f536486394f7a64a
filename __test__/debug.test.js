'use strict'
// NODE_DEBUG=containerd-napi: a line per RPC (operation, namespace, duration, status) and per
// registry request (method, URL without credentials or query, status); nothing when unset.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { sandbox, uniqueName } = require('./helpers.js')

const sb = sandbox()
const program = `
const { Client } = require(${JSON.stringify(path.join(__dirname, '..'))})
const [address, namespace, ref, username, password] = process.argv.slice(1)
;(async () => {
  const c = await Client.connect({ address, namespace })
  await c.version()
  await c.getImage('missing').catch(() => {})
  await c.pull(ref, { auth: { username, password } })
  await c.close()
})().catch((e) => { console.error(e); process.exit(1) })`

function run(env) {
  const { basic } = sb.registries
  const namespace = uniqueName('dbg')
  const args = ['-e', program, sb.address, namespace, basic.ref, basic.username, basic.password]
  const r = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  return { ...r, namespace, lines: r.stderr.split('\n').filter(Boolean) }
}

test('NODE_DEBUG=containerd-napi logs RPCs and registry requests, never credentials', () => {
  const { basic } = sb.registries
  const r = run({ NODE_DEBUG: 'containerd-napi' })
  const { lines } = r
  const namespace = r.namespace
  assert.ok(lines.every((l) => l.startsWith(`CONTAINERD-NAPI ${r.pid}: `)), r.stderr)
  const escaped = namespace.replace(/[-.]/g, '\\$&')
  assert.ok(lines.some((l) => new RegExp(`: rpc version namespace=${escaped} [\\d.]+ms OK$`).test(l)), r.stderr)
  assert.ok(lines.some((l) => new RegExp(`: rpc get image "missing" namespace=${escaped} [\\d.]+ms NOT_FOUND$`).test(l)), r.stderr)
  const host = basic.ref.split('/')[0]
  assert.ok(lines.some((l) => l.includes(`: registry GET http://${host}/v2/`) && / 401 [\d.]+ms$/.test(l)), r.stderr)
  assert.ok(lines.some((l) => / 200 [\d.]+ms$/.test(l) && l.includes('/blobs/sha256:')), r.stderr)
  assert.ok(!r.stderr.includes(basic.password) && !/authorization|basic /i.test(r.stderr), r.stderr)
})

test('without NODE_DEBUG (or naming another module) nothing is written', () => {
  for (const env of [{ NODE_DEBUG: '' }, { NODE_DEBUG: 'http,net' }]) assert.equal(run(env).stderr, '')
})
