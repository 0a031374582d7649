// A tiny awaitable FIFO: items pushed before anyone waits are kept, so a test that asks for
// "the next QR ref" or "the next code request" after the client already sent it does not miss it.
export class AsyncQueue<T> {
  private readonly items: T[] = []
  private readonly waiters: Array<(item: T) => void> = []

  push(item: T): void {
    const waiter = this.waiters.shift()
    if (waiter) waiter(item)
    else this.items.push(item)
  }

  next(timeoutMs: number, what: string): Promise<T> {
    if (this.items.length) return Promise.resolve(this.items.shift()!)
    return new Promise((resolve, reject) => {
      const waiter = (item: T) => {
        clearTimeout(timer)
        resolve(item)
      }
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
      }, timeoutMs)
      this.waiters.push(waiter)
    })
  }
}
