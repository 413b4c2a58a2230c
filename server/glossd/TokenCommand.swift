import ArgumentParser
import GlossServer

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Add or revoke device tokens.", subcommands: [TokenAddCommand.self, TokenRevokeCommand.self])
}

struct TokenAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a device token for a user (printed once).")

    @OptionGroup var db: DatabaseOptions
    @Argument(help: "The user's name.") var name: String
    @Option(help: "A label for the device.") var label = "device"
    @Flag(help: "Print {\"user\", \"token\"} as JSON.") var json = false

    func run() async throws {
        let (name, label) = (name, label)
        let token = try await db.withService { try await $0.addToken(userName: name, label: label) }
        if json { return try printJSON(["user": name, "token": token]) }
        print("token for \(name) (\(label), shown once): \(token)")
    }
}

struct TokenRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a user's tokens (those with --label, or all).")

    @OptionGroup var db: DatabaseOptions
    @Argument(help: "The user's name.") var name: String
    @Option(help: "Only tokens with this label.") var label: String?

    func run() async throws {
        let (name, label) = (name, label)
        let n = try await db.withService { try await $0.revokeTokens(userName: name, label: label) }
        print("revoked \(n) token(s) of \(name)")
    }
}
