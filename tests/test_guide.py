"""docs/guide.md (and README.md) show the code that runs, and their claims about it hold.

How an excerpt is written (for anyone who edits the guide, or code the guide shows)
------------------------------------------------------------------------------------
Every fenced block in docs/guide.md and README.md (```python ... ```, or ``` ... ```) carries a
marker: an HTML comment (invisible on the rendered page) on the line right above its opening
fence. Three kinds:

    <!-- excerpt: PATH QUALNAME -->     lines of the function, method or class QUALNAME
                                        ("Dense.forward", "Model.train_step", "make_circles")
                                        in the file PATH (from the repository root);
    <!-- excerpt: PATH -->              lines anywhere in PATH (a script's top level);
    <!-- runnable: WHO RUNS IT -->      code that a test here executes (section 5's NumPy);
    <!-- output: WHAT PRINTS IT -->     output that a test here reproduces.

An excerpt matches its source when, after dropping comments (the guide writes its own), blank
lines and trailing spaces on both sides, its lines are consecutive lines of QUALNAME, with the
same indentation relative to each other. A line holding only `...` leaves lines out: each
stretch between `...` lines must be consecutive in the source, the stretches in order.

Excerpts are anchored on names, not line numbers: when a function changes, the test names the
document, its line, the excerpt and the source function, and shows both, so the excerpt can be
updated (or the change reconsidered). Links such as [`Dense.forward`](../minikeras/layers/dense.py)
are checked too: the file must exist and define the names in the link text.
"""

import ast
import io
import re
import textwrap
import tokenize
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import minikeras
from minikeras import layers

ROOT = Path(minikeras.__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "guide.md"
DOCUMENTS = [GUIDE, ROOT / "README.md"]

MARKER = re.compile(r"^<!--\s*(excerpt|runnable|output):\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^```")


@dataclass
class Block:
    document: Path
    line: int            # 1-based line of the opening fence
    language: str
    kind: str            # "excerpt", "runnable", "output", or None (no marker)
    target: str          # what the marker says
    lines: list

    def where(self):
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def fenced_blocks(document):
    """Every fenced block of a Markdown file, with the marker above it (if any)."""
    text = document.read_text().splitlines()
    blocks, i = [], 0
    while i < len(text):
        if FENCE.match(text[i]):
            language = text[i][3:].strip()
            end = i + 1
            while end < len(text) and not FENCE.match(text[end]):
                end += 1
            marker = MARKER.match(text[i - 1]) if i > 0 else None
            blocks.append(Block(document, i + 1, language,
                                marker.group(1) if marker else None,
                                marker.group(2) if marker else "", text[i + 1:end]))
            i = end + 1
        else:
            i += 1
    return blocks


ALL_BLOCKS = [block for document in DOCUMENTS for block in fenced_blocks(document)]
EXCERPTS = [block for block in ALL_BLOCKS if block.kind == "excerpt"]


# ---------------------------------------------------------------------- matching excerpts


def code_only(line):
    """The line without its comment and trailing spaces ('#' inside a string literal is kept)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == "\\":
                continue
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:i].rstrip()
    return line.rstrip()


def normalised(lines):
    """[(original line, code)] without blank and comment-only lines."""
    return [(line, code_only(line)) for line in lines if code_only(line).strip()]


def dedented(codes):
    indent = min(len(c) - len(c.lstrip()) for c in codes)
    return [c[indent:] for c in codes]


def find_definition(tree, qualname):
    """The ast node of `qualname` ("Class.method", "function") in a module, or None."""
    scope = tree.body
    node = None
    for name in qualname.split("."):
        node = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                         ast.ClassDef)) and n.name == name), None)
        if node is None:
            return None
        scope = node.body
    return node


def source_of(target):
    """(label, source lines) of an excerpt marker's target "PATH [QUALNAME]"."""
    path, _, qualname = target.partition(" ")
    file = ROOT / path
    assert file.is_file(), f"the excerpt names {path}, which does not exist"
    source = file.read_text()
    lines = source.splitlines()
    if not qualname:
        return path, lines
    node = find_definition(ast.parse(source), qualname.strip())
    assert node is not None, (
        f"{qualname} is no longer defined in {path} (renamed or moved?): update the excerpt's "
        "marker, or the excerpt"
    )
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return f"{qualname} in {path}", lines[first - 1:node.end_lineno]


def excerpt_parts(lines):
    """The excerpt's stretches of code between `...` lines."""
    parts, current = [], []
    for line in lines:
        if line.strip() == "...":
            parts.append(current)
            current = []
        else:
            current.append(line)
    parts.append(current)
    return [normalised(part) for part in parts if normalised(part)]


def match_excerpt(excerpt_lines, source_lines):
    """None when every stretch of the excerpt is consecutive code of the source, in order;
    else the first stretch that is not."""
    source = normalised(source_lines)
    start = 0
    for part in excerpt_parts(excerpt_lines):
        wanted = dedented([code for _, code in part])
        for i in range(start, len(source) - len(part) + 1):
            if dedented([code for _, code in source[i:i + len(part)]]) == wanted:
                start = i + len(part)
                break
        else:
            return part
    return None


@pytest.mark.parametrize("block", EXCERPTS,
                         ids=[f"{b.where()}:{b.target.split(' ', 1)[-1]}" for b in EXCERPTS])
def test_excerpt_is_the_code_that_runs(block):
    label, source_lines = source_of(block.target)
    drifted = match_excerpt(block.lines, source_lines)
    if drifted is not None:
        pytest.fail(
            f"{block.where()}: the excerpt of {label} no longer matches the source (comments "
            f"and blank lines aside). These lines are not consecutive code of {label} "
            f"(after the excerpt's earlier lines):\n"
            + textwrap.indent("\n".join(line for line, _ in drifted), "    ")
            + f"\n\n{label} now reads:\n" + textwrap.indent("\n".join(source_lines), "    "),
            pytrace=False,
        )


def test_the_excerpts_are_there():
    # The guide's main excerpts; a marker lost in an edit would silently drop its check.
    names = {block.target for block in EXCERPTS}
    assert {"minikeras/layers/dense.py Dense.forward", "minikeras/layers/dense.py Dense.backward",
            "minikeras/models/model.py Model.train_step",
            "minikeras/optimizers/adam.py Adam.update_step",
            "examples/two_circles.py"} <= names


def test_the_excerpts_the_guide_showed_before_are_caught():
    # docs/guide.md's Dense excerpts until Dense.forward went through parallel.matmul.
    _, forward = source_of("minikeras/layers/dense.py Dense.forward")
    assert match_excerpt(["z = np.matmul(x, self.kernel.value)", "z += self.bias.value",
                          "a, act_cache = self._activate(z)"], forward) is not None
    _, backward = source_of("minikeras/layers/dense.py Dense.backward")
    assert match_excerpt(["dz = self._activation_backward(da, act_cache, from_logits)",
                          "dkernel = x2.T @ dz2"], backward) is not None


def test_every_fenced_block_has_a_marker():
    unmarked = [f"{b.where()} (```{b.language})" for b in ALL_BLOCKS if b.kind is None]
    assert not unmarked, (
        "These fenced blocks say neither where their code comes from nor who runs it; add "
        "<!-- excerpt: PATH QUALNAME -->, <!-- runnable: ... --> or <!-- output: ... --> on the "
        "line above the fence (see tests/test_guide.py): " + ", ".join(unmarked)
    )


def test_the_matcher_catches_drift():
    source = ["def f(x):", "    y = x + 1  # one", "", "    if y:", "        y *= 2",
              "    return y"]
    assert match_excerpt(["y = x + 1", "if y:", "    y *= 2  # the guide's comment"],
                         source) is None
    assert match_excerpt(["y = x + 1", "...", "return y"], source) is None
    assert match_excerpt(["y = x + 2"], source) is not None            # changed code
    assert match_excerpt(["y = x + 1", "return y"], source) is not None  # lines left out
    assert match_excerpt(["return y", "...", "y = x + 1"], source) is not None  # order
    assert match_excerpt(["if y:", "y *= 2"], source) is not None        # indentation
    assert code_only("s = '#' + t  # note") == "s = '#' + t"


# --------------------------------------------------------------------------- links


LINK = re.compile(r"\[([^\]]+)\]\(([^)#\s]+)\)")


def _links():
    for document in DOCUMENTS:
        for number, line in enumerate(document.read_text().splitlines(), 1):
            for text, target in LINK.findall(line):
                if not target.startswith(("http://", "https://", "mailto:")):
                    yield document, number, text, target


def test_links_point_at_files_that_define_what_they_name():
    problems = []
    for document, number, text, target in _links():
        where = f"{document.relative_to(ROOT)}:{number}"
        file = (document.parent / target).resolve()
        if not file.exists():
            problems.append(f"{where}: {target} does not exist")
            continue
        if file.suffix != ".py":
            continue
        tree = ast.parse(file.read_text())
        for name in re.findall(r"`([^`]+)`", text):
            if "/" in name or name.endswith(".py") or not re.fullmatch(r"[\w.]+", name):
                continue
            parts = name.split(".")
            if parts[0] == file.stem:            # data.EpochBatches: module.name
                parts = parts[1:]
            if parts and find_definition(tree, ".".join(parts)) is None:
                problems.append(f"{where}: {name} is not defined in {target}")
    assert not problems, "\n".join(problems)


def test_data_batches_is_gone():
    # Dead code the guide used to show: fit takes its batches from data.EpochBatches.
    from minikeras.models import data

    assert not hasattr(data, "batches")
    assert "data.batches" not in GUIDE.read_text()


# -------------------------------------------------- section 5: the NumPy loop is fit's maths


def _runnable(fragment):
    found = [b for b in fenced_blocks(GUIDE) if b.kind == "runnable"
             and any(fragment in line for line in b.lines)]
    assert len(found) == 1, f"expected one runnable block of the guide containing {fragment!r}"
    return found[0]


def _guide_numpy(replace=None):
    block = _runnable("def train_step")
    code = "\n".join(block.lines)
    if replace is not None:
        assert code.count(replace[0]) == 1, replace[0]
        code = code.replace(*replace)
    namespace = {}
    exec(compile(code, f"{block.where()} (the guide's NumPy loop)", "exec"), namespace)
    return namespace


def _circles(n, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    radius = np.where(labels == 1, 0.5, 1.0)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return x + rng.normal(0.0, 0.1, x.shape), labels.astype(np.float64)


@pytest.fixture
def float64_model():
    minikeras.backend.set_floatx("float64")
    minikeras.backend.clear_session()       # the default layer names: dense, dense_1, ...
    try:
        model = minikeras.Sequential([
            layers.Dense(4, input_dim=2, activation="relu"),
            layers.Dense(6, activation="relu"),
            layers.Dense(6, activation="relu"),
            layers.Dense(4, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
        yield model
    finally:
        minikeras.backend.set_floatx("float32")


def test_the_guides_numpy_loop_gives_fits_weights_bit_for_bit(float64_model):
    guide = _guide_numpy()
    x, y = _circles(900)                 # 28 full batches of 32 and one of 4, per epoch
    params = guide["init"]([2, 4, 6, 6, 4, 1], np.random.default_rng(0))
    float64_model.set_weights(params)
    float64_model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0)
    guide["train"](params, x, y, 3)
    for i, (ours, fits) in enumerate(zip(params, float64_model.get_weights())):
        assert fits.dtype == np.float64
        assert np.array_equal(ours, fits), (
            f"weight {i}: the guide's loop and fit differ by up to {np.max(np.abs(ours - fits))}"
        )


def test_without_the_float32_betas_the_weights_differ_after_one_step(float64_model):
    # What the guide says the float32 rounding is for.
    exact = _guide_numpy(replace=("float(np.float32(beta_1)), float(np.float32(beta_2))",
                                  "beta_1, beta_2"))
    x, y = _circles(32)
    params = exact["init"]([2, 4, 6, 6, 4, 1], np.random.default_rng(0))
    float64_model.set_weights(params)
    float64_model.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    exact["train"](params, x, y, 1)
    differences = [np.max(np.abs(a - b)) for a, b in zip(params, float64_model.get_weights())]
    assert 1e-9 < max(differences) < 1e-7, differences


def test_section_5_is_about_as_long_as_its_title_says():
    block = _runnable("def train_step")
    title = next(line for line in GUIDE.read_text().splitlines() if line.startswith("## 5."))
    words = {"forty": 40, "fifty": 50, "sixty": 60, "seventy": 70}
    claimed = next(words[w] for w in words if f" {w} lines" in title)
    code_lines = [line for line in block.lines if code_only(line).strip()]
    assert claimed - 10 < len(code_lines) <= claimed, (title, len(code_lines))


def test_the_shape_table_is_what_trace_shapes_prints(float64_model):
    block = next(b for b in fenced_blocks(GUIDE) if b.kind == "output"
                 and "trace_shapes" in b.target)
    printed = io.StringIO()
    with redirect_stdout(printed):
        minikeras.utils.trace_shapes(float64_model, np.zeros((32, 2)))
    assert printed.getvalue().splitlines()[:len(block.lines)] == block.lines


def test_code_only_agrees_with_the_tokenizer_on_the_guides_code():
    # code_only is a simple scanner; on real code it must strip exactly the comments.
    block = _runnable("def train_step")
    code = "\n".join(block.lines) + "\n"
    comments = {t.start[0]: t.start[1]
                for t in tokenize.generate_tokens(io.StringIO(code).readline)
                if t.type == tokenize.COMMENT}
    assert len(comments) > 10
    for row, line in enumerate(block.lines, 1):
        expected = line[:comments[row]].rstrip() if row in comments else line.rstrip()
        assert code_only(line) == expected
