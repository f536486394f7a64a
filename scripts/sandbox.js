#!/usr/bin/env node
'use strict'
// The project's own test stack: a private containerd (own root, state and socket; never the
// system's /run/containerd), reachable over tcp:// and mTLS through forwarders (scripts/proxy.js),
// a second containerd with its own mTLS tcp listener (which in 1.6 serves only CRI: used for
// handshake tests), and a docker-registry on 127.0.0.1 holding the fixture images. Every external program is run with an
// argument array, never through a shell.
//
//   node scripts/sandbox.js          start, print the addresses, run until Ctrl-C, tear down
//   node scripts/sandbox.js stop     tear down what a crashed run left behind
//
// As a module: `await start({ name })` returns the sandbox description (also written to
// <dir>/sandbox.json, which tests find through $CONTAINERD_NAPI_SANDBOX); `await stop(sandbox)`.

const { execFileSync, execFile, spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const { promisify } = require('node:util')
const { makeTlsMaterial } = require('./certs.js')
const { pushFixtures } = require('./fixtures.js')

const execFileAsync = promisify(execFile)
const BASE = process.env.CONTAINERD_NAPI_SANDBOX_ROOT || '/tmp/containerd-napi'

// program -> Debian package that provides it
const TOOLS = {
  containerd: 'containerd', ctr: 'containerd', runc: 'runc', 'docker-registry': 'docker-registry',
  skopeo: 'skopeo', busybox: 'busybox-static', protoc: 'protobuf-compiler', htpasswd: 'apache2-utils',
  openssl: 'openssl', tar: 'tar',
}

function onPath(program) {
  const dirs = (process.env.PATH || '').split(':').concat(['/usr/sbin', '/sbin', '/bin'])
  return dirs.some((d) => d && fs.existsSync(path.join(d, program)))
}

/** Installs missing Debian packages (as root); tells what is missing otherwise. */
function ensureTools() {
  const missing = [...new Set(Object.entries(TOOLS).filter(([p]) => !onPath(p)).map(([, pkg]) => pkg))]
  if (missing.length === 0) return
  if (process.getuid() !== 0) throw new Error(`missing Debian packages (install them as root): ${missing.join(' ')}`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env })
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function canConnect(target) {
  return new Promise((resolve) => {
    const sock = net.connect(target)
    sock.once('connect', () => { sock.destroy(); resolve(true) })
    sock.once('error', () => resolve(false))
  })
}

function alive(pid) {
  try { process.kill(pid, 0); return true } catch { return false }
}

/** Starts a daemon in its own process group, logging to `log`. */
function daemon(program, args, log) {
  const fd = fs.openSync(log, 'a')
  const child = spawn(program, args, { detached: true, stdio: ['ignore', fd, fd] })
  fs.closeSync(fd)
  child.unref()
  return child.pid
}

async function waitFor(what, pid, log, ready, ms = 30000) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await ready()) return
    if (!alive(pid)) break
    await sleep(50)
  }
  const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : ''
  throw new Error(`${what} did not come up (pid ${pid}); last log lines:\n${tail}`)
}

function containerdConfig(dir, { tcpAddress, tls }) {
  const q = JSON.stringify // TOML basic strings accept JSON string syntax for these paths
  const lines = [
    'version = 2',
    `root = ${q(path.join(dir, 'root'))}`,
    `state = ${q(path.join(dir, 'state'))}`,
    // CRI brings CNI and image-service machinery the client never uses; it only slows start-up.
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = ${q(path.join(dir, 'containerd.sock'))}`,
  ]
  if (tcpAddress) lines.push(`  tcp_address = ${q(tcpAddress)}`)
  if (tls) {
    lines.push(`  tcp_tls_ca = ${q(tls.ca)}`, `  tcp_tls_cert = ${q(tls.serverCert)}`, `  tcp_tls_key = ${q(tls.serverKey)}`)
  }
  lines.push('[ttrpc]', `  address = ${q(path.join(dir, 'containerd.sock.ttrpc'))}`)
  const file = path.join(dir, 'config.toml')
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  fs.writeFileSync(file, lines.join('\n') + '\n')
  return file
}

async function startContainerd(dir, options) {
  const config = containerdConfig(dir, options)
  const log = path.join(dir, 'containerd.log')
  const socket = path.join(dir, 'containerd.sock')
  const pid = daemon('containerd', ['--config', config], log)
  const [host, port] = (options.tcpAddress || '').split(':')
  await waitFor(`containerd (${dir})`, pid, log, async () =>
    fs.existsSync(socket) && (await canConnect(socket)) && (!port || (await canConnect({ host, port: Number(port) }))))
  return { pid, socket, log }
}

/** A forwarder from 127.0.0.1:port to a unix socket (scripts/proxy.js), optionally mTLS. */
async function startProxy(dir, name, port, socket, tls) {
  fs.mkdirSync(dir, { recursive: true })
  const log = path.join(dir, `${name}.log`)
  const args = [path.join(__dirname, 'proxy.js'), String(port), socket]
  if (tls) args.push(tls.serverCert, tls.serverKey, tls.ca)
  const pid = daemon(process.execPath, args, log)
  await waitFor(`${name} proxy`, pid, log, () => canConnect({ host: '127.0.0.1', port }))
  return { pid }
}

async function startRegistry(dir, port) {
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true })
  const config = path.join(dir, 'registry.yml')
  fs.writeFileSync(config, [
    'version: 0.1',
    'log: { level: warn }',
    'storage:',
    `  filesystem: { rootdirectory: ${JSON.stringify(path.join(dir, 'data'))} }`,
    '  delete: { enabled: true }',
    `http: { addr: "127.0.0.1:${port}" }`,
  ].join('\n') + '\n')
  const log = path.join(dir, 'registry.log')
  const pid = daemon('docker-registry', ['serve', config], log)
  await waitFor('docker-registry', pid, log, async () => {
    try { return (await fetch(`http://127.0.0.1:${port}/v2/`)).status === 200 } catch { return false }
  })
  return { pid, log }
}

function ctr(socket, args, options = {}) {
  return execFileSync('ctr', ['-a', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000, ...options })
}

/** Kills and deletes every task and container the daemon knows, in every namespace. */
function reap(socket) {
  let namespaces = []
  try { namespaces = ctr(socket, ['namespaces', 'ls', '-q']).split('\n').filter(Boolean) } catch { return }
  for (const ns of namespaces) {
    const tasks = ctr(socket, ['-n', ns, 'tasks', 'ls', '-q']).split('\n').filter(Boolean)
    for (const id of tasks) {
      try { ctr(socket, ['-n', ns, 'tasks', 'kill', '-a', '-s', 'SIGKILL', id]) } catch {}
      try { ctr(socket, ['-n', ns, 'tasks', 'delete', '-f', id]) } catch {}
    }
    for (const id of ctr(socket, ['-n', ns, 'containers', 'ls', '-q']).split('\n').filter(Boolean)) {
      try { ctr(socket, ['-n', ns, 'containers', 'rm', id]) } catch {}
    }
  }
}

/** Pids of processes whose command line mentions `dir` (daemons, shims of its daemons). */
function processesUsing(dir) {
  const pids = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      if (cmdline.split('\0').some((arg) => arg.startsWith(dir + '/') || arg === dir)) pids.push(Number(entry))
    } catch {}
  }
  return pids
}

async function terminate(pids, graceMs = 5000) {
  for (const pid of pids) try { process.kill(pid, 'SIGTERM') } catch {}
  const until = Date.now() + graceMs
  while (pids.some(alive) && Date.now() < until) await sleep(50)
  for (const pid of pids.filter(alive)) try { process.kill(pid, 'SIGKILL') } catch {}
  while (pids.some(alive)) await sleep(20)
}

function unmountUnder(dir) {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mp) => mp && (mp === dir || mp.startsWith(dir + '/')))
    .map((mp) => mp.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .sort((a, b) => b.length - a.length)
  for (const mp of mounts) {
    try { execFileSync('umount', ['-l', mp], { stdio: 'ignore' }) } catch {}
  }
}

function daemonDirs(dir) {
  return ['main', 'tls'].map((d) => path.join(dir, d)).filter((d) => fs.existsSync(path.join(d, 'config.toml')))
}

/**
 * Tears down a sandbox directory, whether it is running or was left by a crashed run: tasks are
 * reaped through a daemon (restarted on the old state if it died, so containers do not leak),
 * then daemons and shims are stopped, mounts released and the directory removed.
 */
async function destroy(dir) {
  if (!fs.existsSync(dir)) return
  for (const d of daemonDirs(dir)) {
    const socket = path.join(d, 'containerd.sock')
    const hasTasks = fs.existsSync(path.join(d, 'state/io.containerd.runtime.v2.task'))
    if (!hasTasks) continue
    if (!(await canConnect(socket))) {
      // The daemon died with tasks left: bring it back on the same state so it can clean up.
      const log = path.join(d, 'containerd.log')
      const pid = daemon('containerd', ['--config', path.join(d, 'config.toml')], log)
      try {
        await waitFor('containerd (cleanup)', pid, log, () => canConnect(socket), 15000)
      } catch {}
    }
    reap(socket)
  }
  await terminate(processesUsing(dir))
  unmountUnder(dir)
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
}

/** Starts the whole stack under BASE/<name>, replacing whatever an earlier run left there. */
async function start({ name = 'sandbox', fixtures = true } = {}) {
  ensureTools()
  const dir = path.join(BASE, name)
  await destroy(dir)
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const [tcpPort, tlsPort, daemonTlsPort, registryPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
  const tls = makeTlsMaterial(path.join(dir, 'certs'))
  const registryHost = `127.0.0.1:${registryPort}`
  const [main, secure, registry] = await Promise.all([
    startContainerd(path.join(dir, 'main'), {}),
    startContainerd(path.join(dir, 'tls'), { tcpAddress: `127.0.0.1:${daemonTlsPort}`, tls }),
    startRegistry(path.join(dir, 'registry'), registryPort),
  ])
  const proxies = await Promise.all([
    startProxy(path.join(dir, 'proxy'), 'tcp', tcpPort, main.socket),
    startProxy(path.join(dir, 'proxy'), 'mtls', tlsPort, main.socket, tls),
  ])
  const images = fixtures ? pushFixtures(path.join(dir, 'fixtures'), registryHost) : {}
  const sandbox = {
    dir,
    address: main.socket,
    // The main daemon's API over plain tcp:// and over mTLS (forwarders, see scripts/proxy.js).
    tcpAddress: `tcp://127.0.0.1:${tcpPort}`,
    tls: { address: `tcp://127.0.0.1:${tlsPort}`, daemonAddress: `tcp://127.0.0.1:${daemonTlsPort}`, ...tls },
    registry: registryHost,
    images,
    pids: [main.pid, secure.pid, registry.pid, ...proxies.map((p) => p.pid)],
  }
  sandbox.infoPath = path.join(dir, 'sandbox.json')
  fs.writeFileSync(sandbox.infoPath, JSON.stringify(sandbox, null, 2))
  return sandbox
}

async function stop(sandbox) {
  await destroy(sandbox.dir)
}

module.exports = { start, stop, destroy, BASE, execFileAsync }

if (require.main === module) {
  const command = process.argv[2] || 'start'
  const name = process.argv[3] || 'sandbox'
  if (command === 'stop') {
    destroy(path.join(BASE, name)).then(() => console.log(`removed ${path.join(BASE, name)}`))
  } else {
    start({ name }).then((sb) => {
      console.log(`containerd socket:  ${sb.address}`)
      console.log(`containerd tcp:     ${sb.tcpAddress} (forwarded to the socket)`)
      console.log(`containerd mTLS:    ${sb.tls.address} (forwarded; certs in ${path.dirname(sb.tls.ca)})`)
      console.log(`registry:           http://${sb.registry}`)
      for (const [fixture, ref] of Object.entries(sb.images)) console.log(`image ${fixture}:`.padEnd(20) + ref)
      console.log(`\nexport CONTAINERD_ADDRESS=${sb.address}\nctr -a ${sb.address} version\n\nCtrl-C stops it and removes ${sb.dir}`)
      const shutdown = () => stop(sb).then(() => process.exit(0))
      process.once('SIGINT', shutdown)
      process.once('SIGTERM', shutdown)
      setInterval(() => {}, 1 << 30)
    }, (err) => {
      console.error(err.message)
      process.exit(1)
    })
  }
}
