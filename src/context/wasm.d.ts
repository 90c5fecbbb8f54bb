/** The one WebAssembly API the hasher uses (Node's global; not in the ES lib typings). */
declare namespace WebAssembly {
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
}
