'use strict'
// The package as a user gets it: packed as npm publish would (scripts/pack.js: the main package and
// its platform package), installed into a fresh project, required and imported, used against the
// sandbox, and its TypeScript types checked with `tsc --strict` (module nodenext: .ts, .mts, .cts).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { sandbox } = require('./helpers.js')
const { pack } = require('../scripts/pack.js')

const root = path.join(__dirname, '..')
const tsc = path.join(root, 'node_modules/typescript/bin/tsc')

const USE_TS = `
import {
  Client, ContainerdError, NotFoundError, UnavailableError, DeadlineExceededError, Image,
  Container, Task, Process,
  type ConnectOptions, type PluginInfo, type PullProgress, type LayerStatus, type Descriptor, type ImageConfig,
  type TaskStatus, type ExitStatus, type RunResult, EventStream, type ContainerdEvent,
  type NetworkInfo, type NetworkOptions, type PortMapping, type ContainerNetwork,
} from 'containerd-napi'

async function main(address: string): Promise<string> {
  const options: ConnectOptions = { address, namespace: 'default', timeoutMs: 5000, signal: AbortSignal.timeout(10000) }
  await using client = await Client.connect(options)
  const v: { version: string; revision: string } = await client.version()
  const plugins: PluginInfo[] = await client.plugins({ signal: new AbortController().signal })
  const skipped: boolean = plugins.some((p) => p.status === 'skip')
  const view: Client = client.withNamespace('other')
  for (const ns of await view.listNamespaces()) {
    const labels: Record<string, string> = ns.labels
    void labels
  }
  await client.createNamespace('typed', { a: 'b' }).catch((e: unknown) => {
    if (e instanceof ContainerdError) {
      const code: ContainerdError['code'] = e.code
      const n: number = e.grpcCode
      void code; void n
    }
    if (e instanceof NotFoundError || e instanceof UnavailableError) throw e
  })
  const image: Image = await client.pull('127.0.0.1:5000/busybox:latest', {
    platform: 'linux/amd64', unpack: true, maxConcurrentDownloads: 2, labels: { a: 'b' },
    auth: { username: 'u', password: 'p' }, tls: { ca: Buffer.from('') },
    onProgress: (p: PullProgress) => { const s: LayerStatus = p.layers[0].status; void s; void p.phase },
  })
  const d: Descriptor = image.target
  const cfg: ImageConfig = await image.config({ platform: 'linux/arm64' })
  const n: number = await image.size()
  const unpacked: boolean = await image.isUnpacked('overlayfs')
  await image.unpack()
  const all: Image[] = await client.listImages(['name~="busybox"'])
  await client.deleteImage(image.name, { sync: true })
  await client.pull('x', { auth: { token: 't' } })
  void d; void cfg; void n; void unpacked; void all
  const container: Container = await client.createContainer('web', {
    image, args: ['httpd'], env: { A: 'b' }, user: 'app:app', hostNetwork: true, tty: false,
    mounts: [{ source: '/srv', destination: '/srv', options: ['ro'] }, { type: 'tmpfs', source: 'tmpfs', destination: '/tmp' }],
    memoryLimitBytes: 1 << 26, cpus: 0.5, capabilities: { add: ['NET_ADMIN'] }, labels: { a: 'b' },
  })
  const netOptions: NetworkOptions = { subnet: '10.90.9.0/24', gateway: '10.90.9.1', ipMasq: false, labels: { a: 'b' } }
  const network: NetworkInfo = await client.createNetwork('backend', netOptions)
  const networks: NetworkInfo[] = await client.listNetworks()
  const port: PortMapping = { hostPort: 8080, containerPort: 80, protocol: 'udp', hostIp: '127.0.0.1' }
  const web: Container = await client.createContainer('web2', {
    image, network: 'bridge', ports: ['127.0.0.1:8081:80', port], dns: ['10.90.9.53'], extraHosts: { db: '10.90.9.40' },
  })
  const attached: ContainerNetwork | null = await web.network()
  const ip: string | undefined = attached?.ip
  const removed: number = (await client.cleanupNetworks()).removed
  await client.deleteNetwork((await client.getNetwork(network.name)).name)
  void networks; void ip; void removed
  const spec: Record<string, any> = await container.spec()
  const relabelled: Container = await container.setLabels({ a: null, b: 'c' })
  const task: Task = await container.newTask({ stdio: 'ignore', logFile: '/var/log/web.log' })
  await task.start()
  const st: TaskStatus = (await task.status()).status
  const exit: ExitStatus = await task.wait({ signal: AbortSignal.timeout(1000) })
  await task.kill('SIGTERM', { all: true })
  await task.kill(9)
  const m: number | undefined = (await task.metrics()).memoryBytes
  const pids: number[] = await task.pids()
  const asProcess: Process = task
  await asProcess.delete()
  await container[Symbol.asyncDispose]()
  const tasks = await client.listTasks()
  const when: Date | undefined = tasks[0]?.exitedAt
  void spec; void relabelled; void st; void exit; void m; void pids; void when
  const piped: Task = await container.newTask({ stdin: true })
  piped.stdout?.on('data', (b: Buffer) => b.length)
  piped.stdin?.end('input')
  const p: Process = await piped.exec('e1', { args: ['sh'], env: { A: 'b' }, tty: true, stdin: true })
  await p.start(); await p.resize(80, 24); await p.closeStdin()
  const r: RunResult = await client.run('busybox', ['echo', 'hi'], { input: 'x', timeoutMs: 1000, pull: { platform: 'linux/amd64' } })
  const code: number = r.exitCode
  try { await client.run(image, ['sleep', '9'], { timeoutMs: 1 }) } catch (e) {
    if (e instanceof DeadlineExceededError) { const partial: string | undefined = e.stdout; void partial }
  }
  void code
  const events: EventStream = client.subscribe({ filters: ['topic=="/tasks/exit"'], allNamespaces: true, signal: AbortSignal.timeout(1000) })
  await events.ready
  for await (const e of events) {
    const ev: ContainerdEvent = e
    const when: Date = ev.timestamp
    const exitStatus: unknown = ev.event?.exitStatus
    void when; void exitStatus
    break
  }
  events.close()
  return v.version + String(skipped) + image.createdAt.toISOString()
}
void main
`
// Misuses that the types must reject.
const MISUSE_TS = `
import { Client } from 'containerd-napi'
async function wrong(client: Client) {
  await client.version(5)
  await Client.connect({ adress: '/x' })
  const n: number = (await client.version()).version
  new Client()
  await client.pull('x', { auth: { username: 'u' } })
  await client.pull('x', { onProgress: (p: { phase: 'nope' }) => p })
  await client.createContainer('x', { args: ['sh'] })
  await (await client.getContainer('x')).newTask({ stdio: 'all' })
  await client.run('x', 'echo hi')
  client.subscribe({ filters: 'topic' })
  await client.createContainer('x', { image: 'i', ports: [8080] })
  ;(await (await client.getContainer('x')).newTask({ stdio: 'pipe' })).stdin.write('no stdin asked for')
  ;(await (await client.getContainer('x')).newTask({ stdio: 'ignore' })).stdout.read()
  ;(await (await client.getContainer('x')).newTask()).stdout.read()
  ;(await (await (await client.getContainer('x')).task()).exec('e', { args: ['sh'], tty: true })).stderr.read()
  ;(await (await (await client.getContainer('x')).task()).exec('e', { args: ['sh'], stdio: 'inherit', stdin: true })).stdin.end()
  await (await client.getContainer('x')).newTask({ stdn: true })
  for await (const e of client.subscribe({ filters: ['topic=="/tasks/exit"'] })) { const s: string = e.event.exitStatus; void s }
  for await (const e of client.subscribe({ filters: ['topic=="/tasks/exit"', 'topic=="/tasks/start"'] })) { void e.event.exitedAt }
  for await (const e of client.subscribe({ filters: ['topic=="/containers/create"'] })) { if (e.type === 'containerd.events.TaskExit') void e }
}
void wrong
`

// The names every face must offer: index.js's own keys (the unit tier holds index.mjs to them).
const NAMES = Object.keys(require('..'))

// An ES module user file: every class and error as a named import, typed.
const USE_MTS = `
import { ${NAMES.join(', ')} } from 'containerd-napi'
import type { ConnectOptions } from 'containerd-napi'
const classes: Function[] = [${NAMES.filter((n) => n !== 'httpStatus').join(', ')}]
const status: number = httpStatus(new NotFoundError('x'))
export async function main(options: ConnectOptions): Promise<string> {
  await using client: Client = await Client.connect(options)
  try { await client.getContainer('x') } catch (e) { if (e instanceof NotFoundError) return e.code }
  return (await client.version()).version + classes.length + status
}
`
// Stdio typed by the options, typed events, `await using` on processes and event streams.
const TYPED_TS = `
import { Client, type Container, type Task, type KnownEvent } from 'containerd-napi'
import type { Readable, Writable } from 'node:stream'
export async function typed(client: Client, container: Container): Promise<void> {
  const piped = await container.newTask({ stdio: 'pipe', stdin: true })
  const w: Writable = piped.stdin
  const r: Readable = piped.stdout
  const e: Readable | null = piped.stderr
  const auto = await container.newTask({ stdin: true })
  const maybe: Writable | null = auto.stdin
  const none = await container.newTask({ stdio: 'ignore' })
  const n: null = none.stdout
  const logged: null = (await container.newTask({ logFile: '/var/log/x' })).stdin
  const general: Task = none
  const p = await piped.exec('e', { args: ['sh'], stdin: true })
  const pe: Readable = p.stderr
  const pin: Writable = p.stdin
  const tty = await piped.exec('t', { args: ['sh'], tty: true })
  const te: null = tty.stderr
  const to: Readable = tty.stdout
  await using disposable = await piped.exec('d', { args: ['true'], stdio: 'ignore' })
  void w; void r; void e; void maybe; void n; void logged; void general; void pe; void pin; void te; void to; void disposable
  await using exits = client.subscribe({ filters: ['topic=="/tasks/exit"', 'topic=="/tasks/oom"'] })
  for await (const ev of exits) {
    if (ev.topic === '/tasks/exit') { const code: number = ev.event.exitStatus; const at: Date = ev.event.exitedAt; void code; void at }
    else { const t: 'containerd.events.TaskOOM' = ev.type; const id: string = ev.event.containerId; void t; void id }
  }
  for await (const ev of client.subscribe()) { const payload: Record<string, any> | null = ev.event; void payload }
  for await (const ev of client.subscribe({ filters: ['topic~="/tasks/"'] })) { const t: string = ev.topic; void t }
  const known: KnownEvent['topic'] = '/images/delete'
  void known
}
`
// A CommonJS user file: the same through require, in both TypeScript spellings.
const USE_CTS = `
import containerd = require('containerd-napi')
import { Client, ContainerdError } from 'containerd-napi'
export async function main(address: string): Promise<string> {
  const client: containerd.Client = await Client.connect({ address })
  try { await client.getImage('x') } catch (e) { if (e instanceof ContainerdError && e instanceof containerd.NotFoundError) return e.code }
  await client.close()
  return typeof containerd.EventStream
}
`

function tsconfig(files) {
  return JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, target: 'es2022', lib: ['es2022', 'esnext.disposable'],
      module: 'nodenext', moduleResolution: 'nodenext', types: ['node'],
      typeRoots: [path.join(root, 'node_modules/@types')], skipLibCheck: false,
    },
    files,
  })
}

const run = (args, cwd) => spawnSync(process.execPath, args, { cwd, encoding: 'utf8' })

test('npm pack installs into a fresh project, loads, works and type-checks', { timeout: 240000 }, () => {
  const sb = sandbox()
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-napi-pack-'))
  try {
    // The two packages npm publish would publish: the main one names the platform one as an
    // optional dependency and carries no binary of its own.
    const tarballs = pack(work)
    const project = path.join(work, 'project')
    fs.mkdirSync(project)
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', tarballs.main, tarballs.platform], { cwd: project, stdio: 'pipe' })
    const installed = path.join(project, 'node_modules', 'containerd-napi')
    assert.deepEqual(fs.readdirSync(installed).filter((f) => f.endsWith('.node') || f.includes('logger')), [])
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'))
    assert.deepEqual(manifest.optionalDependencies, { 'containerd-napi-linux-x64-gnu': manifest.version })
    const platformDir = path.join(project, 'node_modules', 'containerd-napi-linux-x64-gnu')
    assert.ok(fs.statSync(path.join(platformDir, 'containerd-napi-logger')).mode & 0o100, 'the logger binary, executable')

    // CommonJS: every name, the addon from the platform package, and the internals refused.
    const cjs = `const m = require('containerd-napi')
      const addon = Object.keys(require.cache).find((f) => f.endsWith('.node'))
      let internals
      try { require('containerd-napi/lib/errors.js') } catch (err) { internals = err.code }
      m.Client.connect({ address: process.argv[1] }).then(async (c) => {
        console.log(JSON.stringify({ v: (await c.version()).version, names: Object.keys(m), types: Object.values(m).map((v) => typeof v), addon, internals }))
        await c.close() })`
    const out = JSON.parse(execFileSync(process.execPath, ['-e', cjs, sb.address], { cwd: project, encoding: 'utf8' }))
    assert.match(out.v, /^\d+\.\d+/)
    assert.deepEqual(out.names, NAMES)
    assert.ok(out.types.every((t) => t === 'function'))
    assert.ok(out.addon.startsWith(platformDir + path.sep), out.addon)
    assert.equal(out.internals, 'ERR_PACKAGE_PATH_NOT_EXPORTED')

    // ES module: every name as a named import, the same objects as require's.
    fs.writeFileSync(path.join(project, 'esm.mjs'), `import { ${NAMES.join(', ')} } from 'containerd-napi'
      import { createRequire } from 'node:module'
      const cjs = createRequire(import.meta.url)('containerd-napi')
      const same = [${NAMES.join(', ')}].every((v, i) => v === cjs[${JSON.stringify(NAMES)}[i]])
      const client = await Client.connect({ address: process.argv[2] })
      await client.getContainer('nope').catch((e) => console.log(JSON.stringify({ same, notFound: e instanceof NotFoundError })))
      await client.close()`)
    assert.deepEqual(JSON.parse(execFileSync(process.execPath, ['esm.mjs', sb.address], { cwd: project, encoding: 'utf8' })), { same: true, notFound: true })

    fs.writeFileSync(path.join(project, 'use.ts'), USE_TS)
    fs.writeFileSync(path.join(project, 'use.mts'), USE_MTS)
    fs.writeFileSync(path.join(project, 'use.cts'), USE_CTS)
    fs.writeFileSync(path.join(project, 'typed.ts'), TYPED_TS)
    fs.writeFileSync(path.join(project, 'tsconfig.json'), tsconfig(['use.ts', 'use.mts', 'use.cts', 'typed.ts']))
    const typecheck = run([tsc, '-p', project], project)
    assert.equal(typecheck.status, 0, typecheck.stdout + typecheck.stderr)

    fs.writeFileSync(path.join(project, 'misuse.ts'), MISUSE_TS)
    fs.writeFileSync(path.join(project, 'tsconfig.json'), tsconfig(['misuse.ts']))
    const misuse = run([tsc, '-p', project], project)
    assert.notEqual(misuse.status, 0)
    const output = misuse.stdout
    const lines = MISUSE_TS.trim().split('\n').length
    for (let line = 4; line < lines; line++) assert.ok(output.includes(`misuse.ts(${line},`), `line ${line} must fail: ${MISUSE_TS.trim().split('\n')[line - 1]}\n${output}`)
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
})
