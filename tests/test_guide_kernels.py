"""docs/guide.md's Conv2D section and Adam excerpt quote whole functions: they must be the
code that runs (until tests/test_guide.py checks every excerpt of the guide, this checks the
ones marked `<!-- excerpt: PATH QUALNAME -->` that quote a whole function), and its figures
must hold."""

import importlib
import inspect
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

import minikeras
from minikeras.kernels import conv_reference

ROOT = Path(minikeras.__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "guide.md").read_text()
EXCERPT = re.compile(r"<!-- excerpt: (\S+) (\S+) -->\n```python\n(.*?)\n```", re.S)
WHOLE_FUNCTIONS = ["Adam.update_step", "im2col", "conv2d_forward", "conv2d_backward"]


def source_of(path, qualname):
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    obj = module
    for name in qualname.split("."):
        obj = getattr(obj, name)
    return textwrap.dedent(inspect.getsource(obj)).rstrip("\n")


@pytest.mark.parametrize("qualname", WHOLE_FUNCTIONS)
def test_whole_function_excerpts_are_the_source(qualname):
    found = [(path, text) for path, name, text in EXCERPT.findall(GUIDE) if name == qualname]
    assert found, f"no excerpt of {qualname} in docs/guide.md"
    for path, text in found:
        assert text == source_of(path, qualname), f"docs/guide.md's {qualname} has drifted"


def test_second_layer_cols_is_18_mb():
    # "cols for the MNIST convnet's second layer is 18 MB": (128, 13, 13, 32) input, 3x3
    x = np.zeros((128, 13, 13, 32), np.float32)
    _, (cols, *_) = conv_reference.conv2d_forward(x, np.zeros((3, 3, 32, 64), np.float32))
    assert round(cols.size * cols.itemsize / 1e6) == 18
    assert "is 18 MB" in GUIDE
