'use strict'
// The public EventStream (README.md): an async iterable over a native subscription.

const { call } = require('./native.js')
const { abortError } = require('./errors.js')

/** JSON.parse reviver for the native payload markers: {"$date": ms} and {"$bytes": base64}. */
function revive(_key, value) {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value)
    if (keys.length === 1 && keys[0] === '$date') return new Date(value.$date)
    if (keys.length === 1 && keys[0] === '$bytes') return Buffer.from(value.$bytes, 'base64')
  }
  return value
}

function toEvent(info) {
  const event = {
    namespace: info.namespace,
    topic: info.topic,
    timestamp: new Date(info.timestamp),
    type: info.type,
    event: info.event == null ? null : JSON.parse(info.event, revive),
  }
  if (info.raw != null) event.raw = info.raw
  return event
}

class EventStream {
  #native
  #closed = false
  #signal
  #onAbort

  /** @internal `native`: a promise of the NativeEventStream. */
  constructor(native, signal) {
    this.#native = native
    this.#signal = signal
    this.ready = native.then((n) => call('subscribe', signal, () => n.ready()))
    this.ready.catch(() => {}) // an unawaited `ready` must not be an unhandled rejection
    if (signal) {
      this.#onAbort = () => this.close()
      signal.addEventListener('abort', this.#onAbort, { once: true })
    }
  }

  async next() {
    if (this.#closed) return { done: true, value: undefined }
    if (this.#signal?.aborted) {
      this.close()
      throw abortError('subscribe', this.#signal)
    }
    let info
    try {
      const native = await this.#native
      info = await call('subscribe', undefined, () => native.next())
    } catch (err) {
      this.close()
      throw err
    }
    if (info == null) {
      this.close()
      if (this.#signal?.aborted) throw abortError('subscribe', this.#signal)
      return { done: true, value: undefined }
    }
    return { done: false, value: toEvent(info) }
  }

  /** `break` in a for-await loop lands here: ends the server stream. */
  async return() {
    this.close()
    return { done: true, value: undefined }
  }

  [Symbol.asyncIterator]() {
    return this
  }

  /** `await using`: close(). */
  async [Symbol.asyncDispose]() {
    this.close()
  }

  close() {
    if (this.#closed) return
    this.#closed = true
    if (this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort)
    this.#native.then((n) => n.close(), () => {})
  }
}

module.exports = { EventStream, revive }
