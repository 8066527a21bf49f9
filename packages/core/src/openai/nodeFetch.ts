import http from "node:http"
import https from "node:https"

/**
 * A `fetch` for the openai client built on node:http(s) with keep-alive agents. Node 20's built-in
 * fetch (undici) costs about 1.2 ms of CPU per small request against 0.75 ms here, and at high
 * concurrency the client's CPU is what limits throughput. Only what the openai client uses is
 * supported: a method, headers, a string body, an abort signal, and a buffered response that has
 * the part of the `Response` interface the openai client reads (status, headers, `text`, `json`).
 */
const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: Infinity }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: Infinity })
}

const toUrl = (input: string | URL | Request): URL =>
  new URL(typeof input === "string" || input instanceof URL ? input : input.url)

/**
 * The response headers, read-only, as much of the `Headers` interface as the openai client reads
 * (`get`, `has`, iteration). Names are lower-case, as node:http gives them. Building undici's
 * `Headers` and `Response` costs more CPU per call than the rest of the request.
 */
class ResponseHeaders {
  constructor(private readonly map: ReadonlyMap<string, string>) {}
  get(name: string): string | null {
    return this.map.get(name.toLowerCase()) ?? null
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase())
  }
  entries(): IterableIterator<[string, string]> {
    return this.map.entries() as IterableIterator<[string, string]>
  }
  keys(): IterableIterator<string> {
    return this.map.keys()
  }
  values(): IterableIterator<string> {
    return this.map.values()
  }
  forEach(f: (value: string, key: string, parent: ResponseHeaders) => void): void {
    for (const [k, v] of this.map) f(v, k, this)
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries()
  }
}

/** A fully buffered response: what the openai client reads of a `Response`, without web streams. */
class BufferedResponse {
  readonly ok: boolean
  readonly redirected = false
  readonly type = "basic"
  bodyUsed = false
  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    readonly headers: ResponseHeaders,
    private readonly bytes: Buffer
  ) {
    this.ok = status >= 200 && status < 300
  }
  /** No stream to cancel: the body is already read. */
  get body(): null {
    return null
  }
  private consume(): string {
    if (this.bodyUsed) throw new TypeError("Body is unusable: Body has already been read")
    this.bodyUsed = true
    return this.bytes.toString("utf8")
  }
  text(): Promise<string> {
    try {
      return Promise.resolve(this.consume())
    } catch (e) {
      return Promise.reject(e)
    }
  }
  json(): Promise<unknown> {
    try {
      return Promise.resolve(JSON.parse(this.consume()))
    } catch (e) {
      return Promise.reject(e)
    }
  }
}

const requestHeaders = (headers: RequestInit["headers"]): Record<string, string> => {
  const out: Record<string, string> = {}
  // The openai client passes a `Headers`; copying it into another first would cost a second pass.
  const source = headers instanceof Headers ? headers : new Headers(headers)
  source.forEach((value, key) => {
    out[key] = value
  })
  return out
}

export const nodeFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
  new Promise((resolve, reject) => {
    const url = toUrl(input)
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      reject(new TypeError(`unsupported protocol ${url.protocol}`))
      return
    }
    const send = url.protocol === "https:" ? https.request : http.request
    const request = send(
      url,
      {
        method: init.method ?? "GET",
        headers: requestHeaders(init.headers),
        agent: agents[url.protocol],
        ...(init.signal ? { signal: init.signal } : {})
      },
      (response) => {
        const chunks: Array<Buffer> = []
        response.on("data", (chunk: Buffer) => chunks.push(chunk))
        response.on("error", reject)
        response.on("end", () => {
          const headers = new Map<string, string>()
          for (const [key, value] of Object.entries(response.headers))
            if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value)
          const body = new BufferedResponse(
            url.href,
            response.statusCode ?? 500,
            response.statusMessage ?? "",
            new ResponseHeaders(headers),
            chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
          )
          resolve(body as unknown as Response)
        })
      }
    )
    request.on("error", reject)
    const body = init.body
    if (body === undefined || body === null) request.end()
    else if (typeof body === "string" || body instanceof Uint8Array) request.end(body)
    else {
      request.destroy()
      reject(new TypeError("nodeFetch: only string or byte bodies are supported"))
    }
  })
