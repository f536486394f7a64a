'use strict'
// The error classes as a user constructs and checks them (no daemon needed).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const api = require('..')

const CODES = {
  CancelledError: ['CANCELLED', 1], UnknownError: ['UNKNOWN', 2], InvalidArgumentError: ['INVALID_ARGUMENT', 3],
  DeadlineExceededError: ['DEADLINE_EXCEEDED', 4], NotFoundError: ['NOT_FOUND', 5], AlreadyExistsError: ['ALREADY_EXISTS', 6],
  PermissionDeniedError: ['PERMISSION_DENIED', 7], ResourceExhaustedError: ['RESOURCE_EXHAUSTED', 8],
  FailedPreconditionError: ['FAILED_PRECONDITION', 9], AbortedError: ['ABORTED', 10], OutOfRangeError: ['OUT_OF_RANGE', 11],
  UnimplementedError: ['UNIMPLEMENTED', 12], InternalError: ['INTERNAL', 13], UnavailableError: ['UNAVAILABLE', 14],
  DataLossError: ['DATA_LOSS', 15], UnauthenticatedError: ['UNAUTHENTICATED', 16],
}

test('one exported subclass per code, with its name, code and gRPC number', () => {
  for (const [name, [code, grpc]] of Object.entries(CODES)) {
    const cls = api[name]
    assert.equal(typeof cls, 'function', name)
    const err = new cls('boom', { details: 'daemon said so' })
    assert.ok(err instanceof api.ContainerdError && err instanceof Error)
    assert.equal(err.name, name)
    assert.equal(err.code, code)
    assert.equal(err.grpcCode, grpc)
    assert.equal(err.details, 'daemon said so')
    assert.equal(err.message, 'boom')
    assert.match(err.stack, new RegExp(name))
  }
  const plain = new api.ContainerdError('x')
  assert.equal(plain.code, 'UNKNOWN')
  assert.equal(plain.details, undefined)
})
