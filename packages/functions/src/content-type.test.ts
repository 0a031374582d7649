import { describe, expect, it } from 'vitest'
import { isJsonContentType } from './content-type.ts'

describe('isJsonContentType', () => {
  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/merge-patch+json', 'application/vnd.api+json;v=1'])('%s is JSON', (type) => {
    expect(isJsonContentType(type)).toBe(true)
  })

  // What a cross-site form can send, and look-alikes.
  it.each([undefined, '', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/json-seq', 'text/json'])('%s is not', (type) => {
    expect(isJsonContentType(type)).toBe(false)
  })
})
