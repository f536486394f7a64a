'use strict'
// Calling into the native binding: every call goes through here so that errors are always typed
// and AbortSignals reach the Rust side as a CancelHandle.

const binding = require('./addon.js')
const { fromNative, abortError, InvalidArgumentError } = require('./errors.js')

// Short calls run on the calling JS thread over a connection of its own, its socket watched by
// libuv (src/js/thread_io.rs): on Node. Deno and Bun do not run libuv; they keep the worker path.
binding.setThreadTransport(!process.versions.bun && !process.versions.deno)

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
