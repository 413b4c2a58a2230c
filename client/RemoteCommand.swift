import ArgumentParser
import GlossCLI

struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remote", abstract: "Configure the sync daemon.", subcommands: [RemoteSetCommand.self])
}

struct RemoteSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Set the daemon URL and device token (the token is stored in the home with mode 0600).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The daemon's base URL, e.g. http://127.0.0.1:8420") var url: String
    @Option(help: "A device token from 'glossd user add' or 'glossd token add'.") var token: String

    func run() throws {
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw ValidationError("the URL must start with http:// or https://") }
        let replica = try global.openReplica()
        try replica.setRemote(url: url, token: token)
        Output.line("remote set to \(url); token saved to \(replica.tokenPath)")
    }
}
