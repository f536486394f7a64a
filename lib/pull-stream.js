'use strict'
// The async iterable over a native stream that is pulled one item at a time (Container.logs(),
// Task.stats()): opened on the first next(), ended by the native side (null), close(), `break`
// or the signal — an abort rejects the pending or next next() with a CancelledError.

const { call } = require('./native.js')
const { abortError } = require('./errors.js')

class PullStream {
  #what
  #open
  #native
  #signal
  #onAbort
  #closed = false
  /** After the end, or after an error was thrown once: every next() is done. */
  #ended = false

  /** @internal `open(handle)` resolves with the native stream (its next() and close()). */
  constructor(what, open, signal) {
    this.#what = what
    this.#open = open
    this.#signal = signal
    if (signal) {
      this.#onAbort = () => this.close()
      signal.addEventListener('abort', this.#onAbort, { once: true })
    }
  }

  /** @internal The next native item, or null at the end (then every later call is null too). */
  async pull() {
    if (this.#ended) return null
    if (this.#signal?.aborted) {
      this.#end()
      throw abortError(this.#what, this.#signal)
    }
    if (this.#closed) return null
    let item
    try {
      if (this.#native === undefined) {
        this.#native = await call(this.#what, this.#signal, (h) => this.#open(h))
        if (this.#closed) this.#native.close()
      }
      const native = this.#native
      item = await call(this.#what, undefined, () => native.next())
    } catch (err) {
      this.#end()
      throw this.#signal?.aborted ? abortError(this.#what, this.#signal) : err
    }
    if (item == null) {
      this.#end()
      if (this.#signal?.aborted) throw abortError(this.#what, this.#signal)
      return null
    }
    return item
  }

  /** `break` in a for-await loop lands here. */
  async return() {
    this.close()
    return { done: true, value: undefined }
  }

  [Symbol.asyncIterator]() {
    return this
  }

  #end() {
    this.#ended = true
    this.close()
  }

  close() {
    if (this.#closed) return
    this.#closed = true
    if (this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort)
    this.#native?.close()
  }
}

module.exports = { PullStream }
