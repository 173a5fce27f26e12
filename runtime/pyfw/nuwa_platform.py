"""The Python side of libnuwapy: the platform start-up and the app object.

startup() runs once per template (or once per exec'd app, the same code):
the preload imports and real work with them, then gc.collect() and, when
configured, gc.freeze(), so the objects built here are shared by every
child. launch() runs in the app process: reseed random, import the app's
module, call its main(app).
"""

from __future__ import annotations

import gc
import importlib
import json
import linecache
import os
import random
import sys
import traceback
from collections.abc import Callable
from typing import Any

import _nuwa  # the loop, in libnuwapy.so

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
CA_DIR = "/usr/share/ca-certificates"
FALLBACK_THEME = (
    "<theme name='default'>"
    + "".join(f"<style name='s{i}' color='#{i:06x}' size='{10 + i % 8}'/>" for i in range(64))
    + "".join(f"<string id='t{i}'>text {i}</string>" for i in range(128))
    + "</theme>"
)

# What start-up built; module-level so every child finds it (the tests
# check a child sees the template's objects).
profile: dict[str, Any] = {}
state: dict[str, Any] = {}


def _work(modules: dict[str, Any], data_dir: str, ca: str) -> None:
    """Do with each preloaded module the work a device app would."""
    if "ssl" in modules:
        ssl = modules["ssl"]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ca = ca or (CA_BUNDLE if os.path.exists(CA_BUNDLE) else CA_DIR)
        if os.path.isdir(ca):
            for root, _dirs, files in os.walk(ca):
                for f in files:
                    if f.endswith(".crt"):
                        ctx.load_verify_locations(cafile=os.path.join(root, f))
        else:
            ctx.load_verify_locations(cafile=ca)
        state["ssl_context"] = ctx
        profile["ca_certs"] = ctx.cert_store_stats()["x509_ca"]
    if "sqlite3" in modules:
        sqlite3 = modules["sqlite3"]
        db = sqlite3.connect(":memory:", check_same_thread=False)
        db.executescript(
            "CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT);"
            "CREATE TABLE log(t REAL, app TEXT, line TEXT);"
            "CREATE INDEX log_app ON log(app, t);"
        )
        for q in ("SELECT v FROM kv WHERE k = ?", "INSERT OR REPLACE INTO kv VALUES (?, ?)",
                  "SELECT line FROM log WHERE app = ? ORDER BY t DESC LIMIT 10"):
            db.execute(q, ("x",) if q.count("?") == 1 else ("x", "y"))  # prepared, cached
        state["db"] = db
        profile["db_tables"] = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
    if "xml.etree.ElementTree" in modules:
        et = modules["xml.etree.ElementTree"]
        theme_path = os.path.join(data_dir, "theme.xml") if data_dir else ""
        root = et.parse(theme_path).getroot() if theme_path and os.path.exists(theme_path) \
            else et.fromstring(FALLBACK_THEME)
        state["theme"] = root
        profile["theme_elements"] = sum(1 for _ in root.iter())
    if "re" in modules:
        re = modules["re"]
        state["patterns"] = {
            "word": re.compile(r"\w+"),
            "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
            "iso_date": re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
            "number": re.compile(r"-?\d+(?:\.\d+)?"),
        }
        profile["regexes"] = len(state["patterns"])
    if "json" in modules:
        state["defaults"] = modules["json"].loads('{"units": "metric", "refresh_s": 60}')
    if "logging" in modules:
        modules["logging"].basicConfig(stream=sys.stderr, level=modules["logging"].INFO,
                                       format="%(name)s: %(message)s")
    if "hashlib" in modules:
        profile["digest"] = modules["hashlib"].sha256(FALLBACK_THEME.encode()).hexdigest()[:16]


def _warm_tracebacks() -> None:
    """Format one traceback now: what an app's failure needs (linecache,
    tokenize, the utf-8 codec) is then loaded before the sandbox closes."""
    try:
        raise RuntimeError("warm-up")
    except RuntimeError:
        traceback.format_exc()
    linecache.clearcache()


def startup(preload: str, data_dir: str, ca: str, gc_freeze: bool) -> None:
    """The platform's start-up: imports, their work, then the collector."""
    names = [n for n in preload.split(",") if n]
    modules: dict[str, Any] = {}
    for name in names:
        try:
            modules[name] = importlib.import_module(name)
        except ImportError as e:
            raise ImportError(f"preload module '{name}': {e}") from e
    _work(modules, data_dir, ca)
    _warm_tracebacks()
    gc.collect()
    if gc_freeze:
        gc.freeze()
    profile["preloaded"] = len(modules)
    profile["gc_frozen"] = gc.get_freeze_count()
    profile["template_pid"] = os.getpid()


class App:
    """What an app's main(app) gets; every call is made on the loop."""

    def __init__(self, name: str, args: list[str], mode: str) -> None:
        self.name = name
        self.args = args
        self.mode = mode

    def ready(self) -> None:
        _nuwa.ready()

    def add_timer(self, ms: int, cb: Callable[[], None], repeat: bool = False) -> int:
        return int(_nuwa.add_timer(ms, repeat, cb))

    def cancel_timer(self, timer_id: int) -> bool:
        return bool(_nuwa.cancel_timer(timer_id))

    def watch_fd(self, fd: int, cb: Callable[[int, int], None], events: int = 1) -> None:
        """events: epoll bits (1 = EPOLLIN, 4 = EPOLLOUT); cb(fd, revents)."""
        _nuwa.watch_fd(fd, events, cb)

    def unwatch_fd(self, fd: int) -> bool:
        return bool(_nuwa.unwatch_fd(fd))

    def on_request(self, cb: Callable[[str], str] | None) -> None:
        """cb(text) -> reply; requests starting "nuwa:" are the platform's."""
        if cb is None:
            _nuwa.on_request(None)
            return
        app_cb = cb

        def request(text: str) -> str:
            return platform_request(text) if text.startswith("nuwa:") else app_cb(text)
        _nuwa.on_request(request)

    def on_trim(self, cb: Callable[[str], int] | None) -> None:
        _nuwa.on_trim(cb)

    def quit(self, status: int = 0) -> None:
        _nuwa.quit(status)


def gc_report() -> str:
    """The collector's work in this process, JSON (not from gc.get_objects():
    that would touch, and so copy, every tracked object)."""
    stats = gc.get_stats()
    return json.dumps({"collections": [g["collections"] for g in stats],
                       "collected": [g["collected"] for g in stats],
                       "counts": list(gc.get_count()), "frozen": gc.get_freeze_count()})


def platform_request(text: str) -> str:
    """Requests every Python app answers: "nuwa:gc" (gc_report), "nuwa:collect"
    (a full collection, what a trim does, then gc_report)."""
    if text == "nuwa:gc":
        return gc_report()
    if text == "nuwa:collect":
        gc.collect()
        return gc_report()
    raise ValueError(f"unknown platform request {text!r} (want nuwa:gc, nuwa:collect)")


def launch(name: str, args: list[str], mode: str, module_name: str = "") -> str | None:
    """Start app NAME from its module (MODULE_NAME, default NAME). None, or
    the error text for nuwad."""
    try:
        random.seed()  # from os.urandom: the template's state is every child's
        module = importlib.import_module(module_name or name)
        main = getattr(module, "main", None)
        if main is None:
            return f"python app {name}: module has no main(app)"
        main(App(name, args, mode))
    except BaseException as e:  # noqa: BLE001 - any failure fails the launch
        try:
            traceback.print_exc(file=sys.stderr)
        except Exception:  # noqa: BLE001 - the source may be unreadable
            print(f"{name}: {e!r}", file=sys.stderr)
        last = traceback.format_exception_only(type(e), e)[-1].strip()
        return f"python app {name}: {last}"
    return None
