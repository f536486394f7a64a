'use strict'
// Unit tier (no root, no daemon): the error classes and the one function that types native errors.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const errors = require('../../lib/errors.js')
const pkg = require('../..')

test('one class per code, exported from the package, with the gRPC code number', () => {
  for (const [code, grpc] of Object.entries(errors.CODES)) {
    const name = code.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c) => c.toUpperCase()) + 'Error'
    const cls = pkg[name]
    assert.equal(typeof cls, 'function', `${name} is exported`)
    const err = new cls('boom', { details: 'daemon text' })
    assert.ok(err instanceof pkg.ContainerdError && err instanceof Error)
    assert.deepEqual([err.name, err.code, err.grpcCode, err.details, err.message], [name, code, grpc, 'daemon text', 'boom'])
  }
})

test('index.d.ts lists exactly the codes the runtime knows', () => {
  const dts = fs.readFileSync(path.join(__dirname, '../../index.d.ts'), 'utf8')
  const union = dts.match(/export type ErrorCode =((?:\s*\|?\s*'[A-Z_]+')+)/)
  assert.ok(union, 'an ErrorCode union in index.d.ts')
  const listed = [...union[1].matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]).sort()
  assert.deepEqual(listed, Object.keys(errors.CODES).sort())
  for (const name of Object.keys(errors).filter((k) => /^[A-Z].*Error$/.test(k))) {
    assert.match(dts, new RegExp(`export declare class ${name} `), `${name} is declared`)
  }
})

test('fromNative: the JSON payload becomes its class; napi argument errors are InvalidArgumentError', () => {
  const native = new Error(JSON.stringify({ containerd: 'NOT_FOUND', message: 'get image "x": not found', details: 'image "x": not found' }))
  const typed = errors.fromNative(native)
  assert.ok(typed instanceof errors.NotFoundError)
  assert.deepEqual([typed.message, typed.details, typed.grpcCode], ['get image "x": not found', 'image "x": not found', 5])
  const arg = Object.assign(new Error('Failed to convert JavaScript value'), { code: 'StringExpected' })
  assert.ok(errors.fromNative(arg) instanceof errors.InvalidArgumentError)
  const other = errors.fromNative(new Error('something else'))
  assert.ok(other instanceof errors.UnknownError)
  assert.equal(errors.fromNative(typed), typed)
  const abort = errors.abortError('pull', { reason: 'stop' })
  assert.ok(abort instanceof errors.CancelledError)
  assert.equal(abort.name, 'AbortError')
})
