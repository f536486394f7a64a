'use strict'
// Shared test helpers: the sandbox started by scripts/run-tests.js, unique names, odd servers.

const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const net = require('node:net')

function sandbox() {
  const info = process.env.CONTAINERD_NAPI_SANDBOX
  if (!info) throw new Error('no sandbox: run the tests with `npm test` or `node scripts/run-tests.js`')
  return JSON.parse(fs.readFileSync(info, 'utf8'))
}

/** A namespace-safe unique name, so tests never collide (runc state is shared per namespace). */
function uniqueName(prefix) {
  return `${prefix}-${crypto.randomBytes(4).toString('hex')}`
}

/** A TCP server that accepts connections and never says anything. */
async function silentServer() {
  const sockets = new Set()
  const server = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    address: `tcp://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(r) }),
  }
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort() {
  const server = net.createServer()
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address()
  await new Promise((r) => server.close(r))
  return port
}

/** Asserts that `promise` rejects with an instance of `cls`, and returns the error. */
async function rejectsWith(promise, cls, pattern) {
  let error
  await assert.rejects(promise, (err) => { error = err; return true })
  assert.ok(error instanceof cls, `expected ${cls.name}, got ${error?.name}: ${error?.message}`)
  assert.equal(error.code, cls.code)
  if (pattern) assert.match(error.message, pattern)
  return error
}

/** Asserts that `fn` throws synchronously an instance of `cls`, and returns the error. */
function throwsWith(fn, cls, pattern) {
  let error
  assert.throws(fn, (err) => { error = err; return true })
  assert.ok(error instanceof cls, `expected ${cls.name}, got ${error?.name}: ${error?.message}`)
  if (pattern) assert.match(error.message, pattern)
  return error
}

module.exports = { sandbox, uniqueName, silentServer, closedPort, rejectsWith, throwsWith }
