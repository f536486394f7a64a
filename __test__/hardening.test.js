'use strict'
// Safe by default (issue 15): seccomp (moby's default profile, 'unconfined', a profile object,
// privileged), noNewPrivileges, pidsLimit, ulimits, sysctls and specPatch, seen from inside the
// container on the real daemon and runc.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const crypto = require('node:crypto')
const { Client, InvalidArgumentError, ResourceExhaustedError } = require('..')
const { sandbox, uniqueName, rejectsWith } = require('./helpers.js')

const sb = sandbox()
const ctr = (ns, ...args) => execFileSync('ctr', ['-a', sb.address, '-n', ns, ...args], { encoding: 'utf8' })
const rows = (text) => text.split('\n').filter(Boolean).slice(1)

async function client() {
  const c = await Client.connect({ address: sb.address, namespace: uniqueName('hard') })
  await c.pull(sb.images.busybox)
  return c
}

const sh = (script) => ['/bin/sh', '-c', script]

/** Capabilities privileged asks for that this process's bounding set lacks (by bit number). */
async function missingCaps() {
  const names = ['CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
    'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE',
    'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME',
    'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG',
    'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE']
  const bnd = BigInt('0x' + require('node:fs').readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s+(\w+)/m)[1])
  return names.filter((_, bit) => !(bnd & (1n << BigInt(bit))))
}
/** "Seccomp: 2" and "NoNewPrivs: 1" from /proc/self/status, as { Seccomp: '2', NoNewPrivs: '1' }. */
async function status(c, options = {}) {
  const r = await c.run(sb.images.busybox, sh('grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'), options)
  assert.equal(r.exitCode, 0, r.stderr)
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/)))
}

test('by default: seccomp filter on, NoNewPrivs on, unshare -U refused; CAP_SYS_ADMIN unlocks it', async () => {
  const c = await client()
  assert.deepEqual(await status(c), { NoNewPrivs: '1', Seccomp: '2' })
  const r = await c.run(sb.images.busybox, ['unshare', '-U', 'true'])
  assert.notEqual(r.exitCode, 0)
  assert.match(r.stderr, /not permitted/i)
  // 'default' names the same profile; with CAP_SYS_ADMIN the profile allows unshare.
  assert.deepEqual(await status(c, { seccomp: 'default' }), { NoNewPrivs: '1', Seccomp: '2' })
  const admin = await c.run(sb.images.busybox, ['unshare', '-U', 'true'], { capabilities: { add: ['SYS_ADMIN'] } })
  assert.equal(admin.exitCode, 0, admin.stderr)
  await c.close()
})

test("'unconfined' and privileged have no filter; noNewPrivileges: false shows as 0", async () => {
  const c = await client()
  assert.equal((await status(c, { seccomp: 'unconfined' })).Seccomp, '0')
  // privileged asks for every capability; this sandbox's own bounding set may lack some (runc then
  // fails with "unable to apply caps"), so those not held here are dropped.
  const privileged = { privileged: true, capabilities: { drop: await missingCaps() } }
  assert.equal((await status(c, privileged)).Seccomp, '0')
  assert.equal((await status(c, { ...privileged, seccomp: 'default' })).Seccomp, '0', 'privileged wins')
  assert.deepEqual(await status(c, { noNewPrivileges: false }), { NoNewPrivs: '0', Seccomp: '2' })
  const id = uniqueName('spec')
  const container = await c.createContainer(id, { image: sb.images.busybox, seccomp: 'unconfined' })
  const spec = await container.spec()
  assert.equal(spec.linux.seccomp, undefined)
  assert.equal(spec.process.noNewPrivileges, true)
  await container.delete()
  await c.close()
})

test('a profile object is applied as given', async () => {
  const c = await client()
  const profile = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, comment: 'no new directories' }],
  }
  const r = await c.run(sb.images.busybox, sh('mkdir /tmp/x; echo "rc=$?"; grep ^Seccomp: /proc/self/status'), { seccomp: profile })
  assert.match(r.stdout, /rc=1\nSeccomp:\s+2\n/)
  assert.match(r.stderr, /Permission denied/, 'errnoRet 13 = EACCES')
  const container = await c.createContainer(uniqueName('prof'), { image: sb.images.busybox, seccomp: profile })
  assert.deepEqual((await container.spec()).linux.seccomp, {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
  })
  await container.delete()
  await rejectsWith(c.run(sb.images.busybox, ['true'], { seccomp: { defaultAction: 'SCMP_ACT_MAYBE' } }), InvalidArgumentError, /SCMP_ACT_MAYBE/)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { seccomp: 'strict' }), InvalidArgumentError, /'default', 'unconfined'/)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { seccomp: [] }), InvalidArgumentError, /options.seccomp/)
  await c.close()
})

test('pidsLimit stops a fork loop at the limit', async () => {
  const c = await client()
  // The loop runs in a child shell (ash exits when a fork fails); counted with a glob, as at the
  // limit nothing more can be forked.
  const script = "sh -c 'for i in $(seq 40); do sleep 3 </dev/null >/dev/null 2>&1 & done' 2>/dev/null; set -- /proc/[0-9]*; echo $#"

  const r = await c.run(sb.images.busybox, sh(script), { pidsLimit: 10 })
  const count = Number(r.stdout.trim())
  assert.ok(count > 1 && count <= 10, `processes inside: ${r.stdout} ${r.stderr}`)
  const free = await c.run(sb.images.busybox, sh(script))
  assert.ok(Number(free.stdout.trim()) > 40, free.stdout)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { pidsLimit: 0 }), InvalidArgumentError, /pidsLimit 0/)
  await c.close()
})

test('ulimits and sysctls are visible inside', async () => {
  const c = await client()
  const r = await c.run(sb.images.busybox, sh('cat /proc/self/limits; cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmni'), {
    ulimits: [{ name: 'nofile', soft: 100, hard: 200 }, { name: 'core', soft: 0, hard: -1 }, { name: 'RLIMIT_NPROC', soft: 77 }],
    sysctls: { 'net.ipv4.ip_unprivileged_port_start': '80', 'kernel.shmmni': '1234' },
  })
  assert.equal(r.exitCode, 0, r.stderr)
  assert.match(r.stdout, /Max open files\s+100\s+200\s+files/)
  assert.match(r.stdout, /Max core file size\s+0\s+unlimited\s+bytes/)
  assert.match(r.stdout, /Max processes\s+77\s+77\s+processes/)
  assert.match(r.stdout, /\n80\n1234\n$/)
  const plain = await c.run(sb.images.busybox, ['cat', '/proc/self/limits'])
  assert.match(plain.stdout, /Max open files\s+1024\s+1024\s+files/, "containerd's default stays")

  await rejectsWith(c.run(sb.images.busybox, ['true'], { hostNetwork: true, sysctls: { 'net.ipv4.ip_forward': '1' } }), InvalidArgumentError, /hostNetwork/)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { sysctls: { 'kernel.panic': '1' } }), InvalidArgumentError, /not namespaced/)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { sysctls: { 'net.ipv4.ip_forward': 1 } }), InvalidArgumentError, /must be a string/)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { ulimits: [{ name: 'files', soft: 1 }] }), InvalidArgumentError, /unknown ulimit "files"/)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { ulimits: [{ name: 'nofile', soft: 9, hard: 8 }] }), InvalidArgumentError, /above hard/)
  assert.deepEqual(await c.listContainers(), [], 'nothing made by the refused ones')
  await c.close()
})

test('specPatch is merged last and shows in spec() and inside', async () => {
  const c = await client()
  const id = uniqueName('patch')
  const container = await c.createContainer(id, {
    image: sb.images.busybox,
    args: ['cat', '/proc/self/oom_score_adj'],
    annotations: { keep: 'me' },
    specPatch: { annotations: { 'org.example/patched': 'yes' }, process: { oomScoreAdj: 123 }, linux: { maskedPaths: null } },
  })
  const spec = await container.spec()
  assert.deepEqual(spec.annotations, { keep: 'me', 'org.example/patched': 'yes' })
  assert.equal(spec.process.oomScoreAdj, 123)
  assert.equal(spec.linux.maskedPaths, undefined)
  assert.deepEqual(spec.process.args, ['cat', '/proc/self/oom_score_adj'])
  await container.delete()
  const r = await c.run(sb.images.busybox, ['cat', '/proc/self/oom_score_adj'], { specPatch: { process: { oomScoreAdj: 123 } } })
  assert.equal(r.stdout, '123\n')
  await rejectsWith(c.run(sb.images.busybox, ['true'], { specPatch: { process: { user: { uid: 'root' } } } }), InvalidArgumentError, /specPatch/)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { specPatch: 'x' }), InvalidArgumentError, /options.specPatch/)
  await c.close()
})

test('run() past maxBuffer: ResourceExhaustedError with the output up to the limit, nothing left', async () => {
  const c = await client()
  const started = Date.now()
  const err = await rejectsWith(
    c.run(sb.images.busybox, sh('head -c 104857600 /dev/zero; echo done >&2'), { maxBuffer: 1 << 20, encoding: 'buffer' }),
    ResourceExhaustedError, /maxBuffer \(1048576 bytes/,
  )
  assert.ok(Buffer.isBuffer(err.stdout) && err.stdout.length === 1 << 20, `kept ${err.stdout?.length}`)
  assert.ok(err.stdout.every((b) => b === 0))
  assert.ok(Date.now() - started < 20000)
  assert.deepEqual(await c.listContainers(), [])
  assert.deepEqual(rows(ctr(c.namespace, 'tasks', 'ls')), [])
  assert.deepEqual(rows(ctr(c.namespace, 'snapshots', 'ls')).filter((l) => l.includes('run-')), [])
  // Under the limit, all of it; a string by default.
  const r = await c.run(sb.images.busybox, sh('head -c 1048576 /dev/zero | tr "\\0" a'), { maxBuffer: 1 << 20 })
  assert.equal(r.stdout, 'a'.repeat(1 << 20))
  await rejectsWith(c.run(sb.images.busybox, ['true'], { maxBuffer: 0 }), InvalidArgumentError, /maxBuffer 0/)
  await rejectsWith(c.run(sb.images.busybox, ['true'], { maxBuffer: '1' }), InvalidArgumentError, /options.maxBuffer/)
  await c.close()
})

test("encoding: 'buffer' returns the bytes exactly", async () => {
  const c = await client()
  const bytes = Buffer.concat([Buffer.from([...Array(256).keys()]), crypto.randomBytes(200000)])
  const r = await c.run(sb.images.busybox, sh('cat; printf "\\377\\376" >&2'), { input: bytes, encoding: 'buffer' })
  assert.ok(Buffer.isBuffer(r.stdout))
  assert.ok(r.stdout.equals(bytes), 'stdout byte for byte')
  assert.deepEqual([...r.stderr], [0xff, 0xfe])
  const hex = await c.run(sb.images.busybox, ['printf', 'hi'], { encoding: 'hex' })
  assert.equal(hex.stdout, '6869')
  await rejectsWith(c.run(sb.images.busybox, ['true'], { encoding: 'bytes' }), InvalidArgumentError, /options.encoding/)
  await c.close()
})

/** Pushes a one-layer image (a gzip blob given whole, its diff ID) to the sandbox registry. */
async function pushImage(name, layer, diffId, user) {
  const zlibSha = (b) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`
  const base = `http://${sb.registry}/v2/${name}`
  const upload = async (bytes) => {
    const digest = zlibSha(bytes)
    const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST' })
    assert.equal(start.status, 202)
    const location = new URL(start.headers.get('location'), base)
    location.searchParams.set('digest', digest)
    const put = await fetch(location, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } })
    assert.equal(put.status, 201, await put.text())
    return { digest, size: bytes.length }
  }
  const config = Buffer.from(JSON.stringify({
    architecture: process.arch === 'arm64' ? 'arm64' : 'amd64', os: 'linux',
    config: { User: user, Cmd: ['true'] }, rootfs: { type: 'layers', diff_ids: [diffId] },
  }))
  const c = await upload(config)
  const l = await upload(layer)
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l }],
  })
  const put = await fetch(`${base}/manifests/latest`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })
  assert.equal(put.status, 201, await put.text())
  return `${sb.registry}/${name}:latest`
}

/** A ustar header block: `name`, type flag, a size field of `size` (octal, or base-256 when large). */
function tarHeader(name, type, size) {
  const h = Buffer.alloc(512)
  h.write(name, 0)
  h.write('0000644\0', 100); h.write('0000000\0', 108); h.write('0000000\0', 116)
  if (size < 8 ** 11) h.write(size.toString(8).padStart(11, '0') + '\0', 124)
  else { h[124] = 0x80; h.writeBigUInt64BE(BigInt(size), 124 + 4) }
  h.write('00000000000\0', 136)
  h.write(type, 156)
  h.write('ustar\0', 257); h.write('00', 263)
  h.fill(' ', 148, 156)
  let sum = 0
  for (const b of h) sum += b
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
  return h
}

test('users from hostile layers: a huge PAX header and a gzip bomb fail typed, in bounded memory and time', async () => {
  const zlib = require('node:zlib')
  const c = await client()
  const sha = (b) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`

  // A PAX extension header that claims 6 GiB (and holds nothing).
  const paxTar = tarHeader('PaxHeaders/passwd', 'x', 6 * 2 ** 30)
  const pax = await pushImage(uniqueName('pax'), zlib.gzipSync(paxTar), sha(paxTar), 'app')

  // 1.2 MiB of gzip that inflates to a 2 GiB file: one member with the header, then the same
  // member of 1 MiB of zeros again and again (gzip members concatenate).
  const MIB = 1 << 20
  const count = 2048
  const zeros = zlib.gzipSync(Buffer.alloc(MIB), { level: 9 })
  const header = tarHeader('big', '0', count * MIB)
  const layer = Buffer.concat([zlib.gzipSync(header), ...Array(count).fill(zeros)])
  const diff = crypto.createHash('sha256').update(header)
  for (let i = 0; i < count; i++) diff.update(Buffer.alloc(MIB))
  const bomb = await pushImage(uniqueName('bomb'), layer, `sha256:${diff.digest('hex')}`, 'app')
  assert.ok(layer.length < 4 * MIB, `${layer.length} bytes`)

  const snapshots = rows(ctr(c.namespace, 'snapshots', 'ls'))
  for (const [ref, pattern] of [[pax, /extension header of 6442450944 bytes/], [bomb, /more than 1073741824 bytes of tar/]]) {
    await c.pull(ref, { unpack: false })
    const before = process.memoryUsage().rss
    const started = Date.now()
    await rejectsWith(c.createContainer(uniqueName('hostile'), { image: ref }), ResourceExhaustedError, pattern)
    assert.ok(Date.now() - started < 60000, `took ${Date.now() - started} ms`)
    assert.ok(process.memoryUsage().rss - before < 256 * MIB, 'bounded memory')
  }
  // Refused before anything was made: no container, no snapshot (nothing was unpacked).
  assert.deepEqual(await c.listContainers(), [])
  assert.deepEqual(rows(ctr(c.namespace, 'snapshots', 'ls')), snapshots)
  await c.close()
})
