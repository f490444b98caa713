"""Feed, transcript and user text reaches the page only through the safe renderer (issue 17).

Streamlit renders Markdown in far more places than ``st.markdown``: titles, captions, alerts,
toasts, every widget label and tooltip (``help=``), expander/popover/tab/page-link labels,
radio/pills/segmented options, progress and status text.  An item title with
``![img](http://host/beacon.png)`` in any of them is an image the browser fetches: a tracking
pixel.  This test reads every ``app_pages/`` and ``ui/`` file and fails on any such call whose
text is not provably safe:

* a literal, or an f-string whose every ``{}`` is safe or has a numeric format (``{n:d}``,
  ``{x:.1f}``, ``{n:,}``: those raise on text);
* a call of a safe renderer (:data:`SAFE_MD` for Markdown, :data:`SAFE_HTML` for ``st.html``),
  or of a function in these files whose every ``return`` is safe (found by the same rules);
* ``+``, ``" · ".join(...)``, ``x if c else y``, lists, comprehensions of safe parts; a local
  name whose every assignment (and ``.append``) is safe; a constant of our own code
  (``induction.PRESETS``, ``K``: upper-case names are written by us, never by a feed).

Anything else (an attribute like ``ep.title``, ``str(e)``, a parameter) fails.  A reviewed
exception is marked on its line with ``# safe-render: <why>``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted([*REPO.glob("app_pages/*.py"), *REPO.glob("ui/*.py")])

# Renderers whose output is inert Markdown / HTML whatever their input (ui/render.py).
SAFE_MD = {"md_text", "md_link", "md_app_link", "linkify_md", "notes_markdown"}
SAFE_HTML = {"esc", "highlight_html", "linkify_html"}
# Whatever their input, these return digits, clock times or fixed words.
SAFE_BOTH = {"fmt_time", "fmt_duration", "len", "int", "float", "round", "abs", "min", "max"}
# Methods that keep a safe string safe (no new Markdown from nothing).
SAFE_METHODS = {"strip", "rstrip", "lstrip", "lower", "upper", "split", "splitlines", "format"}

# Calls whose first positional argument is Markdown (or a Markdown label).
MD_FIRST_ARG = {
    "markdown", "caption", "title", "header", "subheader", "toast", "error", "warning", "info",
    "success", "button", "expander", "popover", "checkbox", "toggle", "text_input", "text_area",
    "number_input", "slider", "select_slider", "selectbox", "radio", "multiselect",
    "segmented_control", "pills", "download_button", "link_button", "form_submit_button",
    "metric", "status", "spinner", "tabs", "chat_input", "color_picker", "date_input",
    "time_input", "file_uploader", "camera_input", "feedback",
}  # fmt: skip
MD_KEYWORDS = {"label", "help", "text", "body"}
# Options rendered as Markdown (not selectbox/multiselect: their options are plain text).
MD_OPTIONS = {"radio", "segmented_control", "pills"}
HTML_CALLS = {"html", "iframe"}
WRITE_CALLS = {"write"}  # st.write renders every str argument as Markdown
_CONSTANT = re.compile(r"[A-Z][A-Z0-9_]*")
_NUMERIC_SPEC = re.compile(r"[-+ #0-9,_.]*[bcdeEfFgGnoxX%]$|.*,$")


@dataclass
class Finding:
    path: str
    line: int
    call: str
    source: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: st.{self.call}(...) gets unescaped text: {self.source}"


class Checker:
    """Decides whether an expression can only produce safe Markdown (or HTML)."""

    def __init__(self, tree: ast.Module, lines: list[str]) -> None:
        self.tree = tree
        self.lines = lines
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.functions = {
            n.name: n
            for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        self._fn_cache: dict[tuple[str, str], bool] = {}
        self._busy: set[object] = set()

    # -- scopes -----------------------------------------------------------------------------

    def scope_of(self, node: ast.AST) -> ast.AST:
        p = self.parents.get(node)
        while p is not None and not isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef)):
            p = self.parents.get(p)
        return p or self.tree

    def bindings(self, name: str, scope: ast.AST) -> list[ast.AST] | None:
        """The expressions assigned to ``name`` in ``scope`` (``None``: bound some other way,
        e.g. a parameter or a loop variable, so unknown)."""
        values: list[ast.AST] = []
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = scope.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            if any(a is not None and a.arg == name for a in every):
                return None
        for node in ast.walk(scope):
            if node is not scope and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        values.append(node.value)
                    elif isinstance(target, (ast.Tuple, ast.List)) and any(
                        isinstance(e, ast.Name) and e.id == name for e in target.elts
                    ):
                        value = node.value
                        if not (
                            isinstance(value, (ast.Tuple, ast.List))
                            and len(value.elts) == len(target.elts)
                        ):
                            values.append(value)  # unpacked: safe if the whole is
                            continue
                        for e, v in zip(target.elts, value.elts, strict=True):
                            if isinstance(e, ast.Name) and e.id == name:
                                values.append(v)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                if isinstance(node.target, ast.Name) and node.target.id == name:
                    if node.value is None:
                        continue
                    values.append(node.value)
            elif isinstance(node, (ast.For, ast.With, ast.NamedExpr)):
                targets = (
                    [node.target]
                    if isinstance(node, (ast.For, ast.NamedExpr))
                    else [i.optional_vars for i in node.items if i.optional_vars is not None]
                )
                for t in targets:
                    if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(t)):
                        return None
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                recv = node.func.value
                if isinstance(recv, ast.Name) and recv.id == name:
                    # Whatever goes into a list, dict or set: it is what comes out of it.
                    if node.func.attr in ("append", "insert", "add", "extend", "update"):
                        values.extend(node.args[-1:])
                        values.extend(k.value for k in node.keywords)
                    elif node.func.attr == "setdefault":
                        values.extend(node.args[1:])
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == name
                    ):
                        values.append(node.value)  # name[k] = value
        if not values and scope is not self.tree:
            return self.bindings(name, self.tree)
        return values or None

    # -- safety -----------------------------------------------------------------------------

    def safe_function(self, name: str, kind: str) -> bool:
        key = (name, kind)
        if key in self._fn_cache:
            return self._fn_cache[key]
        fn = self.functions.get(name)
        if fn is None or key in self._busy:
            return False
        self._busy.add(key)
        returns = [
            n.value
            for n in ast.walk(fn)
            if isinstance(n, ast.Return) and n.value is not None and self.scope_of(n) is fn
        ]
        ok = bool(returns) and all(self.safe(r, kind) for r in returns)
        self._busy.discard(key)
        self._fn_cache[key] = ok
        return ok

    def safe(self, node: ast.AST | None, kind: str = "md") -> bool:
        if node is None:
            return True
        marker = (id(node), kind)
        if marker in self._busy:
            return True  # a cycle (x = x + "..."): decided by the other bindings
        self._busy.add(marker)
        try:
            return self._safe(node, kind)
        finally:
            self._busy.discard(marker)

    def _safe(self, node: ast.AST, kind: str) -> bool:
        s = self.safe
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.JoinedStr):
            return all(s(v, kind) for v in node.values)
        if isinstance(node, ast.FormattedValue):
            spec = node.format_spec
            if isinstance(spec, ast.JoinedStr) and all(
                isinstance(v, ast.Constant) for v in spec.values
            ):
                text = "".join(str(v.value) for v in spec.values)
                if _NUMERIC_SPEC.match(text):
                    return True
            return s(node.value, kind)
        if isinstance(node, ast.BinOp):
            return s(node.left, kind) and s(node.right, kind)
        if isinstance(node, ast.UnaryOp):
            return s(node.operand, kind)
        if isinstance(node, ast.BoolOp):
            return all(s(v, kind) for v in node.values)
        if isinstance(node, ast.Compare):
            return True  # a bool
        if isinstance(node, ast.IfExp):
            return s(node.body, kind) and s(node.orelse, kind)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return all(s(e, kind) for e in node.elts)
        if isinstance(node, ast.Dict):
            return all(s(v, kind) for v in node.values)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return s(node.elt, kind)
        if isinstance(node, ast.Lambda):
            return s(node.body, kind)
        if isinstance(node, ast.Name):
            if self._comprehension_var_safe(node, kind):
                return True
            values = self.bindings(node.id, self.scope_of(node))
            return values is not None and all(s(v, kind) for v in values)
        if isinstance(node, ast.Subscript):
            return s(node.value, kind)  # an item of a safe list/dict
        if isinstance(node, ast.Attribute):
            if _CONSTANT.fullmatch(node.attr):
                return True  # ``grokking.PRESETS``: a constant written in our code, not a feed
            # ``MAPPING.get`` (a format_func) of a safe constant mapping
            return node.attr in ("get", "__getitem__") and s(node.value, kind)
        if isinstance(node, ast.Call):
            return self._safe_call(node, kind)
        return False

    def _comprehension_var_safe(self, node: ast.Name, kind: str) -> bool:
        p = self.parents.get(node)
        while p is not None and not isinstance(p, (ast.FunctionDef, ast.Module)):
            if isinstance(p, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
                for gen in p.generators:
                    if any(
                        isinstance(n, ast.Name) and n.id == node.id for n in ast.walk(gen.target)
                    ):
                        return self.safe(gen.iter, kind)
            p = self.parents.get(p)
        return False

    def _safe_call(self, node: ast.Call, kind: str) -> bool:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        allowed = (SAFE_MD if kind == "md" else SAFE_HTML) | SAFE_BOTH
        if name in allowed:
            return True
        if isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and name in _shared_functions():
                other = _shared_functions()[name]  # ``components.episode_meta_line(...)``
                return other.safe_function(name, kind)
            if name == "join":
                return self.safe(func.value, kind) and all(self.safe(a, kind) for a in node.args)
            if name in ("replace",):
                return self.safe(func.value, kind) and all(self.safe(a, kind) for a in node.args)
            if name in SAFE_METHODS:
                return self.safe(func.value, kind)
            if name == "get" and self.safe(func.value, kind):
                return all(self.safe(a, kind) for a in node.args[1:])
            return False
        if isinstance(func, ast.Name):
            if func.id in ("list", "tuple", "sorted", "reversed"):
                return all(self.safe(a, kind) for a in node.args)
            if func.id not in self.functions and func.id in _shared_functions():
                return _shared_functions()[func.id].safe_function(func.id, kind)
            return self.safe_function(func.id, kind)
        return False


_SHARED: dict[str, Checker] = {}


def _shared_functions() -> dict[str, Checker]:
    """The top-level functions of ``ui/`` (what pages import), each with its file's checker."""
    if not _SHARED:
        for path in REPO.glob("ui/*.py"):
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
            chk = Checker(tree, text.splitlines())
            for node in tree.body:
                if isinstance(node, ast.FunctionDef):
                    _SHARED.setdefault(node.name, chk)
    return _SHARED


def _call_name(node: ast.Call) -> str | None:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else None


def _exempt(lines: list[str], node: ast.AST) -> bool:
    end = getattr(node, "end_lineno", node.lineno)
    return any("# safe-render:" in lines[i - 1] for i in range(node.lineno, end + 1))


def findings_in(path: Path) -> list[Finding]:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines()
    chk = Checker(tree, lines)
    out: list[Finding] = []
    rel = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name

    def flag(node: ast.Call, arg: ast.AST, call: str) -> None:
        if not _exempt(lines, node):
            out.append(Finding(rel, arg.lineno, call, ast.unparse(arg)[:120]))

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name is None:
            continue
        recv = node.func.value if isinstance(node.func, ast.Attribute) else None
        if name == "update" and any(k.arg == "label" for k in node.keywords):
            for k in node.keywords:
                if k.arg == "label" and not chk.safe(k.value):
                    flag(node, k.value, "status.update")
            continue
        if name in HTML_CALLS:
            if node.args and not chk.safe(node.args[0], "html"):
                flag(node, node.args[0], name)
            continue
        if name in WRITE_CALLS and isinstance(recv, ast.Name) and recv.id == "st":
            for a in node.args:
                if not chk.safe(a):
                    flag(node, a, name)
            continue
        if name == "page_link" or name in MD_FIRST_ARG or name == "progress":
            if name in MD_FIRST_ARG and node.args and not chk.safe(node.args[0]):
                flag(node, node.args[0], name)
            for k in node.keywords:
                if k.arg in MD_KEYWORDS and not chk.safe(k.value):
                    flag(node, k.value, name)
            if name in MD_OPTIONS:
                fmt = next((k.value for k in node.keywords if k.arg == "format_func"), None)
                opts = next((k.value for k in node.keywords if k.arg == "options"), None)
                if opts is None and len(node.args) > 1:
                    opts = node.args[1]
                if fmt is not None:
                    if not chk.safe(fmt):
                        flag(node, fmt, f"{name} format_func")
                elif opts is not None and not chk.safe(opts):
                    flag(node, opts, f"{name} options")
    return out


def test_every_markdown_rendering_call_in_the_app_gets_only_safe_text():
    found = [str(f) for path in SOURCES for f in findings_in(path)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("st.subheader(title)", True),
        ("st.subheader(md_text(title))", False),
        ("st.markdown(f'## {ep.title}')", True),
        ("st.markdown(f'## {md_text(ep.title)} at {fmt_time(t)}')", False),
        ("st.caption(f'{took * 1000:.0f} ms · {n:,} rows')", False),
        ("st.caption(f'{n} rows')", True),
        ("st.button(label, help=f'Play from {chapter}')", True),
        ("st.button('Play', help=f'Play from {md_text(chapter)}')", False),
        ("st.page_link(P, label=ep.title)", True),
        ("st.toast(f'Snipped **{snip.title}**')", True),
        ("st.error(str(e))", True),
        ("st.error(md_text(str(e)))", False),
        ("st.expander(f'Other links ({len(others)})')", False),
        ("st.tabs(['Show notes', title])", True),
        ("st.html(f'<b>{esc(x)}</b>')", False),
        ("st.html(f'<b>{md_text(x)}</b>')", True),
        ("st.radio('Pick', opts, format_func=lambda o: o.title)", True),
        ("st.selectbox('Episode', titles)", False),  # selectbox options are plain text
        ("status.update(label=f'Ingested {ep.title}')", True),
        ("bits = [md_text(a)]\nbits.append(b)\nst.markdown(' · '.join(bits))", True),
        ("bits = [md_text(a)]\nbits.append(fmt_time(t))\nst.markdown(' · '.join(bits))", False),
        ("st.markdown('\\n'.join(f'- {md_text(x)}' for x in xs))", False),
        ("st.markdown('\\n'.join(f'- {x}' for x in xs))", True),
        ("st.markdown(ep.title)  # safe-render: reviewed", False),
        ("st.segmented_control('preset', list(induction.PRESETS))", False),
        ("st.radio('Pick', [ep.title for ep in eps])", True),
        ("def f(x):\n    return md_text(x)\nst.caption(f(y))", False),
        ("def f(x):\n    return x\nst.caption(f(y))", True),
        ("d = {}\nd.setdefault(1, ch.title)\nst.button('x', help=d[1])", True),
        ("d = {}\nd[1] = ch.title\nst.button('x', help=d[1])", True),
        ("d = {}\nd[1] = md_text(ch.title)\nst.button('x', help=d[1])", False),
    ],
)
def test_the_scan_flags_raw_text_and_passes_the_safe_renderer(tmp_path, source, bad):
    path = tmp_path / "page.py"
    path.write_text(source + "\n")
    assert bool(findings_in(path)) is bad, findings_in(path)


# --------------------------------------------------------------------------- the pages, hostile

PWN = (
    "[pwnlink](javascript:alert(1)) **boldpwn** ![pix](http://beacon.test/p.png) "
    "<b>tagpwn</b> :red[redpwn] $x^2$"
)
APP = str(REPO / "app.py")


@pytest.fixture(scope="module")
def hostile_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library whose every feed, transcript and user string is hostile Markdown/HTML."""
    from index.build import index_episode
    from podlens.models import Chapter, Episode, Mention, Reference, Turn
    from snips.store import Snip, SnipStore

    d = tmp_path_factory.mktemp("hostile")
    turns = [
        Turn(speaker=f"Speaker {PWN}", text=f"Turn {i} talks about boldpwn weights. {PWN}",
             chapter=f"Section {PWN}", start=i * 30.0, end=i * 30.0 + 29)
        for i in range(12)
    ]  # fmt: skip
    ep = Episode(
        id="evil-1",
        title=f"Title {PWN}",
        podcast=f"Pod {PWN}",
        published="2024-01-01T00:00:00Z",
        audio_url="https://example.org/a.mp3",
        image="javascript:alert(1)",  # what a hostile feed would like the page to load
        duration=360.0,
        chapters=[Chapter(title=f"Chapter {PWN}", start=i * 60.0) for i in range(6)],
        turns=turns,
        show_notes=f"Notes {PWN}\n- item {PWN}",
        references=[
            Reference(
                url="https://arxiv.org/abs/2301.05217",
                title=f"Paper {PWN}",
                kind="arxiv",
                mentions=[Mention(start=30.0, chapter=f"Section {PWN}")],
                authors=[f"Author {PWN}"],
                abstract=f"Abstract {PWN}",
                status="ok",
            )
        ],
    )
    index_episode(ep, d)
    SnipStore(d).save(
        Snip(
            episode="evil-1", start=30.0, end=90.0, quote=f"Quote {PWN}", title=f"Snip {PWN}",
            takeaways=[f"Takeaway {PWN}"], episode_title=ep.title, podcast=ep.podcast,
            audio_url=ep.audio_url, speaker=f"Speaker {PWN}", chapter=f"Chapter {PWN}",
            note=f"Note {PWN}", tags=["pwn"],
        )
    )  # fmt: skip
    return d


def _texts(node) -> list[str]:  # type: ignore[no-untyped-def]
    """Every Markdown-rendered string of the page: bodies, labels, tooltips, options."""
    out: list[str] = []
    proto = getattr(node, "proto", None)
    # st.html bodies are HTML (checked on their own), not Markdown.
    if proto is not None and hasattr(proto, "ListFields") and proto.DESCRIPTOR.name != "Html":
        for field, value in proto.ListFields():
            plain = field.name == "options" and proto.DESCRIPTOR.name in (
                "Selectbox",
                "MultiSelect",
            )
            if plain:  # selectbox options are shown as plain text, not Markdown
                continue
            if field.name in ("body", "label", "help", "text", "options", "caption"):
                if isinstance(value, str):
                    out.append(value)
                elif not hasattr(value, "ListFields"):  # a repeated field
                    out += [v for v in value if isinstance(v, str)]
    for child in getattr(node, "children", {}).values():
        out += _texts(child)
    return out


def _assert_inert(at) -> None:  # type: ignore[no-untyped-def]
    from markdown_it import MarkdownIt

    assert not at.exception, at.exception
    md = MarkdownIt("commonmark", {"html": True})
    texts = [t for t in _texts(at._tree) if "pwn" in t]
    assert texts, "the hostile text is shown somewhere"
    for t in texts:
        out = md.render(t)
        assert "<img" not in out and "<strong>boldpwn" not in out, (t, out)
        assert "<b>tagpwn" not in out and 'href="javascript' not in out, (t, out)
        assert ":red[redpwn]" not in t and "$x^2$" not in t, t  # Streamlit's own extensions
        hrefs = re.findall(r'<a href="([^"]*)"', out)
        assert all(h.startswith(("https://", "http://", "/", "?")) for h in hrefs), out
    for h in at.get("html"):
        body = h.proto.body
        assert "<b>tagpwn" not in body and 'beacon.test/p.png"' not in body, body


def _app(monkeypatch, data_dir: Path, page: str | None = None, **params):  # type: ignore[no-untyped-def]
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PODLENS_DATA_DIR", str(data_dir))
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def test_episode_page_shows_hostile_feed_text_as_text(hostile_data_dir, monkeypatch):
    at = _app(monkeypatch, hostile_data_dir, "app_pages/episode.py", episode="evil-1", t="40")
    _assert_inert(at)
    labels = [b.label for b in at.button]
    assert any("Chapter" in lb and "pwn" in lb for lb in labels), labels


def _images(at) -> list[str]:  # type: ignore[no-untyped-def]
    return [img.url for el in at.get("image") for img in el.proto.imgs]


def test_episode_artwork_is_drawn_only_from_an_http_url(
    hostile_data_dir, many_chapters_dir, monkeypatch
):
    at = _app(monkeypatch, hostile_data_dir, "app_pages/episode.py", episode="evil-1")
    assert not at.exception and _images(at) == []
    at = _app(monkeypatch, many_chapters_dir, "app_pages/episode.py", episode="long-1")
    assert _images(at) == ["https://example.org/art.png"]


def test_search_page_shows_hostile_titles_as_text(hostile_data_dir, monkeypatch):
    at = _app(monkeypatch, hostile_data_dir, None, q="boldpwn weights", episode="evil-1", t="30")
    _assert_inert(at)
    assert any("Title" in s.value and "pwn" in s.value for s in at.subheader), [
        s.value for s in at.subheader
    ]


def test_snips_page_shows_hostile_snip_text_as_text(hostile_data_dir, monkeypatch):
    at = _app(monkeypatch, hostile_data_dir, "app_pages/snips.py")
    _assert_inert(at)


@pytest.fixture(scope="module")
def many_chapters_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from index.build import index_episode
    from podlens.models import Chapter, Episode, Turn

    d = tmp_path_factory.mktemp("chapters")
    n = 1000  # what ingest keeps at most
    ep = Episode(
        id="long-1",
        title="A thousand chapters",
        podcast="Pod",
        published=None,
        audio_url="https://example.org/a.mp3",
        image="https://example.org/art.png",
        duration=n * 10.0,
        chapters=[Chapter(title=f"Chapter {i} {PWN}", start=i * 10.0) for i in range(n)],
        turns=[
            Turn(speaker="A", text=f"Words {i}.", chapter="S", start=i * 100.0, end=i * 100.0 + 99)
            for i in range(n // 10)
        ],
    )
    index_episode(ep, d)
    return d


def test_episode_page_with_a_thousand_chapters_draws_a_bounded_list_fast(
    many_chapters_dir, monkeypatch
):
    import time

    from ui.moments import MAX_CHAPTER_ROWS

    started = time.perf_counter()
    at = _app(monkeypatch, many_chapters_dir, "app_pages/episode.py", episode="long-1", t="5000")
    took = time.perf_counter() - started
    assert not at.exception, at.exception
    rows = [b for b in at.button if (b.key or "").startswith("pl_ch_")]
    assert len(rows) == MAX_CHAPTER_ROWS
    playing = [b for b in rows if b.proto.type == "primary"]
    assert [b.key for b in playing] == ["pl_ch_500"]  # the playing chapter is among the rows
    (full,) = [h.proto.body for h in at.get("html") if "pl-chapter-list" in h.proto.body]
    assert full.count("<li") == 1000 and "<b>tagpwn" not in full
    assert 'class="pl-now"' in full
    assert any(e.label == "All 1000 chapters" for e in at.expander)
    print(f"episode page with 1,000 chapters: {took:.1f} s under AppTest")
    assert took < 60, took  # it was minutes (10,000 chapters: 144 s)
