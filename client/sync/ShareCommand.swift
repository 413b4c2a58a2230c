import ArgumentParser
import GlossCLI
import GlossModel
import GlossSyncClient

struct ShareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "share", abstract: RemoteCommandAbstract.share)

    enum Role: String, ExpressibleByArgument, CaseIterable { case reader, editor }

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The tag to share: every excerpt carrying it, now and later.") var tag: String
    @Option(name: .customLong("with"), help: "The user to share with.") var user: String
    @Option(help: "reader (sees it) or editor (can also add, remove and write notes).") var role: Role

    func run() async throws {
        if let problem = Limits.validateTag(tag) { throw ValidationError(problem) }
        let replica = try global.openReplica()
        let info = try await SyncClient.forReplica(replica).share(tag: tag, with: user, role: role.rawValue)
        if output.json { return try Output.json(info) }
        Output.line("shared \(info.name) with \(user) as \(role.rawValue); members: \(info.members.map { "\($0.user) (\($0.role))" }.joined(separator: ", "))")
    }
}

struct UnshareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unshare", abstract: RemoteCommandAbstract.unshare)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The shared tag.") var tag: String
    @Option(name: .customLong("with"), help: "The member to remove.") var user: String

    func run() async throws {
        let replica = try global.openReplica()
        try await SyncClient.forReplica(replica).unshare(tag: tag, with: user)
        Output.line("stopped sharing \(tag) with \(user)")
    }
}

struct CollectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collections", abstract: RemoteCommandAbstract.collections)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let replica = try global.openReplica()
        var list: [CollectionInfo]
        do {
            list = try await SyncClient.forReplica(replica, timeout: 10).collections()
        } catch let e as SyncClientError {
            if case .refused = e { throw e }
            list = try replica.cachedCollections()
            Output.message("note: \(e); showing collections as of the last sync")
        }
        if output.json { return try Output.json(list) }
        if list.isEmpty { return Output.message("no collections") }
        for c in list {
            let members = c.members.map { "\($0.user) (\($0.role))" }.joined(separator: ", ")
            Output.line(Output.bold(c.name) + "  you: \(c.role)" + Output.dim(members.isEmpty ? "" : "  members: \(members)"))
        }
    }
}
