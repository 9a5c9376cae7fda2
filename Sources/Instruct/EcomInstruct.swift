// EcomInstruct: instruction records, templates, filtering and zstd shards (issue 7).
// This file holds the module's overview; each part of the library lives in a file of its own.
