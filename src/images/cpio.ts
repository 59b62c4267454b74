// A writer for the cpio "newc" format (SVR4 portable ASCII, magic 070701): the format the Linux kernel unpacks
// an initramfs from (Documentation/driver-api/early-userspace/buffer-format.rst).
//
// Each entry is a 110-byte ASCII header, the NUL-terminated path, padding to a multiple of 4 bytes, the data and
// padding to a multiple of 4 again. The archive ends with an entry named TRAILER!!!.
//
//   header field   width  value
//   c_magic          6    "070701"
//   c_ino            8    inode number (hex, like every field below)
//   c_mode           8    file type and permission bits (S_IFREG | 0755 ...)
//   c_uid, c_gid     8+8  owner
//   c_nlink          8    number of links
//   c_mtime          8    modification time (seconds since the epoch)
//   c_filesize       8    data length (a symlink's data is its target)
//   c_devmajor/minor 8+8  device holding the file (0 here)
//   c_rdevmajor/minor 8+8 device number of a character or block special file
//   c_namesize       8    path length including the NUL
//   c_check          8    0 (the "070702" variant would hold a checksum)

const MAGIC = '070701';
const HEADER_BYTES = 110;
const TRAILER = 'TRAILER!!!';

/** File type bits of st_mode (POSIX <sys/stat.h>). */
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

/** Builds a newc archive in memory. Paths are relative (`bin/busybox`); missing parent directories are added. */
export class CpioWriter {
  private readonly chunks: Buffer[] = [];
  private readonly paths = new Set<string>();
  private readonly directories = new Set<string>();
  private nextIno = 1;

  /** @param mtime modification time of every entry, fixed so that equal inputs give byte-identical archives. */
  constructor(private readonly mtime = 0) {}

  /** Adds a directory; adding one that is already there (say, as a parent added earlier) does nothing. */
  directory(path: string, permissions = 0o755): this {
    if (this.directories.has(path)) return this;
    this.addParents(path);
    this.directories.add(path);
    this.entry(path, S_IFDIR | permissions, 2, Buffer.alloc(0), 0, 0);
    return this;
  }

  file(path: string, data: Uint8Array, permissions = 0o644): this {
    this.addParents(path);
    this.entry(path, S_IFREG | permissions, 1, data, 0, 0);
    return this;
  }

  symlink(path: string, target: string): this {
    this.addParents(path);
    this.entry(path, S_IFLNK | 0o777, 1, Buffer.from(target, 'utf8'), 0, 0);
    return this;
  }

  characterDevice(path: string, major: number, minor: number, permissions = 0o600): this {
    this.addParents(path);
    this.entry(path, S_IFCHR | permissions, 1, Buffer.alloc(0), major, minor);
    return this;
  }

  /** Appends the trailer and returns the whole archive. The writer must not be used afterwards. */
  finish(): Buffer {
    this.header(TRAILER, 0, 0, 1, 0, 0, 0);
    return Buffer.concat(this.chunks);
  }

  private addParents(path: string): void {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      this.directory(parent);
    }
  }

  private entry(path: string, mode: number, nlink: number, data: Uint8Array, rdevMajor: number, rdevMinor: number): void {
    if (path === '' || path.startsWith('/') || path.split('/').some((part) => part === '' || part === '..')) {
      throw new Error(`cpio: path "${path}" must be relative, without empty or ".." components`);
    }
    if (this.paths.has(path)) throw new Error(`cpio: "${path}" is already in the archive`);
    this.paths.add(path);
    this.header(path, this.nextIno++, mode, nlink, data.length, rdevMajor, rdevMinor);
    this.chunks.push(Buffer.from(data.buffer, data.byteOffset, data.length), padding(data.length));
  }

  private header(path: string, ino: number, mode: number, nlink: number, size: number, rdevMajor: number, rdevMinor: number): void {
    const name = Buffer.from(`${path}\0`, 'utf8');
    const fields = [ino, mode, 0, 0, nlink, this.mtime, size, 0, 0, rdevMajor, rdevMinor, name.length, 0];
    const text = MAGIC + fields.map((value) => hex8(value)).join('');
    this.chunks.push(Buffer.from(text, 'ascii'), name, padding(HEADER_BYTES + name.length));
  }
}

function hex8(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new Error(`cpio: field value ${value} does not fit 32 bits`);
  return value.toString(16).padStart(8, '0');
}

/** Zero bytes that bring `length` up to the next multiple of 4. */
function padding(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}
