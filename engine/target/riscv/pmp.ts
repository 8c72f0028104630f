/**
 * Physical memory protection (16 entries, OFF/TOR/NA4/NAPOT, lock bit), as OpenSBI programs it.
 *
 * Entry ranges are decoded once per pmpcfg/pmpaddr write into `start`/`end` (byte addresses as
 * numbers, end exclusive) so checks are plain comparisons. The CPU caches an allowed 4 KiB page in
 * its TLB only when one entry decides the whole page (`pageDecision`).
 */
import { CSR_PMPADDR0, PRV_M } from './cpu-state.js';

export const PMP_R = 1;
export const PMP_W = 2;
export const PMP_X = 4;
const PMP_A_SHIFT = 3;
export const PMP_L = 0x80;

export const PMP_ENTRIES = 16;

export class Pmp {
  readonly cfg = new Uint8Array(PMP_ENTRIES);
  readonly start = new Float64Array(PMP_ENTRIES);
  readonly end = new Float64Array(PMP_ENTRIES);
  /** Number of entries with A != OFF (0 = checks are trivial). */
  active = 0;

  constructor(private readonly csr: Int32Array) {}

  addr(i: number): number {
    const p = (CSR_PMPADDR0 + i) * 2;
    return (this.csr[p + 1] & 0x3fffff) * 4294967296 + (this.csr[p] >>> 0);
  }

  locked(i: number): boolean {
    return (this.cfg[i] & PMP_L) !== 0;
  }

  /** Writes to pmpaddr i are ignored when entry i is locked, or entry i+1 is a locked TOR. */
  addrWritable(i: number): boolean {
    if (this.locked(i)) return false;
    if (i + 1 < PMP_ENTRIES && this.locked(i + 1) && ((this.cfg[i + 1] >> PMP_A_SHIFT) & 3) === 1)
      return false;
    return true;
  }

  writeCfg(i: number, v: number): void {
    if (this.locked(i)) return;
    v &= 0x9f; // R W X A L (bits 5,6 are reserved)
    if ((v & (PMP_R | PMP_W)) === PMP_W) v &= ~PMP_W; // W without R is reserved: QEMU drops W
    this.cfg[i] = v;
    this.recompute();
  }

  /** pmpaddr i as an exact BigInt (54 bits do not fit a double). */
  private addrBig(i: number): bigint {
    const p = (CSR_PMPADDR0 + i) * 2;
    return (BigInt(this.csr[p + 1] & 0x3fffff) << 32n) | BigInt(this.csr[p] >>> 0);
  }

  /** Decode every entry's byte range (rare: on pmpcfg/pmpaddr writes, so BigInt is fine). */
  recompute(): void {
    let active = 0;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      const a = (this.cfg[i] >> PMP_A_SHIFT) & 3;
      const addr = this.addrBig(i);
      let s = 0n;
      let e = 0n;
      if (a === 1) {
        s = i === 0 ? 0n : this.addrBig(i - 1) << 2n;
        e = addr << 2n;
      } else if (a === 2) {
        s = addr << 2n;
        e = s + 4n;
      } else if (a === 3) {
        // trailing ones of addr give the size 2^(t+3)
        let t = 0n;
        while (t < 54n && (addr >> t) & 1n) t++;
        const size = 1n << (t + 3n);
        s = ((addr << 2n) / size) * size;
        e = s + size;
      }
      if (a !== 0) active++;
      this.start[i] = Number(s);
      this.end[i] = Number(e);
    }
    this.active = active;
  }

  /** Is an access of `size` bytes at `addr` with permission `perm` allowed in `priv`? */
  check(addr: number, size: number, perm: number, priv: number): boolean {
    const last = addr + size;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      const c = this.cfg[i];
      if ((c & (3 << PMP_A_SHIFT)) === 0) continue;
      const s = this.start[i];
      const e = this.end[i];
      if (last <= s || addr >= e) continue;
      if (addr < s || last > e) return false; // partial match fails
      if (priv === PRV_M && !(c & PMP_L)) return true;
      return (c & perm) === perm;
    }
    return priv === PRV_M;
  }

  /**
   * Decision for a whole 4 KiB page: 1 allowed, 0 denied, -1 when entries split the page (then the
   * CPU must not cache it and checks each access).
   */
  pageDecision(page: number, perm: number, priv: number): number {
    const last = page + 4096;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      const c = this.cfg[i];
      if ((c & (3 << PMP_A_SHIFT)) === 0) continue;
      const s = this.start[i];
      const e = this.end[i];
      if (last <= s || page >= e) continue;
      if (page < s || last > e) return -1;
      if (priv === PRV_M && !(c & PMP_L)) return 1;
      return (c & perm) === perm ? 1 : 0;
    }
    return priv === PRV_M ? 1 : 0;
  }
}
