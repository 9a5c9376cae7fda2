"""Golden fixtures for the BLOOM model (issue 6): a tiny BloomForCausalLM made informative by a few training steps,
saved as f32 and f16 safetensors, with HF transformers' logits, left-padded batch logits, greedy and beam-search
continuations. Output: Tests/Fixtures/model/{tiny-f32,tiny-f16}/ and Tests/Fixtures/model/bloom_reference.json.
"""
import copy
import json
import os
import shutil

import torch
from transformers import BloomConfig, BloomForCausalLM

from provenance import fixture_path, provenance, write_json

torch.manual_seed(1234)
torch.set_num_threads(1)

VOCAB, HIDDEN, LAYERS, HEADS = 64, 48, 2, 6  # 6 heads: not a power of two (ALiBi's interleaved slopes)
BOS, EOS, PAD = 1, 2, 3


MOTIFS = [[5, 9, 14], [20, 33, 7, 41], [12, 12, 50], [60, 8, 27, 45]]
# Branch points where greedy and beam search must disagree: after `start`, `likely` follows with p=0.55 but is then
# followed by one of three tokens (p = 0.5, 0.3, 0.2); `unlikely` follows with p=0.45 and then a certain tail.
# Greedy takes `likely` (sequence probability 0.55 * 0.5); beam search finds `unlikely` (0.45 * 1).
BRANCHES = [
    {"start": 16, "likely": 17, "spread": [18, 19, 21], "unlikely": 22, "tail": [23, 24]},
    {"start": 30, "likely": 31, "spread": [32, 34, 35], "unlikely": 36, "tail": [37, 38, 39]},
]


def sample_row(gen, length):
    def rand():
        return float(torch.rand(1, generator=gen))
    if rand() < 0.5:
        motif = MOTIFS[int(torch.randint(0, len(MOTIFS), (1,), generator=gen))]
        phase = int(torch.randint(0, len(motif), (1,), generator=gen))
        stop = int(torch.randint(length // 2, length, (1,), generator=gen))
        body = [motif[(phase + i) % len(motif)] for i in range(stop - 2)]
    else:
        b = BRANCHES[int(torch.randint(0, len(BRANCHES), (1,), generator=gen))]
        if rand() < 0.55:
            u = rand()
            nxt = b["spread"][0] if u < 0.5 else b["spread"][1] if u < 0.8 else b["spread"][2]
            body = [b["start"], b["likely"], nxt, nxt]
        else:
            body = [b["start"], b["unlikely"]] + b["tail"]
    return ([BOS] + body + [EOS] + [PAD] * length)[:length]


def patterned_batch(gen, batch=32, length=24):
    """Motif cycles (from a random phase, random length) and branch sequences, closed with EOS, padded."""
    return torch.tensor([sample_row(gen, length) for _ in range(batch)])


def train_tiny():
    config = BloomConfig(vocab_size=VOCAB, hidden_size=HIDDEN, n_layer=LAYERS, n_head=HEADS,
                         layer_norm_epsilon=1e-5, bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD,
                         hidden_dropout=0.0, attention_dropout=0.0, tie_word_embeddings=True)
    model = BloomForCausalLM(config)
    gen = torch.Generator().manual_seed(7)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    model.train()
    for _ in range(400):
        batch = patterned_batch(gen)
        labels = batch.masked_fill(batch == PAD, -100)
        loss = model(input_ids=batch, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model, float(loss.detach())


def save(model, name, dtype):
    out = os.path.dirname(fixture_path("model", name, "config.json"))
    shutil.rmtree(out, ignore_errors=True)
    # Convert a copy: `model.to(float16)` in place and back would leave the f16-rounded weights in the model whose
    # f32 logits and generations are recorded below.
    copy.deepcopy(model).to(dtype).save_pretrained(out, safe_serialization=True)
    for extra in os.listdir(out):
        if extra not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(out, extra))
    return out


def main():
    model, final_loss = train_tiny()
    f32_dir = save(model, "tiny-f32", torch.float32)
    f16_dir = save(model, "tiny-f16", torch.float16)

    gen = torch.Generator().manual_seed(99)
    sequences = [[BOS], [BOS] + MOTIFS[1] , [BOS] + (MOTIFS[3] * 5)[:16]]
    logits = []
    with torch.no_grad():
        for seq in sequences:
            out = model(input_ids=torch.tensor([seq])).logits[0]
            logits.append({"ids": seq, "logits": out.tolist()})

        # The f16 checkpoint as HF computes it after upcasting to f32.
        f16_model = BloomForCausalLM.from_pretrained(f16_dir, dtype=torch.float32)
        f16_model.eval()
        f16_logits = [{"ids": s, "logits": f16_model(input_ids=torch.tensor([s])).logits[0].tolist()} for s in sequences[1:]]

        # A left-padded batch: last-position logits for each row.
        rows = [sequences[2][:9], sequences[1], sequences[2]]
        width = max(len(r) for r in rows)
        ids = torch.tensor([[PAD] * (width - len(r)) + r for r in rows])
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
        padded = model(input_ids=ids, attention_mask=mask).logits[:, -1, :]
        padded_batch = {"ids": ids.tolist(), "attention_mask": mask.tolist(), "last_logits": padded.tolist()}

        # Generation: greedy and 4-beam search (HF generate semantics), on prompts where the two differ.
        prompts = ([[BOS, b["start"]] for b in BRANCHES] + [[BOS] + m[:k] for m in MOTIFS for k in (1, 2)]
                   + [[BOS, 5, 33], [BOS, 60, 60, 8], [BOS, 12], [BOS]])
        generation = []
        margins = []
        differ = 0
        for p in prompts:
            inp = torch.tensor([p])
            greedy = model.generate(inp, max_new_tokens=10, do_sample=False, num_beams=1,
                                    eos_token_id=EOS, pad_token_id=PAD)[0, len(p):].tolist()
            beam = model.generate(inp, max_new_tokens=10, do_sample=False, num_beams=4, length_penalty=1.0,
                                  early_stopping=False, eos_token_id=EOS, pad_token_id=PAD)[0, len(p):].tolist()
            beam_es = model.generate(inp, max_new_tokens=10, do_sample=False, num_beams=4, length_penalty=1.0,
                                     early_stopping=True, eos_token_id=EOS, pad_token_id=PAD)[0, len(p):].tolist()
            differ += greedy != beam
            # The smallest gap between the top two logits along the greedy path: parity needs no near-ties.
            path = torch.tensor([p + greedy])
            top2 = model(input_ids=path).logits[0, len(p) - 1:-1].topk(2, dim=-1).values
            margins.append(float((top2[:, 0] - top2[:, 1]).min()))
            generation.append({"prompt": p, "greedy": greedy, "beam4": beam, "beam4_early_stopping": beam_es})
    if differ < len(BRANCHES):
        raise SystemExit("gen_model: greedy and beam search agree on every prompt; change the seed or training")

    write_json(fixture_path("model", "bloom_reference.json"), {
        "provenance": provenance("gen_model.py", note="tiny BloomForCausalLM trained 400 AdamW steps on patterned "
                                 f"sequences (final loss {final_loss:.4f}); f32 logits tolerance 1e-4",
                                 greedy_beam_differ=differ, min_greedy_margin=min(margins)),
        "config": {"vocab_size": VOCAB, "hidden_size": HIDDEN, "n_layer": LAYERS, "n_head": HEADS},
        "logits": logits,
        "f16_logits": f16_logits,
        "left_padded_batch": padded_batch,
        "generation": {"max_new_tokens": 10, "num_beams": 4, "length_penalty": 1.0, "cases": generation},
    })
    print(f"gen_model: final loss {final_loss:.4f}; greedy and beam differ on {differ}/{len(prompts)} prompts; "
          f"smallest greedy top-2 margin {min(margins):.4f}")


if __name__ == "__main__":
    main()
