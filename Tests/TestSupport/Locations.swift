// Where tests find committed fixtures, the shared evaluation data and scratch space.
import Foundation

/// File-system locations used by the test suites.
public enum TestPaths {
    /// The package root (two levels above this file: Tests/TestSupport/Locations.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Fixtures/<name>`: golden fixtures written by `scripts/reference/generate.sh`.
    public static func fixture(_ name: String) -> URL {
        packageRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name)
    }

    /// A fresh, empty temporary directory (never inside the working tree). The caller removes it.
    public static func makeTemporaryDirectory(_ label: String = "ecom-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The real evaluation data at `../shared/data` (or `$ECOM_SHARED_DATA`).
///
/// Tests that need it use `.enabled(if: SharedData.shouldRun)`: outside CI they are skipped, with the
/// trait's message, when the data is absent; in CI (`CI` set) they always run, so missing data fails loudly.
public enum SharedData {
    /// The directory holding `ecomgpt/`, `universal_ner/` and `bloom/`.
    public static var directory: URL {
        if let env = ProcessInfo.processInfo.environment["ECOM_SHARED_DATA"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return TestPaths.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    }

    /// True when the shared data directory exists.
    public static var isAvailable: Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir) && isDir.boolValue
    }

    /// True when running under CI (`CI` set to anything but empty, `0` or `false`).
    public static var isCI: Bool {
        guard let v = ProcessInfo.processInfo.environment["CI"]?.lowercased() else { return false }
        return !v.isEmpty && v != "0" && v != "false"
    }

    /// Whether a shared-data test should run: always in CI, otherwise only when the data is present.
    public static var shouldRun: Bool { isCI || isAvailable }

    /// A path inside the shared data directory; throws a clear error when it does not exist.
    public static func require(_ relative: String) throws -> URL {
        let url = directory.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw MissingSharedData(path: url.path)
        }
        return url
    }
}

/// Thrown when a test needs a file from the shared data directory that is not there.
public struct MissingSharedData: Error, CustomStringConvertible {
    public let path: String
    public var description: String {
        "missing shared data file \(path): put the shared data at ../shared/data beside the checkout or set ECOM_SHARED_DATA"
    }
}
