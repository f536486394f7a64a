'use strict'
// `npm run demo` as a new user would run it (issue 19): `node examples/demo.js` with its own
// private stack, started beside the test stack. The printed address logs in and everything works
// with it; nothing works without it; no TCP port the demo opened speaks containerd's API; and
// what another user planted at the paths older versions used (/tmp/containerd-napi,
// /tmp/containerd-napi-demo-logs) receives nothing.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { Client } = require('..')
const { BASE } = require('../scripts/sandbox.js')
const { sandbox, uniqueName } = require('./helpers.js')

const sb = sandbox()
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const OLD_BASE = '/tmp/containerd-napi'
const OLD_LOGS = '/tmp/containerd-napi-demo-logs'

const canary = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-canary-'))
const mountDir = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-demo-mounts-'))
fs.writeFileSync(path.join(mountDir, 'note.txt'), 'allowed\n')
const planted = [] // what this test planted (and removes again)
let demo // { child, output, loginUrl, url, dir }

/** Plants what another local user could have made before the demo starts; false if the path exists. */
function plant() {
  const free = (p) => { try { fs.lstatSync(p); return false } catch { return true } }
  if (free(OLD_BASE)) {
    fs.symlinkSync(canary, OLD_BASE) // a symlink to a directory of "theirs"
    planted.push(OLD_BASE)
  }
  if (free(OLD_LOGS)) {
    fs.mkdirSync(OLD_LOGS)
    fs.chmodSync(OLD_LOGS, 0o777) // a directory of "theirs", with a symlink for the namespace inside
    fs.symlinkSync(canary, path.join(OLD_LOGS, 'default'))
    planted.push(OLD_LOGS)
  }
}

before(async () => {
  plant()
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1' }
  delete env.CONTAINERD_ADDRESS
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'examples', 'demo.js'), '--allow-mount', mountDir],
    { env, stdio: ['ignore', 'pipe', 'pipe'] })
  demo = { child, output: '' }
  child.stdout.on('data', (d) => { demo.output += d })
  child.stderr.on('data', (d) => { demo.output += d })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  demo.exited = exited
  const deadline = Date.now() + 240000
  for (;;) {
    const m = /web UI:\s+(http:\/\/\S+\/\?token=(\S+))/.exec(demo.output)
    if (m) {
      demo.loginUrl = m[1]
      demo.token = m[2]
      demo.url = m[1].replace(/\?token=.*$/, '')
      demo.dir = path.dirname(path.dirname(/containerd:\s+(\S+)/.exec(demo.output)[1]))
      break
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the demo did not come up:\n${demo.output}`)
    await sleep(100)
  }
}, { timeout: 300000 })

after(async () => {
  if (demo?.child.exitCode === null) {
    demo.child.kill('SIGINT')
    await demo.exited
  }
  for (const p of planted) fs.rmSync(p, { recursive: true, force: true })
  fs.rmSync(canary, { recursive: true, force: true })
  fs.rmSync(mountDir, { recursive: true, force: true })
})

/** A request with exactly these headers (fetch cannot send a foreign Host): { status, headers, body }. */
function request(url, { method = 'GET', headers = {}, body } = {}) {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent: false, setHost: false,
      headers: { host: u.host, ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(JSON.stringify(body)) }), ...headers } })
    req.on('response', (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { text += d })
      res.on('end', () => {
        let parsed
        try { parsed = JSON.parse(text) } catch { parsed = text }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed })
      })
    })
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

/** The pids of `root` and everything below it. */
function processTree(root) {
  const children = new Map()
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (!children.has(ppid)) children.set(ppid, [])
      children.get(ppid).push(Number(entry))
    } catch {}
  }
  const tree = []
  for (const queue = [root]; queue.length > 0;) {
    const pid = queue.shift()
    tree.push(pid)
    queue.push(...(children.get(pid) ?? []))
  }
  return tree
}

/** The TCP ports `pid` listens on: its socket inodes (/proc/PID/fd) matched with /proc/net/tcp{,6}. */
function listeningPorts(pid) {
  const listening = new Map() // inode → port
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      if (f[3] === '0A') listening.set(f[9], parseInt(f[1].split(':').pop(), 16))
    }
  }
  const ports = []
  let fds
  try { fds = fs.readdirSync(`/proc/${pid}/fd`) } catch { return ports }
  for (const fd of fds) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]
      if (inode && listening.has(inode)) ports.push(listening.get(inode))
    } catch {}
  }
  return ports
}

/** True when `address` answers containerd's Version RPC. */
async function speaksContainerd(address) {
  let client
  try {
    client = await Client.connect({ address, timeoutMs: 3000 })
    await client.version()
    return true
  } catch {
    return false
  } finally {
    await client?.close()
  }
}

test('the demo prints a /?token= address: it logs in; without the token a 401, with a foreign Host a 403', async () => {
  assert.match(demo.token, /^[A-Za-z0-9_-]{40,}$/)
  assert.equal((await request(new URL('api/info', demo.url))).status, 401)
  assert.equal((await request(new URL('api/namespaces/default/events', demo.url))).status, 401)
  assert.equal((await request(new URL('api/info', demo.url), { headers: { authorization: 'Bearer nope' } })).status, 401)
  const port = new URL(demo.url).port
  assert.equal((await request(new URL('api/info', demo.url), { headers: { host: `rebound.example:${port}`, authorization: `Bearer ${demo.token}` } })).status, 403)

  const login = await request(demo.loginUrl)
  assert.equal(login.status, 303)
  assert.equal(login.headers.location, '/')
  demo.cookie = login.headers['set-cookie'][0].split(';')[0]
  const info = await request(new URL('api/info', demo.url), { headers: { cookie: demo.cookie } })
  assert.equal(info.status, 200, JSON.stringify(info.body))
  assert.deepEqual(info.body.allowMounts, [fs.realpathSync(mountDir)])
  assert.equal(info.body.allowHost, false)
})

test('while the demo runs, no TCP port it opened speaks containerd\'s API', async () => {
  // The probe itself works: the test stack's forwarder (tests only) does speak it.
  assert.equal(await speaksContainerd(sb.tcpAddress), true)

  const pids = processTree(demo.child.pid)
  const commands = pids.map((pid) => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') } catch { return [] } })
  assert.ok(commands.some((c) => c[0].endsWith('containerd')), 'the demo runs its own containerd')
  assert.ok(!commands.some((c) => c.some((a) => a.endsWith('/proxy.js'))), 'the demo runs no forwarder')
  const ports = [...new Set(pids.flatMap(listeningPorts))]
  assert.ok(ports.includes(Number(new URL(demo.url).port)), `the web UI's port is among ${ports}`)
  assert.ok(ports.length >= 3, `the registries listen too: ${ports}`)
  for (const port of ports) {
    assert.equal(await speaksContainerd(`tcp://127.0.0.1:${port}`), false, `port ${port} speaks containerd's API`)
  }
})

test('the demo works with the token and allowed options; planted old paths receive nothing', async (t) => {
  const call = (method, route, body) => request(new URL(`api${route}`, demo.url), { method, body, headers: { cookie: demo.cookie } })
  const info = await call('GET', '/info')
  const busybox = info.body.images.find((ref) => ref.endsWith('/busybox:latest'))
  assert.ok(busybox, JSON.stringify(info.body.images))
  assert.equal((await call('POST', '/namespaces/default/images', { ref: busybox })).status, 201)

  const id = uniqueName('demo')
  const c = `/namespaces/default/containers/${id}`
  assert.equal((await call('POST', '/namespaces/default/containers', { id, image: busybox, mounts: [{ source: '/', destination: '/host' }] })).status, 403)
  assert.equal((await call('POST', '/namespaces/default/containers', { id, image: busybox, privileged: true })).status, 403)
  assert.equal((await call('POST', '/namespaces/default/containers', { id, image: busybox, hostNetwork: true })).status, 403)
  const created = await call('POST', '/namespaces/default/containers', {
    id, image: busybox, args: ['sh', '-c', 'cat /allowed/note.txt; echo logged by the demo; sleep 300'],
    mounts: [{ source: mountDir, destination: '/allowed', options: ['ro'] }],
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  assert.equal((await call('POST', `${c}/task/start`)).status, 201)

  // The log stream (with the cookie, as EventSource sends it) shows the output.
  const controller = new AbortController()
  const res = await fetch(new URL(`api${c}/logs`, demo.url), { headers: { cookie: demo.cookie }, signal: controller.signal })
  assert.equal(res.status, 200)
  let text = ''
  const decoder = new TextDecoder()
  for await (const chunk of res.body) {
    text += decoder.decode(chunk, { stream: true })
    if (text.includes('logged by the demo')) break
  }
  controller.abort()
  assert.match(text, /allowed/)

  assert.equal((await call('POST', `${c}/task/kill`, { signal: 'SIGKILL' })).status, 204)
  for (let i = 0; ; i++) {
    const listed = (await call('GET', '/namespaces/default/containers')).body.find((x) => x.id === id)
    if (listed.task?.status === 'stopped') break
    assert.ok(i < 300, JSON.stringify(listed))
    await sleep(50)
  }
  assert.equal((await call('DELETE', c)).status, 204)

  // The demo's state is in a private directory under the sandbox base, not in /tmp.
  assert.equal(path.dirname(demo.dir), BASE)
  const st = fs.lstatSync(demo.dir)
  assert.ok(st.isDirectory() && st.uid === 0 && (st.mode & 0o077) === 0, `${demo.dir}: mode ${(st.mode & 0o777).toString(8)}`)

  // What was planted got nothing: the symlink's target is empty, the planted directory holds only
  // its own symlink, and both are as they were.
  if (planted.length < 2) t.diagnostic(`not planted (they existed before the test): ${[OLD_BASE, OLD_LOGS].filter((p) => !planted.includes(p))}`)
  assert.deepEqual(fs.readdirSync(canary), [])
  if (planted.includes(OLD_BASE)) assert.equal(fs.readlinkSync(OLD_BASE), canary)
  if (planted.includes(OLD_LOGS)) assert.deepEqual(fs.readdirSync(OLD_LOGS), ['default'])
})

test('Ctrl-C: the demo stops and removes its private directory', async () => {
  demo.child.kill('SIGINT')
  await demo.exited
  assert.equal(fs.existsSync(demo.dir), false)
  assert.deepEqual(fs.readdirSync(canary), [])
})
