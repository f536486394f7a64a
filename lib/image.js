'use strict'
// The public Image (README.md): the record's plain data, plus methods over the client that made it.

const { call } = require('./native.js')
const check = require('./check.js')

/** @param {{ mediaType: string, digest: string, size: number, annotations?: Record<string, string> }} d */
function descriptor(d) {
  const out = { mediaType: d.mediaType, digest: d.digest, size: d.size }
  if (d.annotations) out.annotations = d.annotations
  return Object.freeze(out)
}

class Image {
  #native

  /** @internal */
  constructor(native, info) {
    this.#native = native
    this.name = info.name
    this.target = descriptor(info.target)
    this.labels = info.labels
    this.createdAt = new Date(info.createdAt)
    this.updatedAt = new Date(info.updatedAt)
  }

  /** The OCI image config of `platform` (default: this host's). */
  async config(options) {
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['platform', 'signal'])
    const platform = check.optionalString(o.platform, 'options.platform')
    const text = await call('image config', o.signal, (h) => this.#native.imageConfig(this.name, platform, h))
    return JSON.parse(text)
  }

  /** Compressed bytes of index, manifest, config and layers for `platform`. */
  async size(options) {
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['platform', 'signal'])
    const platform = check.optionalString(o.platform, 'options.platform')
    return call('image size', o.signal, (h) => this.#native.imageSize(this.name, platform, h))
  }

  /** Unpacks this host's layers into `snapshotter` (default 'overlayfs'). */
  async unpack(snapshotter, options) {
    check.optionalString(snapshotter, 'snapshotter')
    const { signal } = check.signalOnly(options)
    await call('unpack', signal, (h) => this.#native.imageUnpack(this.name, snapshotter, h))
  }

  async isUnpacked(snapshotter, options) {
    check.optionalString(snapshotter, 'snapshotter')
    const { signal } = check.signalOnly(options)
    return call('is unpacked', signal, (h) => this.#native.imageIsUnpacked(this.name, snapshotter, h))
  }
}

module.exports = { Image }
