'use strict'
// The error classes of the README (Errors), and the one function that turns whatever the native binding
// threw into one of them.

// The core's one list of codes (crates/core/src/error.rs, Code::ALL): name -> gRPC number.
const CODES = Object.fromEntries(require('./addon.js').errorCodes().map((c) => [c.name, c.grpc]))

class ContainerdError extends Error {
  /**
   * @param {string} message
   * @param {{ code?: string, details?: string, cause?: unknown }} [options]
   */
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    const code = options.code ?? new.target.code ?? 'UNKNOWN'
    this.name = new.target.name
    this.code = code
    this.grpcCode = CODES[code] ?? CODES.UNKNOWN
    if (options.details != null) this.details = options.details
  }
}

const classes = { ContainerdError }
const byCode = {}
for (const code of Object.keys(CODES)) {
  const name = code.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c) => c.toUpperCase()) + 'Error'
  // A named class per code, so stack traces and `instanceof` read naturally.
  const cls = { [name]: class extends ContainerdError {} }[name]
  cls.code = code
  classes[name] = cls
  byCode[code] = cls
}

const MARKER = '{"containerd":'
// napi-rs's own argument-conversion failures: the caller passed a value of the wrong type.
const NAPI_ARGUMENT_CODES = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected',
  'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected',
  'ArrayBufferExpected', 'DetachableArraybufferExpected',
])

/** Any error from the native layer (or already ours) as a ContainerdError subclass. */
function fromNative(err) {
  if (err instanceof ContainerdError) return err
  const message = err?.message
  if (typeof message === 'string' && message.startsWith(MARKER)) {
    const payload = JSON.parse(message)
    const cls = byCode[payload.containerd] ?? classes.UnknownError
    return new cls(payload.message, { code: payload.containerd, details: payload.details ?? undefined })
  }
  if (NAPI_ARGUMENT_CODES.has(err?.code)) return new classes.InvalidArgumentError(message)
  return new classes.UnknownError(String(message ?? err), { cause: err })
}

/** The error an AbortSignal produces: a CancelledError that also reads as an AbortError. */
function abortError(what, signal) {
  const err = new classes.CancelledError(`${what}: the operation was aborted`, { cause: signal?.reason })
  err.name = 'AbortError'
  return err
}

// The HTTP status a server should answer for each code (anything else is 500).
const HTTP_STATUS = {
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
}

/** The HTTP status for an error: by its containerd code for ours, else 500. */
function httpStatus(err) {
  return (err instanceof ContainerdError && HTTP_STATUS[err.code]) || 500
}

module.exports = { ...classes, CODES, fromNative, abortError, httpStatus }
