import ArgumentParser
import Foundation
import GlossServer
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the sync API until SIGTERM or SIGINT (then finish in-flight requests and stop).")

    @OptionGroup var db: DatabaseOptions
    @Option(help: "Address to listen on (default: $GLOSSD_HOST or 127.0.0.1).") var host: String?
    @Option(help: "Port (default: $GLOSSD_PORT or 8420; 0 picks a free one).") var port: Int?
    @Option(help: "Largest allowed clock skew of pushed stamps, in seconds.") var maxSkew: Int = 300
    @Flag(help: "Do not serve ticketed pushes (/v1/pushes): for daemons behind a load balancer that may send a ticket's two requests to different daemons.")
    var noPushTickets = false
    @Option(help: "Seconds without a request after which glossd gives memory back (its page caches, malloc's free memory); 0: never (at most 86400).")
    var releaseMemoryAfter: Double = 2

    func run() async throws {
        IdleRelease.limitMallocArenas()
        let env = ProcessInfo.processInfo.environment
        let host = host ?? env["GLOSSD_HOST"] ?? "127.0.0.1"
        guard let port = port ?? (env["GLOSSD_PORT"].map { Int($0) } ?? 8420), (0...65535).contains(port) else {
            throw ValidationError("GLOSSD_PORT must be a port number")
        }
        guard (0...86_400).contains(releaseMemoryAfter) else { throw ValidationError("--release-memory-after must be 0 to 86400 seconds") }
        let idle: Duration? = releaseMemoryAfter > 0 ? .milliseconds(max(1, Int64((releaseMemoryAfter * 1000).rounded(.up)))) : nil
        guard (0...31_536_000).contains(maxSkew) else { throw ValidationError("--max-skew must be 0 to 31536000 seconds (a year)") }
        var limits = SyncLimits()
        limits.maxClockSkewMillis = Int64(maxSkew) * 1000
        var logger = Logger(label: "glossd")
        logger.logLevel = env["GLOSSD_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        let (finalLimits, finalLogger) = (limits, logger)
        try await db.withService(limits: finalLimits, serving: true) { service in
            let app = buildApplication(
                configuration: ServerConfiguration(
                    host: host, port: port, limits: finalLimits, pushTickets: !noPushTickets, idleRelease: idle), service: service,
                logger: finalLogger
            ) { bound in
                FileHandle.standardOutput.write(Data("glossd listening on http://\(host):\(bound)\n".utf8))
            }
            do {
                try await app.runService()
            } catch {
                throw listenFailure(error, host: host, port: port).map { CLIError($0) } ?? error
            }
        }
    }
}
