/**
 * FFI binding (koffi) to native/build/liboutpostcodec.so: one uniform ABI over G.711 (PCMA/PCMU),
 * G.722, opus and G.729, plus a resampler for 8/16/48 kHz. See docs/codecs.md.
 *
 * The per-packet path allocates no ArrayBuffers: each Codec/Resampler owns its output buffers,
 * sized once for the largest packet, and returns subarray views of them. A returned view is only
 * valid until the next call on the same object (copy it to keep it). Inputs are handed to C
 * as they are (koffi passes a pointer to the typed array's bytes), so no copy there either.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import koffi, { type LibraryHandle } from 'koffi';
import { CodecError } from './errors.ts';

/** Where native/build-codecs.sh puts the library. */
export const DEFAULT_CODEC_LIB_PATH = fileURLToPath(
  new URL('../../../native/build/liboutpostcodec.so', import.meta.url),
);

/** Largest payload duration decode() accepts: 120 ms (the longest opus packet). */
const MAX_DECODE_MS = 120;
/** Output capacity for one encoded frame; far above any codec's frame at these rates. */
const MAX_PAYLOAD_BYTES = 4000;

type Handle = unknown;

interface Native {
  count(): number;
  name(index: number): string | null;
  create(name: string, frameMs: number, rc: Int32Array): Handle;
  info(c: Handle, clock: Int32Array, pcm: Int32Array, frame: Int32Array): number;
  encode(c: Handle, pcm: Int16Array, samples: number, out: Uint8Array, cap: number): number;
  decode(c: Handle, input: Uint8Array, len: number, pcm: Int16Array, cap: number): number;
  conceal(c: Handle, pcm: Int16Array, cap: number): number;
  recover(c: Handle, next: Uint8Array, len: number, pcm: Int16Array, cap: number): number;
  destroy(c: Handle): void;
  resamplerCreate(inRate: number, outRate: number, rc: Int32Array): Handle;
  resample(r: Handle, input: Int16Array, n: number, out: Int16Array, cap: number): number;
  resampleMaxOut(r: Handle, n: number): number;
  resamplerDestroy(r: Handle): void;
  strerror(rc: number): string;
}

let native: Native | undefined;
let nativePath: string | undefined;

/**
 * Loads the library once (later calls return the loaded binding; a different path after the
 * first load is refused). Throws CodecError 'codec.load' when it is missing or broken.
 */
export function loadCodecLibrary(path: string = DEFAULT_CODEC_LIB_PATH): Native {
  if (native) {
    if (path !== nativePath) {
      throw new CodecError('codec.load', `codec library already loaded from ${nativePath}, not ${path}`);
    }
    return native;
  }
  if (!existsSync(path)) {
    throw new CodecError('codec.load', `codec library ${path} is missing; build it with \`bash setup.sh\``);
  }
  let lib: LibraryHandle;
  try {
    lib = koffi.load(path);
  } catch (cause) {
    throw new CodecError('codec.load', `cannot load ${path} (rebuild with \`bash setup.sh\`): ${String(cause)}`, {
      cause,
    });
  }
  const codecPtr = koffi.pointer('op_codec_ptr', koffi.opaque('op_codec'));
  const resamplerPtr = koffi.pointer('op_resampler_ptr', koffi.opaque('op_resampler'));
  type Spec = Parameters<typeof koffi.sizeof>[0];
  const fn = (proto: string, result: Spec, args: Spec[]) => lib.func(proto, result, args);
  native = {
    count: fn('op_codec_count', 'int', []),
    name: fn('op_codec_name', 'const char *', ['int']),
    create: fn('op_codec_create', codecPtr, ['const char *', 'int', koffi.out(koffi.pointer('int'))]),
    info: fn('op_codec_info', 'int', [codecPtr, 'int *', 'int *', 'int *']),
    encode: fn('op_codec_encode', 'int', [codecPtr, 'int16_t *', 'int', 'uint8_t *', 'int']),
    decode: fn('op_codec_decode', 'int', [codecPtr, 'uint8_t *', 'int', 'int16_t *', 'int']),
    conceal: fn('op_codec_conceal', 'int', [codecPtr, 'int16_t *', 'int']),
    recover: fn('op_codec_recover', 'int', [codecPtr, 'uint8_t *', 'int', 'int16_t *', 'int']),
    destroy: fn('op_codec_destroy', 'void', [codecPtr]),
    resamplerCreate: fn('op_resampler_create', resamplerPtr, ['int', 'int', koffi.out(koffi.pointer('int'))]),
    resample: fn('op_resample', 'int', [resamplerPtr, 'int16_t *', 'int', 'int16_t *', 'int']),
    resampleMaxOut: fn('op_resample_max_out', 'int', [resamplerPtr, 'int']),
    resamplerDestroy: fn('op_resampler_destroy', 'void', [resamplerPtr]),
    strerror: fn('op_strerror', 'const char *', ['int']),
  } as Native;
  nativePath = path;
  return native;
}

function nativeError(n: Native, op: string, rc: number): CodecError {
  return new CodecError('codec.native', `${op}: ${n.strerror(rc)} (rc ${rc})`, { rc });
}

/** Names of the codecs the library was built with, e.g. ['PCMA','PCMU','G722','opus','G729']. */
export function availableCodecs(): string[] {
  const n = loadCodecLibrary();
  const names: string[] = [];
  for (let i = 0; i < n.count(); i++) {
    const name = n.name(i);
    if (name !== null) names.push(name);
  }
  return names;
}

/** One encoder + decoder pair of one codec (one direction of a transcoded leg uses one of each half). */
export class Codec {
  readonly name: string;
  /** RTP timestamp clock (8000 for G.722, per RFC 3551). */
  readonly clockRate: number;
  /** Sample rate of encode()'s input and decode()'s output. */
  readonly pcmRate: number;
  readonly frameMs: number;
  /** Samples encode() takes, and conceal() returns. */
  readonly frameSamples: number;
  private handle: Handle;
  private readonly n: Native;
  private readonly payload = new Uint8Array(MAX_PAYLOAD_BYTES);
  private readonly pcm: Int16Array;
  private readonly payloadView: Buffer;

  private constructor(n: Native, name: string, handle: Handle) {
    this.n = n;
    this.name = name;
    this.handle = handle;
    const clock = new Int32Array(1);
    const rate = new Int32Array(1);
    const frame = new Int32Array(1);
    const rc = n.info(handle, clock, rate, frame);
    if (rc < 0) throw nativeError(n, 'op_codec_info', rc);
    this.clockRate = clock[0] ?? 0;
    this.pcmRate = rate[0] ?? 0;
    this.frameSamples = frame[0] ?? 0;
    this.frameMs = this.pcmRate > 0 ? (this.frameSamples * 1000) / this.pcmRate : 0;
    this.pcm = new Int16Array((this.pcmRate / 1000) * MAX_DECODE_MS);
    this.payloadView = Buffer.from(this.payload.buffer, this.payload.byteOffset, this.payload.byteLength);
  }

  /** frameMs 0 picks the codec's default (20 ms). Throws CodecError ('codec.native', rc -2 when not built). */
  static create(name: string, frameMs = 20): Codec {
    const n = loadCodecLibrary();
    const rc = new Int32Array(1);
    const handle = n.create(name, frameMs, rc);
    if (!handle) throw nativeError(n, `op_codec_create(${name}, ${frameMs} ms)`, rc[0] ?? -1);
    return new Codec(n, name, handle);
  }

  /** Encodes exactly one frame (frameSamples). Returns a view of the payload, valid until the next encode(). */
  encode(pcm: Int16Array): Buffer {
    const bytes = this.n.encode(this.live(), pcm, pcm.length, this.payload, this.payload.length);
    if (bytes < 0) throw nativeError(this.n, `${this.name} encode`, bytes);
    return this.payloadView.subarray(0, bytes);
  }

  /** Decodes one RTP payload. Returns a view of the PCM, valid until the next decode()/conceal(). */
  decode(payload: Uint8Array): Int16Array {
    const samples = this.n.decode(this.live(), payload, payload.length, this.pcm, this.pcm.length);
    if (samples < 0) throw nativeError(this.n, `${this.name} decode`, samples);
    return this.pcm.subarray(0, samples);
  }

  /** One frame of loss concealment (opus/G.729 PLC; fading repeat of the last frame otherwise). */
  conceal(): Int16Array {
    const samples = this.n.conceal(this.live(), this.pcm, this.pcm.length);
    if (samples < 0) throw nativeError(this.n, `${this.name} conceal`, samples);
    return this.pcm.subarray(0, samples);
  }

  /**
   * One frame for the packet lost just before `next`: from the in-band FEC `next` carries
   * (opus), else the same as conceal(). `next` itself is not decoded; decode() it afterwards.
   */
  recover(next: Uint8Array): Int16Array {
    const samples = this.n.recover(this.live(), next, next.length, this.pcm, this.pcm.length);
    if (samples < 0) throw nativeError(this.n, `${this.name} recover`, samples);
    return this.pcm.subarray(0, samples);
  }

  /** Frees the native state; idempotent. */
  close(): void {
    if (this.handle) {
      this.n.destroy(this.handle);
      this.handle = null;
    }
  }

  private live(): Handle {
    if (!this.handle) throw new CodecError('codec.closed', `${this.name} codec used after close()`);
    return this.handle;
  }
}

/** Streaming sample-rate converter between 8000, 16000 and 48000 Hz; keeps filter state across calls. */
export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  private handle: Handle;
  private readonly n: Native;
  private out: Int16Array;
  /** The input length the output buffer was last checked for (chunks are mostly one size). */
  private checkedFor = -1;

  /** maxInput: the largest chunk process() will get (default 120 ms at inRate); larger chunks grow the buffer once. */
  constructor(inRate: number, outRate: number, maxInput = (inRate / 1000) * MAX_DECODE_MS) {
    const n = loadCodecLibrary();
    const rc = new Int32Array(1);
    const handle = n.resamplerCreate(inRate, outRate, rc);
    if (!handle) throw nativeError(n, `op_resampler_create(${inRate}, ${outRate})`, rc[0] ?? -1);
    this.n = n;
    this.inRate = inRate;
    this.outRate = outRate;
    this.handle = handle;
    this.out = new Int16Array(n.resampleMaxOut(handle, maxInput));
  }

  /** Returns a view of the converted samples, valid until the next process(). */
  process(pcm: Int16Array): Int16Array {
    const handle = this.live();
    if (pcm.length !== this.checkedFor) {
      const need = this.n.resampleMaxOut(handle, pcm.length);
      if (need < 0) throw nativeError(this.n, 'op_resample_max_out', need);
      if (need > this.out.length) this.out = new Int16Array(need);
      this.checkedFor = pcm.length;
    }
    const produced = this.n.resample(handle, pcm, pcm.length, this.out, this.out.length);
    if (produced < 0) throw nativeError(this.n, 'op_resample', produced);
    return this.out.subarray(0, produced);
  }

  /** Frees the native state; idempotent. */
  close(): void {
    if (this.handle) {
      this.n.resamplerDestroy(this.handle);
      this.handle = null;
    }
  }

  private live(): Handle {
    if (!this.handle) throw new CodecError('codec.closed', 'resampler used after close()');
    return this.handle;
  }
}
