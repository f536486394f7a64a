#!/usr/bin/env node
'use strict'
// The project's own test stack: a private containerd (own root, state and socket; never the
// system's /run/containerd) and a docker-registry on 127.0.0.1 holding the fixture images. For
// the pull tests there are more registries: one with basic auth, one with bearer tokens from
// scripts/token-server.js, one over HTTPS, and scripts/corrupt-proxy.js in front of the plain one.
// Only with `tcp: true` (the test stack, scripts/run-tests.js): the main daemon over tcp:// and
// mTLS through forwarders (scripts/proxy.js), and a second containerd with its own mTLS tcp
// listener (which in 1.6 serves only CRI: used for handshake tests). A plain TCP port onto a root
// containerd is root for every local user, so nothing else (the demo) starts one.
//
// Each sandbox is a new directory made with mkdtemp under BASE, a directory of root's that
// nobody else can write to (checked, not assumed): nothing another user planted in advance is
// ever used, and sandboxes can run side by side. Every external program is run with an argument
// array, never through a shell, and every daemon has a path under the sandbox directory in its
// arguments, which is how destroy() finds it.
//
//   node scripts/sandbox.js [start] [NAME] [--tcp]   start, print the addresses, run until Ctrl-C, tear down
//   node scripts/sandbox.js stop [NAME]              tear down what crashed runs left behind
//
// As a module: `await start({ name })` returns the sandbox description (also written to
// <dir>/sandbox.json, which tests find through $CONTAINERD_NAPI_SANDBOX); `await stop(sandbox)`.

const { execFileSync, execFile, spawn } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const net = require('node:net')
const path = require('node:path')
const { promisify } = require('node:util')
const { makeTlsMaterial, makeRegistryCert, makeTokenSigner } = require('./certs.js')
const { buildFixtures, pushFixtures, pushImage } = require('./fixtures.js')

const execFileAsync = promisify(execFile)
// Not in /tmp: there another user could create it first. /var/lib is root's.
const BASE = path.resolve(process.env.CONTAINERD_NAPI_SANDBOX_ROOT || '/var/lib/containerd-napi')
const { O_WRONLY, O_APPEND, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants
// The basic-auth and token-auth registries' only user (throwaway credentials on 127.0.0.1).
const USER = { username: 'user', password: 'pass' }
const TOKEN = { service: 'containerd-napi-registry', issuer: 'containerd-napi-token-server' }

// program -> Debian package that provides it
const TOOLS = {
  containerd: 'containerd', ctr: 'containerd', runc: 'runc', 'docker-registry': 'docker-registry',
  skopeo: 'skopeo', busybox: 'busybox-static', protoc: 'protobuf-compiler', htpasswd: 'apache2-utils',
  openssl: 'openssl', tar: 'tar', iptables: 'iptables', ip: 'iproute2', '/usr/lib/cni/bridge': 'containernetworking-plugins',
  // GNU time: the pull bench's peak RSS of `ctr images pull`.
  '/usr/bin/time': 'time',
}

function onPath(program) {
  if (path.isAbsolute(program)) return fs.existsSync(program)
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

/** Throws unless `dir` (lstat: no symlink) is a directory of this user that nobody else can write to. */
function checkOwnDir(dir, what = dir) {
  const st = fs.lstatSync(dir)
  if (!st.isDirectory()) throw new Error(`${what} is not a directory (a symlink?): refusing to use it`)
  if (st.uid !== process.getuid()) throw new Error(`${what} belongs to uid ${st.uid}, not to uid ${process.getuid()}: refusing to use it`)
  if (st.mode & 0o022) throw new Error(`${what} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}): refusing to use it`)
}

/**
 * BASE, made (0700) if missing and checked: BASE itself must pass checkOwnDir, and every
 * directory above it must be root's (or ours) and not writable by others unless sticky, so no
 * one else can swap BASE for something of theirs either.
 */
function verifiedBase() {
  fs.mkdirSync(BASE, { recursive: true, mode: 0o700 })
  checkOwnDir(BASE)
  for (let dir = fs.realpathSync(path.dirname(BASE)); ; dir = path.dirname(dir)) {
    const st = fs.statSync(dir)
    const safe = (st.uid === 0 || st.uid === process.getuid()) && (!(st.mode & 0o022) || (st.mode & fs.constants.S_ISVTX))
    if (!safe) throw new Error(`${dir} (above ${BASE}) can be changed by other users: refusing to use ${BASE}`)
    if (dir === '/') break
  }
  return BASE
}

/** Throws unless `dir` is a sandbox directory: directly in the verified BASE, and ours. */
function checkSandboxDir(dir) {
  if (path.dirname(path.resolve(dir)) !== verifiedBase()) throw new Error(`${dir} is not in ${BASE}: not a sandbox`)
  checkOwnDir(dir)
}

/** Writes a file of ours (0600), never through a symlink. */
function writePrivate(file, text) {
  fs.writeFileSync(file, text, { flag: O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o600 })
}

function canConnect(target) {
  return new Promise((resolve) => {
    const sock = net.connect(target)
    sock.once('connect', () => { sock.destroy(); resolve(true) })
    sock.once('error', () => resolve(false))
  })
}

/** The HTTP status of GET url (0 when nothing answers); `ca` for https. */
function httpStatus(url, ca) {
  return new Promise((resolve) => {
    const req = (url.startsWith('https:') ? https : http).get(url, { ca, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.on('error', () => resolve(0))
  })
}

function alive(pid) {
  try { process.kill(pid, 0); return true } catch { return false }
}

/** Starts a daemon in its own process group, logging to `log`. */
function daemon(program, args, log) {
  const fd = fs.openSync(log, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600)
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
  // The restart monitor checks every 10 s by default; tests of restart policies wait for it.
  lines.push('[plugins."io.containerd.internal.v1.restart"]', '  interval = "1s"')
  const file = path.join(dir, 'config.toml')
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  writePrivate(file, lines.join('\n') + '\n')
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

/** Runs one of the scripts next to this one as a daemon that listens on 127.0.0.1:port. */
async function startScript(dir, script, args, port) {
  fs.mkdirSync(dir, { recursive: true })
  const log = path.join(dir, script.replace(/\.js$/, '.log'))
  const pid = daemon(process.execPath, [path.join(__dirname, script), ...args], log)
  await waitFor(script, pid, log, () => canConnect({ host: '127.0.0.1', port }))
  return { pid }
}

/** A docker-registry on 127.0.0.1:port; `auth` is its auth section, `tls` { certificate, key, ca }. */
async function startRegistry(dir, port, { auth, tls } = {}) {
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true })
  const config = path.join(dir, 'registry.yml')
  const q = JSON.stringify // JSON is YAML flow syntax
  const lines = [
    'version: 0.1',
    'log: { level: warn }',
    'storage:',
    `  filesystem: { rootdirectory: ${q(path.join(dir, 'data'))} }`,
    '  delete: { enabled: true }',
    `http: ${q({ addr: `127.0.0.1:${port}`, ...(tls ? { tls: { certificate: tls.certificate, key: tls.key } } : {}) })}`,
  ]
  if (auth) lines.push(`auth: ${q(auth)}`)
  writePrivate(config, lines.join('\n') + '\n')
  const log = path.join(dir, 'registry.log')
  const pid = daemon('docker-registry', ['serve', config], log)
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}/v2/`
  const expected = auth ? 401 : 200
  const ca = tls && fs.readFileSync(tls.ca)
  await waitFor(`docker-registry (${dir})`, pid, log, async () => (await httpStatus(url, ca)) === expected)
  return { pid, log }
}

/**
 * The registries of the pull tests, beside the plain one at `plainHost`: basic auth (htpasswd),
 * bearer tokens (scripts/token-server.js), HTTPS with a leaf of the sandbox CA, and a proxy that
 * corrupts the plain registry's blobs (scripts/corrupt-proxy.js). Everything up to the first await
 * runs synchronously, so the daemons are spawned before the caller builds the fixtures. Returns
 * their description for sandbox.json, their pids, and fill(built), which pushes their images.
 */
async function startPullRegistries(dir, plainHost, [basicPort, tokenPort, tokenServerPort, httpsPort, corruptPort]) {
  const certs = path.join(dir, 'certs')
  const host = (port) => `127.0.0.1:${port}`
  const credentials = `${USER.username}:${USER.password}`

  const htpasswd = path.join(dir, 'registry-basic', 'htpasswd')
  fs.mkdirSync(path.dirname(htpasswd), { recursive: true })
  // -B: docker-registry accepts only bcrypt entries.
  writePrivate(htpasswd, execFileSync('htpasswd', ['-Bbn', USER.username, USER.password], { encoding: 'utf8' }).trim() + '\n')

  const signer = makeTokenSigner(certs)
  const realm = `http://${host(tokenServerPort)}/token`
  const tokenConfig = path.join(dir, 'token-server', 'config.json')
  fs.mkdirSync(path.dirname(tokenConfig), { recursive: true })
  writePrivate(tokenConfig, JSON.stringify({ port: tokenServerPort, cert: signer.cert, key: signer.key, ...TOKEN, ...USER }))

  const serverCert = makeRegistryCert(certs)
  const ca = path.join(certs, 'ca.pem')
  const journal = path.join(dir, 'corrupt-proxy', 'corrupted.txt')

  const started = await Promise.all([
    startRegistry(path.join(dir, 'registry-basic'), basicPort, { auth: { htpasswd: { realm: 'containerd-napi', path: htpasswd } } }),
    startRegistry(path.join(dir, 'registry-token'), tokenPort, { auth: { token: { realm, ...TOKEN, rootcertbundle: signer.cert } } }),
    startRegistry(path.join(dir, 'registry-tls'), httpsPort, { tls: { certificate: serverCert.cert, key: serverCert.key, ca } }),
    startScript(path.join(dir, 'token-server'), 'token-server.js', [tokenConfig], tokenServerPort),
    startScript(path.join(dir, 'corrupt-proxy'), 'corrupt-proxy.js', [String(corruptPort), plainHost, journal], corruptPort),
  ])
  const registries = {
    basic: { host: host(basicPort), ...USER, ref: `${host(basicPort)}/private/busybox:latest` },
    token: { host: host(tokenPort), ...USER, ref: `${host(tokenPort)}/private/busybox:latest`, realm },
    tls: { host: host(httpsPort), ca, ref: `${host(httpsPort)}/busybox:latest` },
    // Serves whatever the plain registry holds; busybox:latest is the fixture pushed there.
    corrupt: { host: host(corruptPort), ref: `${host(corruptPort)}/corrupt:latest` },
  }
  const fill = (built) => Promise.all([
    pushImage(built.busybox, registries.basic.ref, ['--dest-tls-verify=false', '--dest-creds', credentials]),
    pushImage(built.busybox, registries.token.ref, ['--dest-tls-verify=false', '--dest-creds', credentials]),
    pushImage(built.busybox, registries.tls.ref, ['--dest-cert-dir', serverCert.trustDir]),
  ])
  return { registries, pids: started.map((s) => s.pid), fill }
}

function ctr(socket, args, options = {}) {
  return execFileSync('ctr', ['-a', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000, ...options })
}

/** Kills and deletes every task and container the daemon knows, in every namespace. */
function reap(socket) {
  let namespaces
  try { namespaces = ctr(socket, ['namespaces', 'ls', '-q']).split('\n').filter(Boolean) } catch { return }
  for (const ns of namespaces) {
    // First, or the restart monitor brings tasks back while they are reaped.
    for (const id of ctr(socket, ['-n', ns, 'containers', 'ls', '-q', 'labels."containerd.io/restart.status"']).split('\n').filter(Boolean)) {
      try { ctr(socket, ['-n', ns, 'containers', 'label', id, 'containerd.io/restart.status=']) } catch {}
    }
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
  return ['main', 'tls'].map((d) => path.join(dir, d)).filter((d) => {
    try { return fs.lstatSync(d).isDirectory() } catch { return false }
  })
}

/**
 * Tears down a sandbox directory, whether it is running or was left by a crashed run: tasks are
 * reaped through a daemon (started again on the old state if it died, so containers do not leak),
 * then daemons and shims are stopped, mounts released and the directory removed. Only a
 * directory in the verified BASE is touched, and a daemon is never started from a config found
 * there: the cleanup daemon gets a config written here and now (root, state and socket only).
 */
async function destroy(dir) {
  if (!fs.existsSync(dir)) return
  checkSandboxDir(dir)
  for (const d of daemonDirs(dir)) {
    const socket = path.join(d, 'containerd.sock')
    const hasTasks = fs.existsSync(path.join(d, 'state/io.containerd.runtime.v2.task'))
    const hasNetworks = d.endsWith('/main') && fs.existsSync(path.join(dir, 'network'))
    if (!hasTasks && !hasNetworks) continue
    if (!(await canConnect(socket))) {
      // The daemon died with tasks left: bring it back on the same state so it can clean up.
      const config = containerdConfig(d, {})
      const log = path.join(d, 'containerd.log')
      const pid = daemon('containerd', ['--config', config], log)
      try {
        await waitFor('containerd (cleanup)', pid, log, () => canConnect(socket), 15000)
      } catch {}
    }
    reap(socket)
    if (hasNetworks) teardownNetworks(socket, path.join(dir, 'network'))
  }
  await terminate(processesUsing(dir))
  unmountUnder(dir)
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
}

/**
 * Removes the sandbox's networks through the library (scripts/network-teardown.js); where that
 * cannot run (no addon built yet), at least their bridges, which live outside the directory.
 */
function teardownNetworks(socket, root) {
  const env = { ...process.env, CONTAINERD_NAPI_NETWORK_ROOT: root }
  try {
    execFileSync(process.execPath, [path.join(__dirname, 'network-teardown.js'), socket], { env, stdio: 'pipe', timeout: 60000 })
    return
  } catch {}
  let defs = []
  try { defs = fs.readdirSync(path.join(root, 'networks')).filter((f) => f.endsWith('.json')) } catch {}
  for (const f of defs) {
    try {
      const { bridge } = JSON.parse(fs.readFileSync(path.join(root, 'networks', f), 'utf8'))
      if (/^cnapi[0-9a-f]{10}$/.test(bridge)) execFileSync('ip', ['link', 'delete', bridge], { stdio: 'ignore' })
    } catch {}
  }
}

/** The pid that made a sandbox directory (its `owner` file), or null. */
function ownerOf(dir) {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'owner'), { encoding: 'utf8', flag: fs.constants.O_RDONLY | O_NOFOLLOW }))
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

/**
 * Sandbox directories in BASE (those of `name`, or all), each { dir, owner, running }: running
 * while the process that made it lives. A directory without an owner file is treated as running
 * unless it is a minute old (its maker may be between mkdtemp and writing the file).
 */
function sandboxes(name) {
  const base = verifiedBase()
  return fs.readdirSync(base)
    .filter((entry) => (name ? entry.startsWith(`${name}-`) : true))
    .map((entry) => path.join(base, entry))
    .filter((dir) => { try { return fs.lstatSync(dir).isDirectory() } catch { return false } })
    .map((dir) => {
      const owner = ownerOf(dir)
      const young = Date.now() - fs.lstatSync(dir).mtimeMs < 60000
      return { dir, owner, running: owner ? alive(owner) : young }
    })
}

/** Removes the sandboxes (of `name`, or all) whose process is gone: what crashed runs left. */
async function destroyLeftovers(name) {
  const left = sandboxes(name).filter((s) => !s.running)
  for (const { dir } of left) await destroy(dir)
  return left.map((s) => s.dir)
}

/**
 * Starts the whole stack in a new directory BASE/<name>-XXXXXX, after removing what crashed runs
 * of the same name left. `tcp`: also the tcp:// and mTLS ways into containerd (tests only).
 * A failed start removes what it made.
 */
async function start({ name = 'sandbox', fixtures = true, tcp = false } = {}) {
  ensureTools()
  await destroyLeftovers(name)
  const dir = fs.mkdtempSync(path.join(verifiedBase(), `${name}-`))
  writePrivate(path.join(dir, 'owner'), String(process.pid))
  try {
    return await startIn(dir, { fixtures, tcp })
  } catch (err) {
    await destroy(dir).catch(() => {})
    throw err
  }
}

async function startIn(dir, { fixtures, tcp }) {
  const [tlsPort, daemonTlsPort, tcpPort, registryPort, ...pullPorts] = await Promise.all(Array.from({ length: 9 }, freePort))
  // The CA also signs the HTTPS registry's certificate, so it is made without tcp too.
  const tls = makeTlsMaterial(path.join(dir, 'certs'))
  const registryHost = `127.0.0.1:${registryPort}`
  // The daemons come up in the background while the fixture images are built (synchronously).
  const starting = Promise.all([
    startContainerd(path.join(dir, 'main'), {}),
    tcp ? startContainerd(path.join(dir, 'tls'), { tcpAddress: `127.0.0.1:${daemonTlsPort}`, tls }) : null,
    startRegistry(path.join(dir, 'registry'), registryPort),
    fixtures ? startPullRegistries(dir, registryHost, pullPorts) : null,
  ])
  starting.catch(() => {}) // awaited below; a failing build must not leave it unhandled meanwhile
  const built = fixtures ? buildFixtures(path.join(dir, 'fixtures')) : null
  const [main, secure, registry, pull] = await starting
  const proxies = tcp
    ? await Promise.all([
      startProxy(path.join(dir, 'proxy'), 'tcp', tcpPort, main.socket),
      startProxy(path.join(dir, 'proxy'), 'mtls', tlsPort, main.socket, tls),
    ])
    : []
  const [{ images, fixtures: facts }] = built
    ? await Promise.all([pushFixtures(path.join(dir, 'fixtures'), registryHost, built), pull.fill(built)])
    : [{ images: {}, fixtures: {} }]
  const sandbox = {
    dir,
    address: main.socket,
    registry: registryHost,
    images,
    // What the registry serves for each image (digests, platforms, layers), for assertions.
    fixtures: facts,
    registries: pull ? pull.registries : {},
    pids: [main.pid, registry.pid, ...(secure ? [secure.pid] : []), ...proxies.map((p) => p.pid), ...(pull ? pull.pids : [])],
  }
  if (tcp) {
    // The main daemon's API over plain tcp:// and over mTLS (forwarders, see scripts/proxy.js).
    sandbox.tcpAddress = `tcp://127.0.0.1:${tcpPort}`
    sandbox.tls = { address: `tcp://127.0.0.1:${tlsPort}`, daemonAddress: `tcp://127.0.0.1:${daemonTlsPort}`, ...tls }
  }
  sandbox.infoPath = path.join(dir, 'sandbox.json')
  writePrivate(sandbox.infoPath, JSON.stringify(sandbox, null, 2))
  return sandbox
}

/**
 * Restarts the main containerd on its existing root and state, as a service manager would: shims
 * and containers keep running, and clients reconnect. Resolves once it serves again.
 */
async function restartMain(sandbox) {
  const dir = path.join(sandbox.dir, 'main')
  checkSandboxDir(sandbox.dir)
  const config = path.join(dir, 'config.toml')
  const daemons = processesUsing(dir).filter((pid) => {
    try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(config) } catch { return false }
  })
  await terminate(daemons)
  const log = path.join(dir, 'containerd.log')
  // The config this run wrote in start(), in a directory checked as ours.
  const pid = daemon('containerd', ['--config', config], log)
  await waitFor('containerd (restart)', pid, log, () => canConnect(sandbox.address))
  return pid
}

async function stop(sandbox) {
  await destroy(sandbox.dir)
}

module.exports = { start, stop, destroy, destroyLeftovers, sandboxes, restartMain, ensureTools, freePort, BASE, execFileAsync }

if (require.main === module) {
  const args = process.argv.slice(2)
  const tcp = args.includes('--tcp')
  const [command = 'start', name] = args.filter((a) => a !== '--tcp')
  if (command === 'stop') {
    destroyLeftovers(name).then((removed) => {
      for (const dir of removed) console.log(`removed ${dir}`)
      const running = sandboxes(name).filter((s) => s.running)
      for (const { dir, owner } of running) console.log(`still running: ${dir} (pid ${owner ?? '?'}; stop that process)`)
    }, (err) => {
      console.error(err.message)
      process.exit(1)
    })
  } else {
    start({ name: name || 'sandbox', tcp }).then((sb) => {
      console.log(`containerd socket:  ${sb.address}`)
      if (sb.tcpAddress) {
        console.log(`containerd tcp:     ${sb.tcpAddress} (forwarded to the socket; root for anyone who can connect)`)
        console.log(`containerd mTLS:    ${sb.tls.address} (forwarded; certs in ${path.dirname(sb.tls.ca)})`)
      }
      console.log(`registry:           http://${sb.registry}`)
      for (const [fixture, ref] of Object.entries(sb.images)) console.log(`image ${fixture}:`.padEnd(20) + ref)
      const { basic, token, tls, corrupt } = sb.registries
      if (basic) {
        console.log(`basic auth:         ${basic.ref} (http, user ${basic.username}, password ${basic.password})`)
        console.log(`token auth:         ${token.ref} (http, same user; tokens from ${token.realm})`)
        console.log(`https:              ${tls.ref} (CA ${tls.ca})`)
        console.log(`corrupting proxy:   ${corrupt.ref} (http, the plain registry with every blob damaged)`)
      }
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
