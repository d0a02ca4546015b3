#!/usr/bin/env python3
"""Writes a PDF of text pages with no library: one Helvetica text object a page, lines
from the given paragraphs, pages without text where asked (as scans have). The PDF 1.4
subset every reader accepts: catalog, page tree, pages, content streams, an xref table.

    python3 bench/text_pdf.py OUT.pdf PAGES [--blank N ...] < text
"""
import argparse
import sys
import textwrap


def escape(line):
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path, pages):
    """pages: a list of lists of lines (an empty list: a page with no text layer)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        ops = "".join(f"({escape(l)}) Tj T* " for l in lines)
        stream = f"BT /F1 10 Tf 12 TL 50 780 Td {ops}ET" if lines else ""
        objects.append(f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
                       f"/Contents {len(objects)} 0 R >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    with open(path, "wb") as f:
        f.write(out)


def paged(text, n_pages, lines_per_page=60, width=95, blank=()):
    """n_pages pages of the text's lines (repeated as needed), pages in `blank` empty."""
    lines = [l for para in text.split("\n\n") for l in textwrap.wrap(" ".join(para.split()), width) + [""]]
    lines = [l.encode("latin-1", "replace").decode("latin-1") for l in lines]
    pages, at = [], 0
    for p in range(n_pages):
        if p in blank:
            pages.append([])
            continue
        pages.append([lines[(at + i) % len(lines)] for i in range(lines_per_page)])
        at += lines_per_page
    return pages


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("pages", type=int)
    ap.add_argument("--blank", type=int, action="append", default=[], help="0-based page without text (repeatable)")
    args = ap.parse_args()
    write_pdf(args.out, paged(sys.stdin.read(), args.pages, blank=set(args.blank)))


if __name__ == "__main__":
    main()
