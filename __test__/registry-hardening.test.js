'use strict'
// Bounded registry input (issue 15): a registry that stalls (before answering or mid-blob), error
// and token bodies that never end, credentials and plain-http token realms, https→http redirects.
// Every server here is a front on 127.0.0.1 in this process; nothing leaves loopback.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const os = require('node:os')
const path = require('node:path')
const {
  Client, NotFoundError, UnavailableError, ResourceExhaustedError, PermissionDeniedError, InvalidArgumentError,
} = require('..')
const { sandbox, uniqueName, silentServer, rejectsWith } = require('./helpers.js')
const { makeTlsMaterial } = require('../scripts/certs.js')

const sb = sandbox()
const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })
const lines = (text) => text.split('\n').filter(Boolean)
const BLOB = /^\/v2\/.+\/blobs\/sha256:[0-9a-f]{64}/
const CHUNK = Buffer.alloc(64 * 1024, 'x')

function assertNothingLeft(ns) {
  assert.deepEqual(lines(ctr(ns, 'leases', 'ls', '-q')), [], 'leases left')
  assert.deepEqual(lines(ctr(ns, 'content', 'active')).slice(1), [], 'ingests left')
  assert.deepEqual(lines(ctr(ns, 'images', 'ls', '-q')), [], 'images left')
}

/** The repository path of a sandbox image reference (`127.0.0.1:port/name:tag` → `name:tag`). */
const repoOf = (ref) => ref.slice(ref.indexOf('/') + 1)

/**
 * An HTTP(S) server on 127.0.0.1; `handle(req, res, forward)` answers, and `forward()` passes the
 * request on to the sandbox registry unchanged.
 */
async function front(handle, tls) {
  const sockets = new Set()
  const [host, port] = [sb.registry.slice(0, sb.registry.lastIndexOf(':')), Number(sb.registry.slice(sb.registry.lastIndexOf(':') + 1))]
  const onRequest = (req, res) => {
    const forward = (onAnswer) => {
      const upstream = http.request({ host, port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        if (onAnswer) return onAnswer(answer)
        res.writeHead(answer.statusCode, answer.statusMessage, answer.rawHeaders)
        answer.pipe(res)
      })
      upstream.on('error', () => res.destroy())
      req.pipe(upstream)
    }
    handle(req, res, forward)
  }
  const server = tls ? https.createServer({ key: fs.readFileSync(tls.serverKey), cert: fs.readFileSync(tls.serverCert) }, onRequest) : http.createServer(onRequest)
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  server.on('secureConnection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    host: `127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(r) }),
  }
}

/** Writes CHUNK after CHUNK until the peer goes away; resolves with the bytes written. */
function endless(res) {
  return new Promise((resolve) => {
    let sent = 0
    const pump = () => {
      while (!res.destroyed) {
        sent += CHUNK.length
        if (!res.write(CHUNK)) return res.once('drain', pump)
      }
    }
    res.on('close', () => resolve(sent))
    pump()
  })
}

test('a registry that stalls mid-blob: UnavailableError within stallTimeoutMs + a few seconds, nothing left', async () => {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('stall') })
  let stalled = 0
  const f = await front((req, res, forward) => {
    if (!(req.method === 'GET' && BLOB.test(req.url))) return forward()
    forward((answer) => {
      const chunks = []
      answer.on('data', (d) => chunks.push(d))
      answer.on('end', () => {
        const body = Buffer.concat(chunks)
        res.writeHead(answer.statusCode, answer.rawHeaders)
        res.write(body.subarray(0, body.length >> 1))
        stalled++
        // ... and then nothing, with the connection open.
      })
    })
  })
  const started = Date.now()
  const err = await rejectsWith(c.pull(`${f.host}/${repoOf(sb.images.multilayer)}`, { unpack: false, stallTimeoutMs: 1500 }), UnavailableError)
  const took = Date.now() - started
  assert.ok(stalled > 0, 'a blob was stalled')
  assert.ok(took >= 1400 && took < 1500 + 5000, `failed after ${took} ms: ${err.message}`)
  assert.match(err.message, /timed out|stall/i)
  assertNothingLeft(c.namespace)
  await f.close()
  await c.close()
})

test('a registry that never answers: UnavailableError after stallTimeoutMs; bad values are refused', async () => {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('stall') })
  const silent = await silentServer()
  const host = silent.address.replace('tcp://', '')
  const started = Date.now()
  await rejectsWith(c.pull(`${host}/x:latest`, { unpack: false, stallTimeoutMs: 800 }), UnavailableError)
  assert.ok(Date.now() - started < 800 + 5000)
  await rejectsWith(c.pull(`${host}/x:latest`, { stallTimeoutMs: 0 }), InvalidArgumentError, /stallTimeoutMs 0/)
  await rejectsWith(c.pull(`${host}/x:latest`, { stallTimeoutMs: '5' }), InvalidArgumentError, /options.stallTimeoutMs/)
  assertNothingLeft(c.namespace)
  await silent.close()
  await c.close()
})

test('a 404 with an endless body: NotFoundError, bounded memory, the connection dropped', async () => {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('endless') })
  let sent
  const f = await front((req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' })
    res.write('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":"')
    sent = endless(res)
  })
  const before = process.memoryUsage().rss
  await rejectsWith(c.pull(`${f.host}/x:latest`, { unpack: false }), NotFoundError)
  const grown = process.memoryUsage().rss - before
  const bytes = await Promise.race([sent, new Promise((r) => setTimeout(() => r(-1), 5000))])
  assert.ok(bytes > 0 && bytes < 32 << 20, `the server wrote ${bytes} bytes before the client went away`)
  assert.ok(grown < 64 << 20, `rss grew by ${grown} bytes`)
  assertNothingLeft(c.namespace)
  await f.close()
  await c.close()
})

test('token answers: an endless one is ResourceExhaustedError; credentials never go to a plain-http realm off loopback', async () => {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('token') })
  let tokenBytes
  let realm
  const f = await front((req, res) => {
    if (req.url.startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"token":"')
      tokenBytes = endless(res)
      return
    }
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="front"` })
    res.end()
  })
  realm = `http://${f.host}/token`
  await rejectsWith(c.pull(`${f.host}/x:latest`, { unpack: false }), ResourceExhaustedError, /larger than 65536 bytes/)
  assert.ok((await tokenBytes) < 32 << 20)

  // 192.0.2.1 (TEST-NET-1) is never contacted: the credentials are refused before any request.
  realm = 'http://192.0.2.1/token'
  const started = Date.now()
  await rejectsWith(
    c.pull(`${f.host}/x:latest`, { unpack: false, auth: { username: 'u', password: 'secret' } }),
    PermissionDeniedError, /plain http/,
  )
  assert.ok(Date.now() - started < 3000)
  realm = 'http://127.0.0.1.nip.io/token'
  await rejectsWith(c.pull(`${f.host}/x:latest`, { unpack: false, auth: { username: 'u', password: 'secret' } }), PermissionDeniedError)
  assertNothingLeft(c.namespace)
  await f.close()
  await c.close()
})

test('an https registry redirecting to plain http is refused', async () => {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('redirect') })
  const tls = makeTlsMaterial(fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-redirect-')))
  let plainHits = 0
  const plain = await front((req, res, forward) => { plainHits++; forward() })
  const secure = await front((req, res) => {
    res.writeHead(307, { location: `http://${plain.host}${req.url}` })
    res.end()
  }, tls)
  const err = await rejectsWith(c.pull(`${secure.host}/${repoOf(sb.images.busybox)}`, { unpack: false, tls: { ca: fs.readFileSync(tls.ca) } }), UnavailableError)
  assert.match(err.message, /redirect from https to plain http/)
  assert.equal(plainHits, 0)
  assertNothingLeft(c.namespace)
  await secure.close()
  await plain.close()
  await c.close()
})
