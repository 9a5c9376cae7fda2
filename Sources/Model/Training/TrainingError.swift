// The error of training: bad data, state or checkpoint files, named with their path and place.

/// A training error with a message naming the file or option at fault.
public struct TrainingError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
