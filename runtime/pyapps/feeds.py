"""Feeds: a feed reader parsing RSS with xml.etree and re (sample app).

The device has no network for it, so each refresh builds the RSS document
a feed server would send (new items every time, HTML in the descriptions)
and parses it like a downloaded one: ElementTree for the XML, regexes for
the HTML and the links, a digest per item to skip the ones already seen.

Requests: "status", "items N" (the N newest, JSON), "search WORD" (titles
and texts containing WORD, JSON), "links" (how many distinct hosts),
"refresh N" (N refreshes at once).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
import xml.etree.ElementTree as ET
from html import escape

import nuwa_platform

TAG = re.compile(r"<[^>]+>")
SPACE = re.compile(r"\s+")
LINK = re.compile(r"https?://([\w.-]+)(/[\w./-]*)?")
WORDS = ("sensor", "update", "release", "storm", "market", "garden", "train", "energy",
         "report", "music", "city", "river", "school", "bridge", "festival", "harbour")
KEEP = 200
DATE = "%a, %d %b %Y %H:%M:%S +0000"  # RFC 822, as RSS has it


class Feeds:
    def __init__(self, app: nuwa_platform.App) -> None:
        self.app = app
        self.items: list[dict[str, str]] = []
        self.seen: set[str] = set()
        self.hosts: set[str] = set()
        self.refreshes = 0
        self.serial = 0

    def document(self, new: int = 10, again: int = 3) -> str:
        """The RSS a server would send: NEW new items after AGAIN old ones."""
        parts = ["<?xml version='1.0'?><rss version='2.0'><channel><title>news</title>"]
        for serial in range(max(0, self.serial - again), self.serial + new):
            rng = random.Random(serial)
            title = " ".join(rng.choice(WORDS) for _ in range(4))
            body = (f"<p>The <b>{rng.choice(WORDS)}</b> {rng.choice(WORDS)} at "
                    f"<a href='https://news{serial % 7}.example.org/a/{serial}'>"
                    f"{rng.choice(WORDS)}</a>.</p>")
            parts.append(f"<item><guid>item-{serial}</guid><title>{escape(title)}</title>"
                         f"<pubDate>{time.strftime(DATE, time.gmtime(time.time() - serial))}"
                         "</pubDate>"
                         f"<description>{escape(body)}</description></item>")
        self.serial += new
        parts.append("</channel></rss>")
        return "".join(parts)

    def refresh(self) -> None:
        """Periodic work: fetch (build) and parse the feed, keep the new items."""
        root = ET.fromstring(self.document())
        for item in root.iter("item"):
            guid = item.findtext("guid", "")
            digest = hashlib.sha1(guid.encode()).hexdigest()
            if digest in self.seen:
                continue
            self.seen.add(digest)
            html = item.findtext("description", "")
            self.hosts.update(m.group(1) for m in LINK.finditer(html))
            self.items.append({"id": guid, "title": item.findtext("title", ""),
                               "date": item.findtext("pubDate", ""),
                               "text": SPACE.sub(" ", TAG.sub("", html)).strip(),
                               "digest": digest})
        # Only the kept items' digests are remembered: the working set stays
        # bounded (a feed repeats recent items, never ones this old).
        for old in self.items[:-KEEP]:
            self.seen.discard(old["digest"])
        del self.items[:-KEEP]
        self.refreshes += 1

    def request(self, text: str) -> str:
        cmd, _, arg = text.partition(" ")
        if cmd == "status":
            return (f"feeds refreshes={self.refreshes} items={len(self.items)} "
                    f"seen={len(self.seen)} mode={self.app.mode}")
        if cmd == "refresh":  # N refreshes now (what N timer ticks would do)
            for _ in range(int(arg or 1)):
                self.refresh()
            return str(self.refreshes)
        if cmd == "items":
            return json.dumps([{k: v for k, v in i.items() if k != "digest"}
                               for i in self.items[-int(arg or 5):][::-1]])
        if cmd == "search":
            word = arg.lower()
            return json.dumps([i["id"] for i in self.items
                               if word in i["title"] or word in i["text"]])
        if cmd == "links":
            return str(len(self.hosts))
        raise ValueError(f"unknown request {text!r} (want status, items N, search WORD, links, "
                         "refresh N)")


def main(app: nuwa_platform.App) -> None:
    f = Feeds(app)
    app.on_request(f.request)
    app.add_timer(500, f.refresh, repeat=True)
    f.refresh()
    app.ready()
