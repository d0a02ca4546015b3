// A PNG's width, height and pixels (8-bit RGB/RGBA, non-interlaced: what Chromium writes),
// for the screenshot checks here and in tests/server/js.
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";

export function decodePng(png) {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "not a PNG");
  let width, height, depth, colour, interlace;
  const idat = [];
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at), type = png.toString("latin1", at + 4, at + 8), body = png.subarray(at + 8, at + 8 + len);
    if (type === "IHDR") [width, height, depth, colour, interlace] = [body.readUInt32BE(0), body.readUInt32BE(4), body[8], body[9], body[12]];
    if (type === "IDAT") idat.push(body);
    if (type === "IEND") break;
    at += 12 + len;
  }
  assert.ok(depth === 8 && (colour === 2 || colour === 6) && interlace === 0, `PNG type ${depth}/${colour}/${interlace}`);
  const bpp = colour === 6 ? 4 : 3, stride = width * bpp;
  const raw = inflateSync(Buffer.concat(idat));
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride), prev = y ? pixels.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[x - bpp] : 0, b = prev[x], c = x >= bpp ? prev[x - bpp] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter];
      out[x] = (line[x] + pred) & 0xff;
    }
  }
  return { width, height, bpp, pixels };
}

// Pixels darker than 96 in every channel inside a box (page coordinates = screenshot pixels):
// painted text on a light background.
export function darkPixels({ width, bpp, pixels }, box) {
  let dark = 0;
  for (let y = Math.floor(box.y); y < Math.ceil(box.y + box.height); y++)
    for (let x = Math.floor(box.x); x < Math.ceil(box.x + box.width); x++) {
      const p = (y * width + x) * bpp;
      if (pixels[p] < 96 && pixels[p + 1] < 96 && pixels[p + 2] < 96) dark++;
    }
  return dark;
}
