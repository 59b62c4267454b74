// Merging translated modules: the translator emits one wasm module per group of blocks (src/wasm/translate.ts
// emitModule), and the engine places every module's machine code in an allocation of its own at a random
// address (V8: a code space per module), so the run loop's entries into a hundred modules touch a hundred
// separate code pages, each with its own page-table walk when it is cold. A merged module holds the functions
// of many: one code space, their code side by side.
//
// Every translated module has the same type and import sections, one function of the group type (5), exported
// as "g", whose body calls only imported functions (so function indices do not move when bodies are put
// together). The merged module keeps those two sections and exports function k as "g<k>".

/** A translated module's parts, as mergeModules needs them. */
interface Parts {
  /** Everything up to the end of the import section (header, types, imports): the same in every module. */
  prefix: Uint8Array;
  /** Imported functions (the module's own function's index). */
  imported: number;
  /** The one function's type index. */
  type: number;
  /** The one function's body (locals and code), without its size. */
  body: Uint8Array;
}

/** The part of a translated module's name for function k of a merged one. */
export function mergedExport(k: number): string { return `g${k}`; }

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}
  uleb(): number {
    let r = 0, shift = 0, c: number;
    do {
      if (this.pos >= this.b.length || shift > 28) throw new Error('a LEB128 number runs past the module');
      c = this.b[this.pos++]!;
      r |= (c & 0x7f) << shift;
      shift += 7;
    } while (c & 0x80);
    return r >>> 0;
  }
  skipName(): void {
    const n = this.uleb();
    this.pos += n;
  }
}

function parts(b: Uint8Array): Parts {
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d || b[4] !== 1) {
    throw new Error('not a wasm module');
  }
  const r = new Reader(b);
  r.pos = 8;
  const ids: number[] = [];
  let prefixEnd = -1, type = -1, imported = 0;
  let body: Uint8Array | undefined;
  while (r.pos < b.length) {
    const id = b[r.pos++]!;
    const len = r.uleb();
    const start = r.pos, end = start + len;
    if (end > b.length) throw new Error(`section ${id} runs past the module`);
    ids.push(id);
    if (id === 2) {
      prefixEnd = end;
      for (let n = r.uleb(); n > 0; n--) {
        r.skipName(); // module
        r.skipName(); // field
        const kind = b[r.pos++];
        if (kind === 0) { imported++; r.uleb(); } // a function: its type
        else if (kind === 2) { if (r.uleb() & 1) r.uleb(); r.uleb(); } // memory: flags, min (and max)
        else if (kind === 3) r.pos += 2; // global: value type, mutability
        else throw new Error(`an import of kind ${kind}`);
      }
      if (r.pos !== end) throw new Error('the import section does not add up');
    }
    if (id === 3) {
      if (r.uleb() !== 1) throw new Error('a translated module has one function');
      type = r.uleb();
    }
    if (id === 10) {
      if (r.uleb() !== 1) throw new Error('a translated module has one function body');
      const size = r.uleb();
      if (r.pos + size !== end) throw new Error('the function body does not fill the code section');
      body = b.subarray(r.pos, end);
    }
    r.pos = end;
  }
  if (ids.join() !== '1,2,3,7,10' || prefixEnd < 0 || type < 0 || !body) {
    throw new Error(`unexpected sections ${ids.join()} (a translated module has types, imports, function, export, code)`);
  }
  return { prefix: b.subarray(0, prefixEnd), imported, type, body };
}

/** `n` as unsigned LEB128, appended to `out`; returns `out`. */
function uleb(out: number[], n: number): number[] {
  do {
    let x = n & 0x7f;
    n >>>= 7;
    if (n) x |= 0x80;
    out.push(x);
  } while (n);
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * One module holding the functions of `modules` (translated modules, each with one function exported as "g"):
 * function k is module k's, exported as mergedExport(k). Throws if a module is not shaped as the translator
 * makes them, or their imports differ.
 */
export function mergeModules(modules: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  if (modules.length === 0) throw new Error('nothing to merge');
  const all = modules.map(parts);
  const prefix = all[0]!.prefix;
  for (const p of all) if (!equal(p.prefix, prefix)) throw new Error('the modules import different things');
  const funcs: number[] = [];
  uleb(funcs, all.length);
  for (const p of all) uleb(funcs, p.type);
  const exports: number[] = [];
  uleb(exports, all.length);
  all.forEach((_, k) => {
    const name = mergedExport(k);
    uleb(exports, name.length);
    for (let i = 0; i < name.length; i++) exports.push(name.charCodeAt(i));
    exports.push(0); // a function
    uleb(exports, all[0]!.imported + k);
  });
  const code: (number[] | Uint8Array)[] = [uleb([], all.length)];
  for (const p of all) code.push(uleb([], p.body.length), p.body);
  return concat([prefix, ...section(3, [funcs]), ...section(7, [exports]), ...section(10, code)]);
}

/** Section `id` holding `content`: its id and size, then the content. */
function section(id: number, content: (number[] | Uint8Array)[]): (number[] | Uint8Array)[] {
  return [[id, ...uleb([], content.reduce((n, c) => n + c.length, 0))], ...content];
}

function concat(chunks: (number[] | Uint8Array)[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
