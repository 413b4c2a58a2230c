import ArgumentParser
import Foundation
import GlossCLI

/// The commands that talk to glossd run in `gloss-sync`, beside this binary (client/sync/README.md):
/// each one here takes its arguments as they are and replaces this process with `gloss-sync`.
enum GlossSyncBinary {
    static let help = ArgumentHelp("Options and arguments, passed to gloss-sync ('gloss COMMAND --help' lists them).")

    static func exec(_ command: String, _ arguments: [String]) throws -> Never {
        let own = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? Bundle.main.executableURL?.resolvingSymlinksInPath().path ?? CommandLine.arguments[0]
        let path = URL(fileURLWithPath: own).deletingLastPathComponent().appendingPathComponent("gloss-sync").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CLIError("'gloss \(command)' runs gloss-sync, which is not beside gloss (\(path)): install both (swift build builds both)")
        }
        let argv = ([path, command] + arguments).map { strdup($0) } + [nil]
        execv(path, argv)
        throw CLIError("could not run \(path): \(String(cString: strerror(errno)))")
    }
}

/// A command of gloss-sync as gloss lists it: its name and abstract, and its arguments passed on.
protocol PassedToGlossSync: ParsableCommand {
    var arguments: [String] { get }
}

extension PassedToGlossSync {
    func run() throws { try GlossSyncBinary.exec(Self.configuration.commandName!, arguments) }
}

struct SyncCommand: PassedToGlossSync {
    static let configuration = CommandConfiguration(commandName: "sync", abstract: RemoteCommandAbstract.sync)
    @Argument(parsing: .captureForPassthrough, help: GlossSyncBinary.help) var arguments: [String] = []
}

struct ShareCommand: PassedToGlossSync {
    static let configuration = CommandConfiguration(commandName: "share", abstract: RemoteCommandAbstract.share)
    @Argument(parsing: .captureForPassthrough, help: GlossSyncBinary.help) var arguments: [String] = []
}

struct UnshareCommand: PassedToGlossSync {
    static let configuration = CommandConfiguration(commandName: "unshare", abstract: RemoteCommandAbstract.unshare)
    @Argument(parsing: .captureForPassthrough, help: GlossSyncBinary.help) var arguments: [String] = []
}

struct CollectionsCommand: PassedToGlossSync {
    static let configuration = CommandConfiguration(commandName: "collections", abstract: RemoteCommandAbstract.collections)
    @Argument(parsing: .captureForPassthrough, help: GlossSyncBinary.help) var arguments: [String] = []
}

struct VerifyCommand: PassedToGlossSync {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: RemoteCommandAbstract.verify)
    @Argument(parsing: .captureForPassthrough, help: GlossSyncBinary.help) var arguments: [String] = []
}
