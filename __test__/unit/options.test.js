'use strict'
// Unit tier (no root, no daemon): the JS layer's argument shaping, which throws typed errors
// synchronously-before-any-call for wrong shapes and leaves value rules to the core.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const check = require('../../lib/check.js')
const { containerOptions } = require('../../lib/container.js')
const { InvalidArgumentError } = require('../../lib/errors.js')

const invalid = (fn, pattern) => assert.throws(fn, (err) => err instanceof InvalidArgumentError && pattern.test(err.message))

test('check: shapes and their messages', () => {
  assert.deepEqual(check.optionalObject(undefined, 'o'), {})
  invalid(() => check.optionalObject([], 'options'), /options must be an object, got an array/)
  invalid(() => check.string(1, 'id'), /id must be a string, got number/)
  invalid(() => check.optionalBoolean('yes', 'tty'), /tty must be a boolean/)
  invalid(() => check.optionalStrings(['a', 2], 'filters'), /filters\[1\] must be a string/)
  invalid(() => check.stringRecord({ a: 1 }, 'labels'), /labels\["a"\] must be a string/)
  assert.ok(Buffer.isBuffer(check.optionalPem('-----BEGIN', 'ca')))
  invalid(() => check.optionalPem(42, 'ca'), /PEM/)
})

test('containerOptions: env records become lists, ports keep both forms, images may be objects', () => {
  const o = containerOptions({
    image: { name: 'docker.io/library/busybox:latest' },
    env: { A: '1', B: 'two' },
    network: 'bridge',
    ports: ['127.0.0.1:8080:80', { hostPort: 5353, containerPort: 53, protocol: 'udp' }],
    dns: ['10.0.0.1'],
    extraHosts: { db: '10.0.0.2' },
    capabilities: { add: ['NET_ADMIN'] },
  })
  assert.equal(o.image, 'docker.io/library/busybox:latest')
  assert.deepEqual(o.env, ['A=1', 'B=two'])
  assert.deepEqual(o.ports, ['127.0.0.1:8080:80', { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIp: undefined }])
  assert.deepEqual([o.network, o.dns, o.extraHosts, o.capAdd], ['bridge', ['10.0.0.1'], { db: '10.0.0.2' }, ['NET_ADMIN']])
})

test('containerOptions: wrong shapes are InvalidArgumentError', () => {
  invalid(() => containerOptions({}), /options.image must be a string/)
  invalid(() => containerOptions({ image: 'x', ports: '8080:80' }), /options.ports must be an array/)
  invalid(() => containerOptions({ image: 'x', ports: [{ hostPort: '80', containerPort: 80 }] }), /options.ports\[0\].hostPort must be a number/)
  invalid(() => containerOptions({ image: 'x', network: 1 }), /options.network must be a string/)
  invalid(() => containerOptions({ image: 'x', extraHosts: { db: 1 } }), /options.extraHosts\["db"\]/)
  invalid(() => containerOptions({ image: 'x', mounts: {} }), /options.mounts must be an array/)
})

test('containerOptions: log is true or { maxSizeBytes, maxFiles } with the shipped logger; values are the core\'s', () => {
  const { loggerSource } = require('../../lib/logs.js')
  assert.equal(containerOptions({ image: 'x' }).log, undefined)
  assert.equal(containerOptions({ image: 'x', log: false }).log, undefined)
  assert.deepEqual(containerOptions({ image: 'x', log: true }).log, { logger: loggerSource() })
  assert.match(loggerSource(), /containerd-napi-logger$/)
  assert.deepEqual(containerOptions({ image: 'x', log: { maxSizeBytes: -1 } }).log, { maxSizeBytes: -1, maxFiles: undefined, logger: loggerSource() })
  invalid(() => containerOptions({ image: 'x', log: 'yes' }), /options\.log must be an object/)
  invalid(() => containerOptions({ image: 'x', log: { maxFiles: '2' } }), /options\.log\.maxFiles must be a number/)
})

test('containerOptions: hardening options (seccomp name or profile, ulimits, specPatch as JSON)', () => {
  const profile = { defaultAction: 'SCMP_ACT_ALLOW' }
  const o = containerOptions({
    image: 'x', seccomp: profile, noNewPrivileges: false, pidsLimit: 5,
    ulimits: [{ name: 'nofile', soft: 10 }, { name: 'core', soft: 0, hard: -1 }],
    sysctls: { 'net.ipv4.ip_forward': '1' }, specPatch: { hostname: 'h' },
  })
  assert.equal(o.seccompProfile, JSON.stringify(profile))
  assert.equal(o.seccomp, undefined)
  assert.deepEqual([o.noNewPrivileges, o.pidsLimit, o.sysctls], [false, 5, { 'net.ipv4.ip_forward': '1' }])
  assert.deepEqual(o.ulimits, [{ name: 'nofile', soft: 10, hard: 10 }, { name: 'core', soft: 0, hard: -1 }])
  assert.equal(o.specPatch, '{"hostname":"h"}')
  assert.equal(containerOptions({ image: 'x', seccomp: 'unconfined' }).seccomp, 'unconfined')
  assert.equal(containerOptions({ image: 'x' }).seccomp, undefined, "the core's default applies")
  invalid(() => containerOptions({ image: 'x', seccomp: 3 }), /options.seccomp must be an object/)
  invalid(() => containerOptions({ image: 'x', ulimits: {} }), /options.ulimits must be an array/)
  invalid(() => containerOptions({ image: 'x', ulimits: [{ name: 'nofile' }] }), /soft must be a number/)
  invalid(() => containerOptions({ image: 'x', specPatch: [] }), /options.specPatch must be an object/)
  invalid(() => containerOptions({ image: 'x', pidsLimit: '5' }), /options.pidsLimit must be a number/)
})
