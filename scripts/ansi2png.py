#!/usr/bin/env python3
"""Render `tmux capture-pane -p -e` output (text with SGR escapes) to a PNG.

    ansi2png.py INPUT.ans OUTPUT.png [--cols N] [--rows N] [--title TEXT]

Needs Pillow (pip install pillow) and DejaVu Sans Mono (Debian: fonts-dejavu-core).
Understands the SGR codes tmux emits: reset, bold, dim, underline, reverse, 8/16 colours,
256 colours (38;5;n / 48;5;n) and truecolour (38;2;r;g;b).
"""
import argparse
import re
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
BG = (24, 24, 28)
FG = (212, 212, 212)
BASE16 = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16),
    (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
    (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]


def color256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


class Pen:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = self.dim = self.underline = self.reverse = False

    def apply(self, params):
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 4:
                self.underline = True
            elif c == 7:
                self.reverse = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 24:
                self.underline = False
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = BASE16[c - 30]
            elif c == 39:
                self.fg = None
            elif 40 <= c <= 47:
                self.bg = BASE16[c - 40]
            elif c == 49:
                self.bg = None
            elif 90 <= c <= 97:
                self.fg = BASE16[c - 90 + 8]
            elif 100 <= c <= 107:
                self.bg = BASE16[c - 100 + 8]
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    col = color256(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    col = tuple(codes[i + 2:i + 5])
                    i += 4
                else:
                    col = None
                if c == 38:
                    self.fg = col
                else:
                    self.bg = col
            i += 1

    def colors(self):
        fg = self.fg or FG
        bg = self.bg or BG
        if self.reverse:
            fg, bg = (self.bg or BG), (self.fg or FG)
        if self.dim:
            fg = tuple((a + b) // 2 for a, b in zip(fg, bg))
        return fg, bg


SGR = re.compile(r"\x1b\[([0-9;]*)m|\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]")


def parse(text, cols, rows):
    """A grid of (char, fg, bg, bold, underline); wide characters take two cells."""
    blank = lambda: [(" ", FG, BG, False, False) for _ in range(cols)]
    grid = [blank() for _ in range(rows)]
    pen = Pen()
    for y, line in enumerate(text.split("\n")[:rows]):
        x = 0
        pos = 0
        # tmux does not repeat the SGR state at the start of a line: the pen carries over.
        for m in list(SGR.finditer(line)) + [None]:
            end = m.start() if m else len(line)
            for ch in line[pos:end]:
                w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
                if unicodedata.combining(ch) and x > 0:
                    continue
                if x + w > cols:
                    break
                fg, bg = pen.colors()
                grid[y][x] = (ch, fg, bg, pen.bold, pen.underline)
                if w == 2:
                    grid[y][x + 1] = ("", fg, bg, pen.bold, pen.underline)
                x += w
            if m is None:
                break
            if m.group(1) is not None:
                pen.apply(m.group(1))
            pos = m.end()
    return grid


def render(grid, out, title=None, size=16):
    regular = ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", size)
    bold = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", size)
    cw = int(round(regular.getlength("M")))
    asc, desc = regular.getmetrics()
    ch = asc + desc + 2
    pad = 12
    top = pad + (ch + 10 if title else 0)
    rows, cols = len(grid), len(grid[0])
    img = Image.new("RGB", (cols * cw + 2 * pad, rows * ch + top + pad), BG)
    d = ImageDraw.Draw(img)
    if title:
        d.text((pad, pad), title, font=bold, fill=(150, 150, 160))
    for y, row in enumerate(grid):
        for x, (c, fg, bg, b, u) in enumerate(row):
            px, py = pad + x * cw, top + y * ch
            if bg != BG:
                w = cw * (2 if x + 1 < cols and row[x + 1][0] == "" else 1)
                d.rectangle([px, py, px + w - 1, py + ch - 1], fill=bg)
            if c and c != " ":
                d.text((px, py + 1), c, font=bold if b else regular, fill=fg)
            if u:
                d.line([px, py + ch - 3, px + cw - 1, py + ch - 3], fill=fg)
    img.save(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=34)
    ap.add_argument("--title")
    a = ap.parse_args()
    with open(a.input, encoding="utf-8", errors="replace") as f:
        text = f.read()
    render(parse(text, a.cols, a.rows), a.output, a.title)


if __name__ == "__main__":
    main()
