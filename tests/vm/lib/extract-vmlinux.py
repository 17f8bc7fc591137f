#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# extract-vmlinux.py BZIMAGE OUTPUT
# Find the compressed payload inside an x86 bzImage (xz, gzip, zstd, lzma,
# bzip2), decompress it and write the ELF vmlinux to OUTPUT. qemu boots the
# ELF directly through its PVH entry point, which skips the decompressor.
import bz2, gzip, lzma, shutil, subprocess, sys, zlib

def try_xz(data, off):
    d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    return d.decompress(data[off:])

def try_gzip(data, off):
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    return d.decompress(data[off:])

def try_lzma(data, off):
    d = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE)
    return d.decompress(data[off:])

def try_bzip2(data, off):
    return bz2.BZ2Decompressor().decompress(data[off:])

def try_zstd(data, off):
    if not shutil.which("zstd"):
        raise ValueError("no zstd")
    p = subprocess.run(["zstd", "-dc"], input=data[off:], capture_output=True)
    return p.stdout  # trailing garbage makes zstd fail, output is still valid

FORMATS = [
    (b"\xfd7zXZ\x00", try_xz),
    (b"\x28\xb5\x2f\xfd", try_zstd),
    (b"\x1f\x8b\x08", try_gzip),
    (b"\x5d\x00\x00", try_lzma),
    (b"BZh", try_bzip2),
]

def main():
    if len(sys.argv) != 3:
        sys.exit("usage: extract-vmlinux.py BZIMAGE OUTPUT")
    data = open(sys.argv[1], "rb").read()
    if data[:4] == b"\x7fELF":
        open(sys.argv[2], "wb").write(data)
        return
    for magic, fn in FORMATS:
        off = data.find(magic)
        while off >= 0:
            try:
                out = fn(data, off)
            except Exception:
                out = b""
            if out[:4] == b"\x7fELF":
                with open(sys.argv[2], "wb") as f:
                    f.write(out)
                return
            off = data.find(magic, off + 1)
    sys.exit("extract-vmlinux: no compressed ELF kernel found in " + sys.argv[1])

main()
