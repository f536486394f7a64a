'use strict'
// Client.connect against the sandbox daemons: every address form, TLS, defaults, timeouts,
// cancellation, and the connection failures that must be UnavailableError.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const {
  Client, UnavailableError, UnimplementedError, InvalidArgumentError, DeadlineExceededError, CancelledError, FailedPreconditionError,
} = require('..')
const { sandbox, silentServer, closedPort, rejectsWith, throwsWith } = require('./helpers.js')

const sb = sandbox()
const pem = (file) => fs.readFileSync(file, 'utf8')

test('connects by socket path and by unix:// URI, and reports plain data', async () => {
  for (const address of [sb.address, `unix://${sb.address}`]) {
    const client = await Client.connect({ address })
    assert.equal(client.address, address)
    assert.equal(client.namespace, 'default')
    const v = await client.version()
    assert.deepEqual(Object.keys(v).sort(), ['revision', 'version'])
    assert.match(v.version, /^\d+\.\d+\.\d+/)
    assert.equal(typeof v.revision, 'string')
    await client.close()
  }
})

test('connects over plain tcp:// (HTTP/2 without TLS)', async () => {
  const client = await Client.connect({ address: sb.tcpAddress })
  assert.match((await client.version()).version, /^\d+\./)
  await client.close()
})

test('connects over mTLS with PEM strings or Buffers, and with serverName', async () => {
  const tls = { ca: pem(sb.tls.ca), cert: pem(sb.tls.clientCert), key: pem(sb.tls.clientKey) }
  const client = await Client.connect({ address: sb.tls.address, tls })
  assert.match((await client.version()).version, /^\d+\./)
  await client.close()
  const buffers = {
    ca: fs.readFileSync(sb.tls.ca), cert: fs.readFileSync(sb.tls.clientCert), key: fs.readFileSync(sb.tls.clientKey),
    serverName: 'localhost',
  }
  const named = await Client.connect({ address: sb.tls.address, tls: buffers })
  assert.match((await named.version()).version, /^\d+\./)
  await named.close()
})

test("containerd's own mTLS listener: the handshake works, and 1.6 serves only CRI there", async () => {
  const tls = { ca: pem(sb.tls.ca), cert: pem(sb.tls.clientCert), key: pem(sb.tls.clientKey) }
  const client = await Client.connect({ address: sb.tls.daemonAddress, tls })
  // The request crossed containerd's TLS listener and came back as its gRPC server's answer.
  await rejectsWith(client.version(), UnimplementedError, /unknown service containerd.services.version.v1.Version/)
  await client.close()
})

test('a wrong CA is an UnavailableError that says it is a certificate problem', async () => {
  const tls = { ca: pem(sb.tls.wrongCa), cert: pem(sb.tls.clientCert), key: pem(sb.tls.clientKey) }
  for (const address of [sb.tls.address, sb.tls.daemonAddress]) {
    const err = await rejectsWith(Client.connect({ address, tls }), UnavailableError, /certificate/i)
    assert.ok(err.message.includes(address), err.message)
    assert.equal(err.grpcCode, 14)
  }
})

test('a server name that is not in the certificate is a certificate problem', async () => {
  const tls = { ca: pem(sb.tls.ca), cert: pem(sb.tls.clientCert), key: pem(sb.tls.clientKey), serverName: 'not-this-host' }
  await rejectsWith(Client.connect({ address: sb.tls.address, tls }), UnavailableError, /certificate/i)
})

test('without a client certificate an mTLS endpoint refuses the connection', async () => {
  for (const address of [sb.tls.address, sb.tls.daemonAddress]) {
    const attempt = async () => {
      const client = await Client.connect({ address, tls: { ca: pem(sb.tls.ca) } })
      try { await client.version() } finally { await client.close() }
    }
    // TLS 1.3 may finish the client's side of the handshake before the server rejects it, so the
    // failure shows either at connect or at the first call.
    const err = await rejectsWith(attempt(), UnavailableError, /certificate|tls|handshake|connection/i)
    assert.ok(err.message.includes(address), err.message)
  }
})

test('$CONTAINERD_ADDRESS and $CONTAINERD_NAMESPACE are the defaults', async () => {
  const saved = { a: process.env.CONTAINERD_ADDRESS, n: process.env.CONTAINERD_NAMESPACE }
  try {
    process.env.CONTAINERD_ADDRESS = sb.address
    process.env.CONTAINERD_NAMESPACE = 'from-env'
    const client = await Client.connect()
    assert.equal(client.address, sb.address)
    assert.equal(client.namespace, 'from-env')
    await client.version()
    await client.close()
    const explicit = await Client.connect({ namespace: 'explicit' })
    assert.equal(explicit.namespace, 'explicit')
    await explicit.close()
  } finally {
    for (const [k, v] of [['CONTAINERD_ADDRESS', saved.a], ['CONTAINERD_NAMESPACE', saved.n]]) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
})

test('a missing socket, a non-socket path and a closed port are UnavailableErrors naming the address', async () => {
  const missing = path.join(os.tmpdir(), 'containerd-napi-no-such.sock')
  await rejectsWith(Client.connect({ address: missing }), UnavailableError, /no such socket/)
  const file = path.join(os.tmpdir(), `containerd-napi-not-a-socket-${process.pid}`)
  fs.writeFileSync(file, 'x')
  try {
    const err = await rejectsWith(Client.connect({ address: file }), UnavailableError, /not a socket/)
    assert.ok(err.message.includes(file))
  } finally {
    fs.rmSync(file)
  }
  const address = `tcp://127.0.0.1:${await closedPort()}`
  const err = await rejectsWith(Client.connect({ address, timeoutMs: 2000 }), UnavailableError)
  assert.ok(err.message.includes(address), err.message)
})

test('empty or malformed addresses and namespaces are InvalidArgumentErrors', async () => {
  for (const address of ['', 'http://127.0.0.1:1', 'tcp://127.0.0.1', 'tcp://127.0.0.1:70000', 'unix://']) {
    await rejectsWith(Client.connect({ address }), InvalidArgumentError, /address/)
  }
  for (const namespace of ['', 'has space', 'a/b', '-leading']) {
    await rejectsWith(Client.connect({ address: sb.address, namespace }), InvalidArgumentError, /namespace/)
  }
  await rejectsWith(Client.connect('not-an-object'), InvalidArgumentError, /options must be an object/)
  await rejectsWith(Client.connect({ address: 5 }), InvalidArgumentError, /options.address must be a string/)
  await rejectsWith(Client.connect({ address: sb.address, timeoutMs: -1 }), InvalidArgumentError, /timeoutMs/)
  await rejectsWith(Client.connect({ address: sb.address, tls: {} }), InvalidArgumentError, /tcp:\/\//)
  await rejectsWith(Client.connect({ address: sb.tls.address, tls: { ca: sb.tls.ca } }), InvalidArgumentError, /PEM contents/)
  await rejectsWith(Client.connect({ address: sb.tls.address, tls: { cert: pem(sb.tls.clientCert) } }), InvalidArgumentError, /together/)
})

/** A TCP forwarder to the daemon's socket that stops passing bytes on freeze(). */
async function freezingProxy() {
  const pairs = new Set()
  let frozen = false
  const server = net.createServer((a) => {
    const b = net.connect(sb.address)
    pairs.add([a, b])
    a.on('data', (d) => { if (!frozen) b.write(d) })
    b.on('data', (d) => { if (!frozen) a.write(d) })
    for (const [x, y] of [[a, b], [b, a]]) { x.on('error', () => y.destroy()); x.on('close', () => y.destroy()) }
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    address: `tcp://127.0.0.1:${server.address().port}`,
    freeze: () => { frozen = true },
    close: () => new Promise((r) => { for (const [a, b] of pairs) { a.destroy(); b.destroy() } server.close(r) }),
  }
}

test('timeoutMs bounds a connect that never completes and each unary call', async () => {
  const silent = await silentServer()
  try {
    // TLS waits for the server's hello, which never comes: connect itself times out.
    const tls = { ca: pem(sb.tls.ca), cert: pem(sb.tls.clientCert), key: pem(sb.tls.clientKey) }
    const started = Date.now()
    await rejectsWith(Client.connect({ address: silent.address, tls, timeoutMs: 300 }), UnavailableError, /within 300 ms/)
    assert.ok(Date.now() - started < 10000)
    // Plain HTTP/2 needs no server hello, but connect() waits for the daemon's answer.
    await rejectsWith(Client.connect({ address: silent.address, timeoutMs: 300 }), UnavailableError, /within 300 ms/)
    // A connection that goes silent after connecting: the call's deadline is what fires.
    const freezing = await freezingProxy()
    const client = await Client.connect({ address: freezing.address, timeoutMs: 300 })
    freezing.freeze()
    const err = await rejectsWith(client.version(), DeadlineExceededError, /within 300 ms/)
    assert.equal(err.grpcCode, 4)
    await client.close()
    await freezing.close()
  } finally {
    await silent.close()
  }
})

test('an AbortSignal cancels a pending call and a pending connect', async () => {
  const silent = await silentServer()
  try {
    const freezing = await freezingProxy()
    const client = await Client.connect({ address: freezing.address, timeoutMs: 0 })
    freezing.freeze()
    const controller = new AbortController()
    const pending = client.version({ signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    const err = await rejectsWith(pending, CancelledError, /aborted/)
    assert.equal(err.name, 'AbortError')
    await client.close()
    await freezing.close()
    // Plain and TLS connects alike wait for the daemon, and their signal aborts them.
    await rejectsWith(Client.connect({ address: silent.address, timeoutMs: 0, signal: AbortSignal.timeout(50) }), CancelledError)

    const tls = { ca: pem(sb.tls.ca), cert: pem(sb.tls.clientCert), key: pem(sb.tls.clientKey) }
    const connecting = Client.connect({ address: silent.address, tls, timeoutMs: 0, signal: AbortSignal.timeout(50) })
    await rejectsWith(connecting, CancelledError)
  } finally {
    await silent.close()
  }
  const live = await Client.connect({ address: sb.address })
  await rejectsWith(live.version({ signal: AbortSignal.abort() }), CancelledError)
  await rejectsWith(live.version({ signal: 'nope' }), InvalidArgumentError, /AbortSignal/)
  // An unaborted signal changes nothing.
  assert.match((await live.version({ signal: new AbortController().signal })).version, /^\d+\./)
  await live.close()
})

test('withNamespace views share one connection; close() ends them all', async () => {
  const client = await Client.connect({ address: sb.address })
  const other = client.withNamespace('other-ns')
  assert.equal(other.namespace, 'other-ns')
  assert.equal(other.address, client.address)
  assert.equal(client.namespace, 'default')
  await other.version()
  throwsWith(() => client.withNamespace('bad ns'), InvalidArgumentError, /namespace/)
  throwsWith(() => client.withNamespace(42), InvalidArgumentError, /string/)
  await client[Symbol.asyncDispose]()
  await rejectsWith(other.version(), FailedPreconditionError, /closed/)
  await rejectsWith(client.listNamespaces(), FailedPreconditionError, /closed/)
})

test('Client cannot be constructed directly', () => {
  assert.throws(() => new Client(), TypeError)
})
