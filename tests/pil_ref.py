"""Reference outputs from Pillow for tests/test_resize.c (run with Debian's python3-pil).

  pil_ref.py resize SRC.raw W H OUT.raw OW OH   bicubic resize of raw RGB
  pil_ref.py decode FILE OUT.raw                decode to raw RGB, prints "W H"
"""
import sys

from PIL import Image


def main(argv):
    if argv[1] == "resize":
        src, w, h, out, ow, oh = argv[2], int(argv[3]), int(argv[4]), argv[5], int(argv[6]), int(argv[7])
        with open(src, "rb") as f:
            im = Image.frombytes("RGB", (w, h), f.read())
        with open(out, "wb") as f:
            f.write(im.resize((ow, oh), Image.BICUBIC).tobytes())
    elif argv[1] == "decode":
        im = Image.open(argv[2]).convert("RGB")
        with open(argv[3], "wb") as f:
            f.write(im.tobytes())
        print(im.size[0], im.size[1])
    else:
        raise SystemExit("unknown mode " + argv[1])


if __name__ == "__main__":
    main(sys.argv)
