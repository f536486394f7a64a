'use strict'
// The public Image (API.md): the record's plain data, plus methods over the client that made it.

/** @param {{ mediaType: string, digest: string, size: number, annotations?: Record<string, string> }} d */
function descriptor(d) {
  const out = { mediaType: d.mediaType, digest: d.digest, size: d.size }
  if (d.annotations) out.annotations = d.annotations
  return out
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
    Object.freeze(this.target)
  }
}

module.exports = { Image }
