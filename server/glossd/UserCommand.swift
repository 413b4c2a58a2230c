import ArgumentParser
import GlossServer

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage users.", subcommands: [UserAddCommand.self])
}

struct UserAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Create a user and a first device token (printed once; only its hash is stored).")

    @OptionGroup var db: DatabaseOptions
    @Argument(help: "The user's name.") var name: String
    @Flag(help: "Print {\"user\", \"token\"} as JSON.") var json = false

    func run() async throws {
        let name = name
        let (user, token) = try await db.withService { try await $0.addUser(name: name) }
        if json { return try printJSON(["user": user.name, "token": token]) }
        print("created user \(user.name)")
        print("token (shown once, keep it safe): \(token)")
    }
}
