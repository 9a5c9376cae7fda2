// EcomInstruct: instruction records, templates, sources, atomic tasks, filters, splits, zstd shards and packing (issue 7).
// This file holds the module's overview and its error type; each part of the library lives in a file of its own.
//
// Pipeline: sources (EcomGPT task folders, UniversalNER conversations, our raw e-commerce JSON Lines) produce
// `InstructionRecord`s; atomic-task generators derive more records; `RecordFilter` cleans them and reports every
// removal; `SplitAssigner` keeps held-out tasks out of training; `ShardWriter` stores records in zstd shards listed by a
// `ShardManifest`; `ShardStream` streams them back shuffled; `Packer` turns rendered records into fixed-length token
// sequences with loss masks.
import Foundation

/// An error from the data pipeline, naming the file and the place where it went wrong.
public struct InstructError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
