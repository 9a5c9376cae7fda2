// Loads the golden fixtures of Tests/Fixtures/metrics (written by scripts/reference/gen_metrics.py).
import Foundation
import EcomTestSupport

enum Fixture {
    static func load(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: TestPaths.fixture("metrics/\(name)"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
    /// [f, p, r] from a JSON array, or nil for null.
    static func triple(_ v: Any?) -> [Double]? { (v as? [Any])?.map { ($0 as! NSNumber).doubleValue } }
    static func double(_ v: Any?) -> Double { (v as? NSNumber)?.doubleValue ?? .nan }
}

/// |a - b| <= 1e-9, NaN only equal to NaN.
func near(_ a: Double, _ b: Double) -> Bool { isClose(a, b, rtol: 0, atol: 1e-9) }
