"""all-MiniLM-L6-v2 as an ONNX graph, built in memory from the verified safetensors weights, run by
onnxruntime.

The same computation as the numpy forward pass in minilm_encoder.py (which the tests keep as the reference),
at well under half its CPU per message: onnxruntime's MLAS kernels beat OpenBLAS on these small matrices.
No graph file is downloaded or stored: the graph is rebuilt from the pinned weights on every load (~1 s).
"""

from __future__ import annotations

from typing import Any

import numpy as np

HEADS, HEAD_DIM, HIDDEN, LAYERS = 12, 32, 384, 6
OPSET = 17  # LayerNormalization is a standard op from 17 on


def graph_bytes(weights: dict[str, np.ndarray]) -> bytes:
    """ONNX model bytes: (input_ids, attention_mask) int64 [batch, length] -> mean-pooled [batch, 384]."""
    from onnx import TensorProto, helper, numpy_helper

    initializers, nodes = [], []

    def const(name: str, value: Any) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, inputs: list[str], **attributes: Any) -> str:
        output = f"{kind.lower()}_{len(nodes)}"
        nodes.append(helper.make_node(kind, inputs, [output], **attributes))
        return output

    def linear(x: str, prefix: str) -> str:
        weight = const(f"{prefix}.weight_t", weights[f"{prefix}.weight"].T.copy())  # torch stores (out, in)
        return op("Add", [op("MatMul", [x, weight]), const(f"{prefix}.bias", weights[f"{prefix}.bias"])])

    def layer_norm(x: str, prefix: str) -> str:
        return op(
            "LayerNormalization",
            [
                x, const(f"{prefix}.weight", weights[f"{prefix}.weight"]),
                const(f"{prefix}.bias", weights[f"{prefix}.bias"]),
            ],
            axis=-1,
            epsilon=1e-12,
        )

    length = op("Gather", [op("Shape", ["input_ids"]), const("axis_one", np.array(1, np.int64))], axis=0)
    positions = op(
        "Range", [const("zero", np.array(0, np.int64)), length, const("step", np.array(1, np.int64))]
    )
    x = op(
        "Add",
        [
            op(
                "Gather",
                [const("word_embeddings", weights["embeddings.word_embeddings.weight"]), "input_ids"],
            ),
            op(
                "Gather",
                [const("position_embeddings", weights["embeddings.position_embeddings.weight"]), positions],
            ),
        ],
    )
    x = op("Add", [x, const("token_type_embedding", weights["embeddings.token_type_embeddings.weight"][0])])
    x = layer_norm(x, "embeddings.LayerNorm")
    mask = op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    # Padding keys get -1e4 before the softmax, as in BERT.
    key_bias = op("Mul", [op("Sub", [const("one", np.array(1.0, np.float32)), mask]),
                          const("minus_1e4", np.array(-10000.0, np.float32))])
    key_bias = op("Unsqueeze", [key_bias, const("axes_heads_queries", np.array([1, 2], np.int64))])
    split_heads = const("split_heads", np.array([0, 0, HEADS, HEAD_DIM], np.int64))
    merge_heads = const("merge_heads", np.array([0, 0, HIDDEN], np.int64))
    scale = const("scale", np.array(1 / np.sqrt(HEAD_DIM), np.float32))
    half, sqrt2 = const("half", np.array(0.5, np.float32)), const("sqrt2", np.array(np.sqrt(2.0), np.float32))
    for index in range(LAYERS):
        p = f"encoder.layer.{index}."

        def heads(hidden: str, name: str, perm: list[int]) -> str:
            return op("Transpose", [op("Reshape", [linear(hidden, name), split_heads])], perm=perm)

        attention = p + "attention.self."
        query, key, value = (
            heads(x, attention + "query", [0, 2, 1, 3]), heads(x, attention + "key", [0, 2, 3, 1]),
            heads(x, attention + "value", [0, 2, 1, 3]),
        )
        scores = op("Add", [op("Mul", [op("MatMul", [query, key]), scale]), key_bias])
        context = op("MatMul", [op("Softmax", [scores], axis=-1), value])
        context = op("Reshape", [op("Transpose", [context], perm=[0, 2, 1, 3]), merge_heads])
        x = layer_norm(
            op("Add", [x, linear(context, p + "attention.output.dense")]), p + "attention.output.LayerNorm"
        )
        hidden = linear(x, p + "intermediate.dense")
        # BERT's exact gelu: 0.5 * h * (1 + erf(h / sqrt(2)))
        hidden = op("Mul", [op("Mul", [hidden, half]),
                            op("Add", [op("Erf", [op("Div", [hidden, sqrt2])]), "one"])])
        x = layer_norm(op("Add", [x, linear(hidden, p + "output.dense")]), p + "output.LayerNorm")
    token_weights = op("Unsqueeze", [mask, const("axis_last", np.array([-1], np.int64))])
    sequence_axis = const("axis_sequence", np.array([1], np.int64))
    summed = op("ReduceSum", [op("Mul", [x, token_weights]), sequence_axis], keepdims=0)
    counted = op("ReduceSum", [token_weights, sequence_axis], keepdims=0)
    nodes.append(helper.make_node("Div", [summed, counted], ["pooled"]))
    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "length"])
         for name in ("input_ids", "attention_mask")],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", HIDDEN])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # what onnxruntime 1.19 reads
    return model.SerializeToString()


def quantized(model: bytes) -> bytes:
    """MatMul weights as int8, one scale per output column (per-channel: per-tensor scales lost too much,
    cosine to the float model down to 0.93); activations quantized on the fly. 4x less weight memory to
    stream per message; embeddings move slightly (cosine to the float model >= 0.98 on the test sentences)."""
    import tempfile
    from pathlib import Path

    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="minilm-int8-") as tmp:
        source, target = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        source.write_bytes(model)
        quantize_dynamic(
            source, target, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"]
        )
        return target.read_bytes()


def session(weights: dict[str, np.ndarray], int8: bool = False) -> Any:
    import onnxruntime

    model = graph_bytes(weights)
    options = onnxruntime.SessionOptions()
    # One thread: a second one halves no message's latency on these sizes but spins, doubling CPU per message.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # No busy-waiting for the next run: between messages Rasa runs spaCy and TensorFlow in this process.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        quantized(model) if int8 else model, options, providers=["CPUExecutionProvider"]
    )
