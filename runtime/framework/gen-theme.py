#!/usr/bin/env python3
"""Writes the framework's theme/resource XML: styles, palettes and UI strings.

Deterministic (fixed seed), so every build ships the same file. The size and
shape follow a small device UI toolkit's resource bundle: a few hundred widget
styles with inherited properties, colour palettes, and translated strings for
several locales.
"""
import os
import random
import sys
from xml.sax.saxutils import escape

LOCALES = ["en", "de", "fr", "es", "it", "pt", "nl"]
WIDGETS = ["button", "label", "list", "listitem", "slider", "switch", "tab",
           "toolbar", "dialog", "card", "icon", "textfield", "menu", "header",
           "footer", "badge", "progress", "spinner", "toast", "grid"]
STATES = ["normal", "pressed", "focused", "disabled", "selected"]
WORDS = ("open close save delete share send reply forward archive search settings "
         "display sound network battery storage privacy account alarm timer "
         "stopwatch album photo video playlist artist song note title edit undo "
         "redo cancel confirm message contact call camera gallery music clock").split()


def main(out: str) -> None:
    rnd = random.Random(4)
    parts: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>\n',
                        '<theme name="nuwa-default" version="3">\n']
    parts.append(' <palettes>\n')
    for p in range(8):
        parts.append(f'  <palette id="p{p}">\n')
        for c in range(32):
            parts.append(f'   <color name="c{c}" value="#{rnd.randrange(1 << 24):06x}"'
                         f' alpha="{rnd.randrange(256)}"/>\n')
        parts.append('  </palette>\n')
    parts.append(' </palettes>\n <styles>\n')
    for w in WIDGETS:
        for v in range(12):
            parent = f' parent="{w}.{v - 1}"' if v else ''
            parts.append(f'  <style id="{w}.{v}"{parent}>\n')
            for s in STATES:
                parts.append(
                    f'   <state name="{s}" fg="p{rnd.randrange(8)}.c{rnd.randrange(32)}"'
                    f' bg="p{rnd.randrange(8)}.c{rnd.randrange(32)}"'
                    f' font="sans-{rnd.choice([10, 12, 14, 16, 20])}"'
                    f' padding="{rnd.randrange(2, 16)} {rnd.randrange(2, 16)}"'
                    f' radius="{rnd.randrange(0, 12)}"/>\n')
            parts.append('  </style>\n')
    parts.append(' </styles>\n <strings>\n')
    for k in range(200):
        key = "_".join(rnd.sample(WORDS, 2)) + f"_{k}"
        parts.append(f'  <string key="{key}">\n')
        for loc in LOCALES:
            text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(2, 9)))
            parts.append(f'   <t lang="{loc}">{escape(text.capitalize())}</t>\n')
        parts.append('  </string>\n')
    parts.append(' </strings>\n</theme>\n')
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("".join(parts))
    os.replace(tmp, out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: gen-theme.py OUT.xml")
    main(sys.argv[1])
