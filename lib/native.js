'use strict'
// Calling into the native binding: every call goes through here so that errors are always typed
// and AbortSignals reach the Rust side as a CancelHandle.

const binding = loadBinding()
const { fromNative, abortError, InvalidArgumentError } = require('./errors.js')

/**
 * The addon built in this checkout, loaded directly: napi-rs's generated binding.js first probes
 * for musl (reading /usr/bin/ldd) and for a dozen platform packages, which was a quarter of the
 * package's load time. Anything unusual (another libc, a prebuilt package) still goes through it.
 */
function loadBinding() {
  const { existsSync } = require('node:fs')
  const { join } = require('node:path')
  const { platform, arch } = process
  const libc = platform === 'linux' ? ['-gnu', '-musl'] : ['']
  const found = libc.map((abi) => join(__dirname, '..', `containerd-napi.${platform}-${arch}${abi}.node`)).filter((f) => existsSync(f))
  return found.length === 1 ? require(found[0]) : require('../binding.js')
}

/** Runs a synchronous native call, rethrowing its error typed. */
function callSync(fn) {
  try {
    return fn()
  } catch (err) {
    throw fromNative(err)
  }
}

function checkSignal(signal) {
  if (signal == null) return
  if (typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function') {
    throw new InvalidArgumentError('signal must be an AbortSignal')
  }
}

/**
 * Runs an async native call; `fn` receives the CancelHandle to pass on (undefined without a signal).
 * An abort rejects promptly with a CancelledError named 'AbortError'.
 */
async function call(what, signal, fn) {
  checkSignal(signal)
  if (signal == null) {
    try {
      return await fn(undefined)
    } catch (err) {
      throw fromNative(err)
    }
  }
  if (signal.aborted) throw abortError(what, signal)
  const handle = new binding.CancelHandle()
  const onAbort = () => handle.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await fn(handle)
  } catch (err) {
    throw signal.aborted ? abortError(what, signal) : fromNative(err)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

module.exports = { binding, call, callSync }
