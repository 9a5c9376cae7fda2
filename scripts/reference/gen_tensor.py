"""Golden values for EcomTensor from PyTorch, transformers' BLOOM helpers and numpy (small inputs).

Writes Tests/Fixtures/tensor/reference.json: GELU (BLOOM's bloom_gelu_forward/back), layer norm (F.layer_norm, eps
1e-5) forward and gradients, softmax with scale/bias/causal mask forward and gradient, cross-entropy with ignore index
-100 and its gradient (also at huge logits, |x| up to 300), three torch.optim.AdamW steps (parameters and both moments), ALiBi slopes and build_alibi_tensor with left padding, and
float16 (numpy) / bfloat16 (torch) bit patterns. Float arrays are stored as Python floats (exact float32 values);
arrays holding infinities or NaNs are stored as uint32 bit patterns (keys ending in _bits).
"""
import numpy as np
import torch
import torch.nn.functional as F
from transformers.models.bloom import modeling_bloom as mb

from provenance import fixture_path, provenance, write_json

torch.manual_seed(1234)
rng = np.random.default_rng(1234)


def fl(t):
    return [float(v) for v in t.detach().to(torch.float32).reshape(-1).tolist()]


def bits(a):
    return [int(v) for v in np.asarray(a, dtype=np.float32).reshape(-1).view(np.uint32)]


def t32(a):
    return torch.tensor(np.asarray(a, dtype=np.float32))


out = {"provenance": provenance("gen_tensor.py")}

# GELU: BLOOM's forward and its hand-written backward.
x = t32(np.concatenate([rng.normal(0, 2, 57), [-8, -5, -3, -1e-3, 0, 1e-3, 3, 5, 8]]))
g = t32(rng.normal(0, 1, x.numel()))
out["gelu"] = {"x": fl(x), "y": fl(mb.bloom_gelu_forward(x)), "dy": fl(g), "dx": fl(mb.bloom_gelu_back(g, (x,)))}

# Layer norm [7, 33], eps 1e-5.
x = t32(rng.normal(0.5, 2, (7, 33))).requires_grad_()
gamma = t32(rng.normal(1, 0.3, 33)).requires_grad_()
beta = t32(rng.normal(0, 0.3, 33)).requires_grad_()
y = F.layer_norm(x, (33,), gamma, beta, eps=1e-5)
dy = t32(rng.normal(0, 1, (7, 33)))
y.backward(dy)
out["layernorm"] = {"rows": 7, "cols": 33, "x": fl(x), "gamma": fl(gamma), "beta": fl(beta), "y": fl(y), "dy": fl(dy),
                    "dx": fl(x.grad), "dgamma": fl(gamma.grad), "dbeta": fl(beta.grad)}

# Softmax: 2 groups of 5 rows over 9 keys, scale 0.5, per-group bias row (with -inf at a padded key), causal offset 3.
groups, rows_per, cols, scale, offset = 2, 5, 9, 0.5, 3
x = t32(rng.normal(0, 2, (groups * rows_per, cols))).requires_grad_()
bias = rng.normal(0, 1, (groups, cols)).astype(np.float32)
bias[1, 0] = -np.inf
z = scale * x + t32(np.repeat(bias, rows_per, axis=0))
causal = torch.zeros(groups * rows_per, cols)
for r in range(groups * rows_per):
    for j in range(cols):
        if j > r % rows_per + offset:
            causal[r, j] = float("-inf")
y = torch.softmax(z + causal, dim=-1)
dy = t32(rng.normal(0, 1, (groups * rows_per, cols)))
y.backward(dy)
out["softmax"] = {"rows": groups * rows_per, "cols": cols, "rows_per_bias": rows_per, "scale": scale, "causal_offset": offset,
                  "x": fl(x), "bias_bits": bits(bias), "y": fl(y), "dy": fl(dy), "dx": fl(x.grad)}

# Cross-entropy [6, 11] with two ignored targets.
logits = t32(rng.normal(0, 3, (6, 11))).requires_grad_()
targets = torch.tensor([3, -100, 0, 10, -100, 7])
loss = F.cross_entropy(logits, targets, ignore_index=-100)
loss.backward()
out["cross_entropy"] = {"rows": 6, "vocab": 11, "logits": fl(logits), "targets": targets.tolist(), "loss": loss.item(),
                        "dlogits": fl(logits.grad)}

# AdamW: three steps on 13 parameters.
p = torch.nn.Parameter(t32(rng.normal(0, 1, 13)))
opt = torch.optim.AdamW([p], lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, foreach=False)
steps = []
p0 = fl(p)
for _ in range(3):
    grad = t32(rng.normal(0, 1, 13))
    p.grad = grad.clone()
    opt.step()
    st = opt.state[p]
    steps.append({"grad": fl(grad), "param": fl(p), "exp_avg": fl(st["exp_avg"]), "exp_avg_sq": fl(st["exp_avg_sq"])})
out["adamw"] = {"lr": 1e-2, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.1, "param0": p0, "steps": steps}

# ALiBi: slopes for many head counts (powers of two and not), and the bias tensor for a left-padded batch.
out["alibi_slopes"] = {str(n): fl(mb._get_alibi_slopes(n, torch.device("cpu"))) for n in list(range(1, 21)) + [24, 32, 48, 112]}
mask = torch.tensor([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 1, 1, 0, 1, 1]])
out["alibi_tensor"] = {"mask": mask.tolist(), "num_heads": 6,
                       "alibi": fl(mb.build_alibi_tensor(mask, 6, torch.float32))}

# float16 (numpy astype) and bfloat16 (torch .to) bit patterns of awkward values.
special = [0.0, -0.0, 1.0, -1.0, 65504.0, 65519.0, 65520.0, 1e6, 6.1035156e-05, 6.0e-08, 5.9604645e-08, 2.9802322e-08,
           2.9802326e-08, 1.0 + 2**-11, 1.0 + 3 * 2**-11, 1.0 + 2**-8, 1.0 + 3 * 2**-8, 3.4028235e38, 1e-40, -1e-45,
           float("inf"), float("-inf"), float("nan"), 0.1, -0.3333333, 3.14159265, 1e-5, 2.0**-14 * 1.5, 2.0**-24 * 1.5]
vals = np.concatenate([np.array(special, dtype=np.float32), rng.normal(0, 1, 40).astype(np.float32),
                       (rng.normal(0, 1, 40) * 10.0 ** rng.integers(-9, 6, 40)).astype(np.float32)])
f16 = vals.astype(np.float16).view(np.uint16)
bf16 = torch.from_numpy(vals.copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
halfs = rng.integers(0, 65536, 200).astype(np.uint16)
out["half"] = {"float_bits": bits(vals), "f16_bits": [int(v) for v in f16], "bf16_bits": [int(v) for v in bf16],
               "f16_sample": [int(v) for v in halfs], "f16_sample_float_bits": bits(halfs.view(np.float16).astype(np.float32)),
               "bf16_sample_float_bits": bits(torch.from_numpy(halfs.view(np.int16).copy()).view(torch.bfloat16).to(torch.float32).numpy())}

# Cross-entropy at huge logits (|x| up to 300: exp overflows float32 without the max shift), [5, 257] with one
# ignored target; appended last so that the draws above keep their values.
logits = t32(rng.uniform(-300, 300, (5, 257))).requires_grad_()
targets = torch.tensor([0, 256, -100, 17, 128])
loss = F.cross_entropy(logits, targets, ignore_index=-100)
loss.backward()
out["cross_entropy_huge"] = {"rows": 5, "vocab": 257, "logits": fl(logits), "targets": targets.tolist(),
                             "loss": loss.item(), "dlogits": fl(logits.grad)}

write_json(fixture_path("tensor", "reference.json"), out)
print("wrote", fixture_path("tensor", "reference.json"))
