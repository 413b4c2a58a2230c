import ArgumentParser
import GlossCLI
import Foundation
import GlossCorpus
import GlossReplica

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export excerpts with their tags and notes as JSON or Markdown.",
        discussion: "The JSON export can be imported again with 'gloss import'.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case json, markdown }

    @OptionGroup var global: GlobalOptions
    @Option(help: "json or markdown.") var format: Format
    @Option(help: "Only excerpts with this tag.") var tag: String?
    @Option(help: "Write to this file instead of standard output.") var output: String?

    func run() throws {
        let replica = try global.openReplica()
        let records = try replica.list(tag: tag)
        let data: Data
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            data = try encoder.encode(ExportDocument(excerpts: records, exportedAt: Replica.systemNow())) + Data("\n".utf8)
        case .markdown:
            data = Data(MarkdownExport.render(records, tag: tag).utf8)
        }
        if let output {
            let tmp = output + ".tmp-\(getpid())"
            guard FileManager.default.createFile(atPath: tmp, contents: data) else { throw CLIError("cannot write \(output)") }
            if rename(tmp, output) != 0 {
                unlink(tmp)
                throw CLIError("cannot write \(output): \(String(cString: strerror(errno)))")
            }
            Output.message("exported \(records.count) excerpt(s) to \(output)")
        } else {
            FileHandle.standardOutput.write(data)
        }
    }
}

/// Markdown: excerpts grouped by source, each quote followed by its citation, tags and notes.
enum MarkdownExport {
    static func render(_ records: [ExcerptRecord], tag: String?) -> String {
        var groups: [String: [ExcerptRecord]] = [:]
        var order: [String] = []
        for r in records {
            let key = CompilationParser.sourceKey(rawCitation: r.citation.raw)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        let compilation = records.first?.compilation ?? ""
        var out = "# " + (compilation.isEmpty ? "Gloss export" : compilation) + (tag.map { " — tag `\($0)`" } ?? "") + "\n\n"
        out += "\(records.count) excerpt(s) from \(order.count) source(s).\n"
        for key in order {
            let rs = groups[key]!
            let c = rs[0].citation
            var heading = c.authors.joined(separator: " & ")
            if !c.title.isEmpty { heading += (heading.isEmpty ? "" : " — ") + "*\(c.title)*" }
            if let y = c.year { heading += " (\(y))" }
            out += "\n## " + (heading.isEmpty ? key : heading) + "\n"
            for r in rs {
                out += "\n"
                for paragraph in r.text.split(separator: "\n") { out += "> " + paragraph + "\n>\n" }
                out.removeLast(2)
                out += "\n\n— " + r.citation.raw + "  \n`" + r.id.prefix(8) + "`"
                if !r.tags.isEmpty { out += " · tags: " + r.tags.map { "`\($0)`" }.joined(separator: ", ") }
                out += "\n"
                for n in r.notes {
                    out += "\n- **Note** (\(n.updatedAt.prefix(10))\(n.collection.map { ", in \($0)" } ?? "")): "
                        + n.body.replacingOccurrences(of: "\n", with: "\n  ") + "\n"
                }
            }
        }
        return out
    }
}
