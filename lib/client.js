'use strict'
// The public Client (API.md): argument shaping over NativeClient, nothing more.

const { binding, call, callSync } = require('./native.js')
const check = require('./check.js')

// Only Client.connect() and withNamespace() construct clients.
const INTERNAL = Symbol('containerd-napi.internal')

class Client {
  #native

  constructor(token, native) {
    if (token !== INTERNAL) throw new TypeError('use Client.connect() to create a Client')
    this.#native = native
  }

  /** @param {import('../index').ConnectOptions} [options] */
  static async connect(options) {
    const o = check.optionalObject(options, 'options')
    const tls = o.tls === undefined ? undefined : check.optionalObject(o.tls, 'options.tls')
    const nativeOptions = {
      address: check.optionalString(o.address, 'options.address'),
      namespace: check.optionalString(o.namespace, 'options.namespace'),
      timeoutMs: check.optionalNumber(o.timeoutMs, 'options.timeoutMs'),
      tls: tls && {
        ca: check.optionalPem(tls.ca, 'options.tls.ca'),
        cert: check.optionalPem(tls.cert, 'options.tls.cert'),
        key: check.optionalPem(tls.key, 'options.tls.key'),
        serverName: check.optionalString(tls.serverName, 'options.tls.serverName'),
      },
    }
    const native = await call('connect', o.signal, (h) => binding.connect(nativeOptions, h))
    return new Client(INTERNAL, native)
  }

  get address() {
    return this.#native.address
  }

  get namespace() {
    return this.#native.namespace
  }

  withNamespace(namespace) {
    check.string(namespace, 'namespace')
    return new Client(INTERNAL, callSync(() => this.#native.withNamespace(namespace)))
  }

  version(options) {
    const { signal } = check.optionalObject(options, 'options')
    return call('version', signal, (h) => this.#native.version(h))
  }

  plugins(options) {
    const { signal } = check.optionalObject(options, 'options')
    return call('plugins', signal, (h) => this.#native.plugins(h))
  }

  async close() {
    this.#native.close()
  }

  [Symbol.asyncDispose]() {
    return this.close()
  }

  listNamespaces(options) {
    const { signal } = check.optionalObject(options, 'options')
    return call('list namespaces', signal, (h) => this.#native.listNamespaces(h))
  }

  async createNamespace(name, labels, options) {
    check.string(name, 'name')
    check.stringRecord(labels, 'labels')
    const { signal } = check.optionalObject(options, 'options')
    await call('create namespace', signal, (h) => this.#native.createNamespace(name, labels, h))
  }

  async deleteNamespace(name, options) {
    check.string(name, 'name')
    const { signal } = check.optionalObject(options, 'options')
    await call('delete namespace', signal, (h) => this.#native.deleteNamespace(name, h))
  }
}

module.exports = { Client }
