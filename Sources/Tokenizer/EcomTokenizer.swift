// EcomTokenizer: byte-level BPE tokenizer reading and writing HF tokenizer.json (issue 3).
// This file holds the module's overview; each part of the library lives in a file of its own.
