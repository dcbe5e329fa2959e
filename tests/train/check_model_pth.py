# Loads a model .pth written by train_model with Python's torch.load and checks its TransformerLens
# layout: usage check_model_pth.py FILE N_LAYERS D_MODEL N_HEADS D_HEAD D_MLP EXPECTED_SUM
import sys

import torch

path, n_layers, d_model, n_heads, d_head, d_mlp = sys.argv[1], *map(int, sys.argv[2:7])
expected_sum = float(sys.argv[7])
sd = torch.load(path)
shapes = {"embed.W_E": (61, d_model), "pos_embed.W_pos": (59, d_model),
          "ln_final.w": (d_model,), "ln_final.b": (d_model,),
          "unembed.W_U": (d_model, 61), "unembed.b_U": (61,)}
for L in range(n_layers):
    p = f"blocks.{L}."
    shapes.update({p + "ln1.w": (d_model,), p + "ln1.b": (d_model,), p + "ln2.w": (d_model,),
                   p + "ln2.b": (d_model,), p + "mlp.W_in": (d_model, d_mlp), p + "mlp.b_in": (d_mlp,),
                   p + "mlp.W_out": (d_mlp, d_model), p + "mlp.b_out": (d_model,),
                   p + "attn.W_O": (n_heads, d_head, d_model), p + "attn.b_O": (d_model,)})
    for w in "QKV":
        shapes[p + f"attn.W_{w}"] = (n_heads, d_model, d_head)
        shapes[p + f"attn.b_{w}"] = (n_heads, d_head)
assert set(sd.keys()) == set(shapes), sorted(set(sd.keys()) ^ set(shapes))
for name, shape in shapes.items():
    assert tuple(sd[name].shape) == shape, (name, tuple(sd[name].shape), shape)
    assert sd[name].dtype == torch.float32, (name, sd[name].dtype)
total = sum(float(t.double().sum()) for t in sd.values())
assert abs(total - expected_sum) < 1e-6 * max(1.0, abs(expected_sum)), (total, expected_sum)
print("ok", len(sd), "tensors")
