// EcomModel: BLOOM model, generation and training (issues 6 and 8).
// This file holds the module's overview; each part of the library lives in a file of its own.
