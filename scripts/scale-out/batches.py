"""Ecom's packed sequences as model inputs: next-token targets, document-masked attention, per-document positions.

Semantics are those of `ecom-train` (Sources/Model/Training/TrainingBatch.swift): position t predicts token t + 1 when
that token is learned (loss mask 1) and belongs to the same non-padding document; each document attends only inside
itself, with positions counted from its first token. Two exact ways to give a Hugging Face model those semantics:

- packed: the rows stay as packed, with a 4D additive attention mask (block-diagonal causal) and per-document
  `position_ids`: no padding waste; for models whose attention takes a prepared 4D mask and whose positions come from
  `position_ids` (Llama, Mistral, Qwen2 and their relatives).
- split: every document becomes a row of its own, right-padded to the longest in the micro-batch with a 2D mask: any
  causal LM (BLOOM's ALiBi counts positions from the mask), at the cost of the padding.
"""
import torch
import torch.nn.functional as F

IGNORE = -100

# Model types whose attention accepts a prepared 4D mask and whose rotary positions come from position_ids.
PACKED_MODEL_TYPES = {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3", "olmo", "olmo2", "granite"}


def targets(ids, loss_mask, documents):
    """[B, T] next-token targets: ids[t + 1] where learned and in the same document, else -100."""
    out = torch.full_like(ids, IGNORE)
    learned = (loss_mask[:, 1:] != 0) & (documents[:, 1:] == documents[:, :-1]) & (documents[:, :-1] != 0)
    out[:, :-1] = torch.where(learned, ids[:, 1:], torch.full_like(ids[:, 1:], IGNORE))
    return out


def loss_sum(logits, tgt):
    """The sum of token cross-entropies (in float32) over the positions with a target."""
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=IGNORE, reduction="sum")


def positions(documents):
    """[B, T] position of each token inside its run of equal document ids (0 at each run's first token)."""
    B, T = documents.shape
    idx = torch.arange(T, device=documents.device).expand(B, T)
    starts = torch.ones_like(documents, dtype=torch.bool)
    starts[:, 1:] = documents[:, 1:] != documents[:, :-1]
    return idx - torch.cummax(torch.where(starts, idx, torch.zeros_like(idx)), dim=1).values


def packed_attention(documents, dtype):
    """[B, 1, T, T] additive mask: query i sees key j when j <= i and both are in the same run (padding runs see
    themselves, so no row is empty)."""
    T = documents.shape[1]
    causal = torch.ones(T, T, dtype=torch.bool, device=documents.device).tril()
    run = torch.cumsum(torch.cat([torch.zeros_like(documents[:, :1]), (documents[:, 1:] != documents[:, :-1]).to(documents.dtype)], 1), 1)
    allowed = (run[:, :, None] == run[:, None, :]) & causal
    mask = torch.zeros(allowed.shape, dtype=dtype, device=documents.device)
    return mask.masked_fill_(~allowed, torch.finfo(dtype).min)[:, None]


def split_documents(ids, tgt, documents, pad_id):
    """One row per document (padding runs, which hold no target, dropped), right-padded: (ids, targets,
    attention_mask), each [D, L] with L the longest document."""
    rows = []
    for b in range(ids.shape[0]):
        d = documents[b]
        cut = (torch.nonzero(d[1:] != d[:-1]).flatten() + 1).tolist()
        for s, e in zip([0] + cut, cut + [d.shape[0]]):
            if int(d[s]) != 0:
                rows.append((ids[b, s:e], tgt[b, s:e]))
    L = max(r[0].shape[0] for r in rows)
    out_ids = torch.full((len(rows), L), pad_id, dtype=ids.dtype, device=ids.device)
    out_tgt = torch.full((len(rows), L), IGNORE, dtype=tgt.dtype, device=ids.device)
    attn = torch.zeros((len(rows), L), dtype=torch.long, device=ids.device)
    for i, (x, y) in enumerate(rows):
        out_ids[i, :x.shape[0]] = x
        out_tgt[i, :x.shape[0]] = y
        attn[i, :x.shape[0]] = 1
    return out_ids, out_tgt, attn


def model_inputs(batch, mode, pad_id, mask_dtype, device):
    """(model keyword arguments, targets) for one micro-batch dict {input_ids, loss_mask, document_ids}."""
    ids = batch["input_ids"].to(device, torch.long)
    docs = batch["document_ids"].to(device, torch.long)
    tgt = targets(ids, batch["loss_mask"].to(device), docs)
    if mode == "packed":
        return {"input_ids": ids, "attention_mask": packed_attention(docs, mask_dtype), "position_ids": positions(docs)}, tgt
    ids, tgt, attn = split_documents(ids, tgt, docs, pad_id)
    return {"input_ids": ids, "attention_mask": attn}, tgt
