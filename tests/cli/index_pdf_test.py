#!/usr/bin/env python3
"""`lmx index add` and `lmx search` on a PDF, through poppler's pdftotext as users run them:
a page without a text layer is reported as needing OCR (not silently skipped), results
name their page, and adding the unchanged file again is a no-op.

    python3 tests/cli/index_pdf_test.py path/to/lmx
Exit 77 (skipped) when the embedding model is not installed, except under CI.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import text_pdf  # noqa: E402

lmx = sys.argv[1]
model = os.path.join(os.environ.get("LMX_HOME", os.path.expanduser("~/.cache/lmx/models")), "all-minilm-l6-v2")
if not os.path.isdir(model):
    print(f"SKIPPED: embedding model not installed at {model} (run scripts/setup.sh)")
    sys.exit(1 if os.environ.get("CI") else 77)


def run(*args):
    r = subprocess.run([lmx, *args], capture_output=True, text=True)
    assert r.returncode == 0, f"lmx {' '.join(args)} failed ({r.returncode}): {r.stderr}"
    return r


with tempfile.TemporaryDirectory() as tmp:
    pdf, db = os.path.join(tmp, "three.pdf"), os.path.join(tmp, "three.db")
    text_pdf.write_pdf(pdf, [["The lighthouse keeper polished the great lens every evening.",
                              "Ships passed safely along the rocky coast."],
                             [],
                             ["Sourdough bread needs a lively starter, flour, water and salt.",
                              "Bake it hot in a covered pot."]])
    err = run("index", "add", "--db", db, pdf).stderr
    assert "page 2 has no text layer; it needs OCR" in err, err
    assert "3 page(s), 2 chunks indexed" in err, err
    hits = run("search", "--db", db, "-k", "2", "how do I bake bread").stdout.splitlines()
    assert len(hits) == 2, hits
    assert hits[0].split("\t")[2] == f"{pdf}:3:1" and "Sourdough" in hits[0], hits
    assert hits[1].split("\t")[2] == f"{pdf}:1:1", hits
    err = run("index", "add", "--db", db, pdf).stderr
    assert "unchanged, skipped" in err and "holds 1 documents, 2 chunks" in err, err
print("index_pdf_test: OCR page reported, page numbers in results, unchanged file skipped")
