import Foundation

/// Machine-readable figures: every measure is printed for people and, when `BENCH_RESULTS` names
/// a file, appended to it as `KEY<TAB>VALUE<TAB>UNIT` for `gloss-bench report`.
enum Results {
    static let path = ProcessInfo.processInfo.environment["BENCH_RESULTS"]

    static func record(_ key: String, _ value: Double, _ unit: String) {
        guard let path else { return }
        let line = "\(key)\t\(String(format: "%.4f", value))\t\(unit)\n"
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            handle.closeFile()
        } else {
            FileManager.default.createFile(atPath: path, contents: Data(line.utf8))
        }
    }

    /// Every figure of a results file (later lines win) and the free-text notes (`#` lines).
    static func load(_ path: String) throws -> (values: [String: Double], notes: [String: String]) {
        var values: [String: Double] = [:]
        var notes: [String: String] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if line.hasPrefix("#"), parts.count >= 2 {
                notes[String(parts[0].dropFirst())] = parts[1]
            } else if parts.count >= 2, let v = Double(parts[1]) {
                values[parts[0]] = v
            }
        }
        return (values, notes)
    }
}
