#!/usr/bin/env python3
"""mkdetect - the messages of t14_detection, one file per case

Usage: mkdetect.py OUTDIR PE_SAMPLE CLAM_EXE

Writes OUTDIR/CASE.eml for every case below and prints one line per case:
"CASE EXPECTED", EXPECTED being the verdict the filter must reach with
the test's settings (banned, infected or unchecked). PE_SAMPLE is a
harmless PE program (tests/data/samples/mksamples makes one); CLAM_EXE is
the ClamAV test file (clamav-testfiles), which the test signatures
detect. The messages are built here, with the standard library only, so
that each case is exactly what its name says.
"""
import base64
import binascii
import io
import os
import sys
import zipfile

EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!"
         b"$H+H*")


def headers(case, ctype):
    """headers - the top-level header block of a case"""
    return ("From: Sender <sender@example.com>\n"
            f"To: Rcpt <{case}@example.net>\n"
            f"Subject: postsift detection case {case}\n"
            f"Message-ID: <{case}.detect@postsift.test>\n"
            "MIME-Version: 1.0\n"
            f"Content-Type: {ctype}\n")


def b64(data):
    """b64 - base64 lines of 76 characters"""
    text = base64.b64encode(data).decode()
    return "\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + "\n"


def attachment(case, data, ctype, name=None):
    """attachment - a text part and one base64 part; no name when None"""
    boundary = f"=_detect_{case}"
    params = f'; name="{name}"' if name is not None else ""
    disp = ('Content-Disposition: attachment; filename="%s"\n' % name
            if name is not None else "Content-Disposition: attachment\n")
    return (headers(case, f'multipart/mixed; boundary="{boundary}"') + "\n"
            f"--{boundary}\n"
            "Content-Type: text/plain; charset=us-ascii\n\n"
            "See the attachment.\n\n"
            f"--{boundary}\n"
            f"Content-Type: {ctype}{params}\n"
            "Content-Transfer-Encoding: base64\n"
            f"{disp}\n"
            + b64(data) +
            f"--{boundary}--\n")


def uuencoded(data, name):
    """uuencoded - 'begin 644 NAME' ... 'end', as old mail clients wrote it"""
    lines = [f"begin 644 {name}"]
    for i in range(0, len(data), 45):
        lines.append(binascii.b2a_uu(data[i:i + 45]).decode().rstrip("\n"))
    lines += ["`", "end"]
    return "\n".join(lines) + "\n"


def inline_uu(case, data, name):
    """inline_uu - a text/plain body with a uuencoded file inside it"""
    return (headers(case, "text/plain; charset=us-ascii") + "\n"
            "Here is the file you asked for.\n\n"
            + uuencoded(data, name) +
            "\nRegards.\n")


def zipped(members):
    """zipped - a zip archive of (name, bytes) members"""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def main():
    """main - write every case"""
    if len(sys.argv) != 4:
        sys.exit("usage: mkdetect.py OUTDIR PE_SAMPLE CLAM_EXE")
    out, pe_path, clam_path = sys.argv[1:]
    with open(pe_path, "rb") as f:
        pe = f.read()
    with open(clam_path, "rb") as f:
        clam = f.read()
    inner = zipped([("invoice.exe", pe)])
    good = zipped([("readme.txt", b"nothing to see\n" * 40)])
    cases = [
        # A Windows program under a harmless name, or none, by true type.
        ("pe-notes", "banned", attachment("pe-notes", pe, "text/plain", "notes.txt")),
        ("pe-statement", "banned",
         attachment("pe-statement", pe, "application/pdf", "statement.pdf")),
        ("pe-noname", "banned", attachment("pe-noname", pe, "application/octet-stream")),
        # Malware uuencoded inside a text body.
        ("uu-eicar", "infected", inline_uu("uu-eicar", EICAR, "readme.txt")),
        ("uu-clam", "infected", inline_uu("uu-clam", clam, "update.dat")),
        # An executable inside a zip: by name, by true type, and nested.
        ("zip-exe", "banned",
         attachment("zip-exe", inner, "application/zip", "docs.zip")),
        ("zip-type", "banned",
         attachment("zip-type", zipped([("readme.txt", pe)]), "application/zip", "docs.zip")),
        ("zip-zip", "banned",
         attachment("zip-zip", zipped([("inner.zip", inner)]), "application/zip", "docs.zip")),
        # Archives that cannot be listed whole are unchecked, never clean.
        ("zip-corrupt", "unchecked",
         attachment("zip-corrupt", good[:len(good) // 2] + b"\0" * 64, "application/zip",
                    "docs.zip")),
        ("zip-many", "unchecked",
         attachment("zip-many", zipped([(f"page{i:03d}.txt", b"page\n") for i in range(40)]),
                    "application/zip", "pages.zip")),
        # The control: a harmless zip is clean.
        ("zip-clean", "clean", attachment("zip-clean", good, "application/zip", "docs.zip")),
    ]
    os.makedirs(out, exist_ok=True)
    for case, verdict, text in cases:
        with open(os.path.join(out, case + ".eml"), "w", encoding="ascii") as f:
            f.write(text)
        print(case, verdict)


if __name__ == "__main__":
    main()
