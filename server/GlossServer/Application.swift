import Foundation
import GlossCompression
import GlossModel
import Hummingbird
import Logging
import NIOCore

/// Where and how glossd serves.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var limits: SyncLimits
    /// Serve ticketed pushes (`/v1/pushes`). Off behind a load balancer that may send a ticket's
    /// GET to another daemon: clients then push with one `POST /v1/push` per batch.
    public var pushTickets: Bool
    /// After this long with no request, glossd gives memory back (`IdleRelease`); nil: never.
    public var idleRelease: Duration?
    public init(
        host: String = "127.0.0.1", port: Int = 8420, limits: SyncLimits = SyncLimits(), pushTickets: Bool = true,
        idleRelease: Duration? = .seconds(2)
    ) {
        self.host = host
        self.port = port
        self.limits = limits
        self.pushTickets = pushTickets
        self.idleRelease = idleRelease
    }
}

/// The request context: the authenticated user once `AuthMiddleware` has checked the token.
public struct GlossRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var user: AuthenticatedUser?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        user = nil
    }

    /// The authenticated user; routes behind `AuthMiddleware` always have one.
    func requireUser() throws -> AuthenticatedUser {
        guard let user else { throw SyncError(401, "unauthenticated", "missing or invalid bearer token") }
        return user
    }
}

/// Why `glossd serve` could not listen, in words, with what to do; nil for any other error.
public func listenFailure(_ error: any Error, host: String, port: Int) -> String? {
    guard let e = error as? IOError else { return nil }
    switch e.errnoCode {
    case EADDRINUSE: return "cannot listen on \(host):\(port): the port is in use (another glossd?); stop that process or choose another --port"
    case EADDRNOTAVAIL: return "cannot listen on \(host):\(port): \(host) is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its addresses"
    case EACCES: return "cannot listen on \(host):\(port): permission denied (ports below 1024 need privileges); choose a port above 1023"
    default: return nil
    }
}

/// Builds the daemon's HTTP application (thin `@main` in `glossd`; tests call this too).
/// `onListening` receives the bound port (useful with port 0).
public func buildApplication(
    configuration: ServerConfiguration, service: SyncService, logger: Logger,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router(context: GlossRequestContext.self)
    router.middlewares.add(RequestLogMiddleware(logger: logger))
    router.middlewares.add(ErrorMiddleware(logger: logger))
    if let quiet = configuration.idleRelease {
        let store = service.store
        router.middlewares.add(IdleMiddleware(idle: IdleRelease(quiet: quiet) {
            let before = IdleRelease.residentBytes()
            await store.releaseMemory()
            await IdleRelease.trimHeap()
            logger.info("idle: gave memory back", metadata: ["rss_mb": "\(before >> 20) -> \(IdleRelease.residentBytes() >> 20)"])
        }))
    }
    let api = SyncAPI(service: service, tickets: PushTickets())
    router.get("/healthz") { _, _ in
        jsonResponse(Array("{\"status\":\"ok\"}".utf8), status: .ok, gzip: false)
    }
    let v1 = router.group("v1").add(middleware: AuthMiddleware(service: service))
    v1.post("push") { request, context in try await api.push(request, context) }
    if configuration.pushTickets {
        v1.post("pushes") { request, context in try await api.submitPush(request, context) }
        v1.get("pushes/:ticket") { _, context in
            let user = try context.requireUser()
            let ticket = context.parameters.get("ticket") ?? ""
            let response = try await api.tickets.outcome(user: user.userID, ticket: ticket)
            return jsonResponse(ChangeWriter.pushResponse(response), status: .ok, gzip: false)
        }
    }
    v1.post("pull") { request, context in try await api.pull(request, context) }
    v1.post("verify") { request, context in
        let user = try context.requireUser()
        let body: VerifyRequest = try api.decode(try await api.readBody(request, limit: 64 * 1024))
        let answer = try await service.verify(body, user: user)
        return jsonResponse(try JSONEncoder().encode(answer).map { $0 }, status: .ok, gzip: api.acceptsGzip(request))
    }
    v1.get("collections") { _, context in
        let user = try context.requireUser()
        return jsonResponse(try JSONEncoder().encode(try await service.collections(for: user)).map { $0 }, status: .ok, gzip: false)
    }
    v1.post("collections/share") { request, context in
        let user = try context.requireUser()
        let body: ShareRequest = try api.decode(try await api.readBody(request, limit: 64 * 1024))
        let info = try await service.share(body, owner: user)
        return jsonResponse(try JSONEncoder().encode(info).map { $0 }, status: .ok, gzip: false)
    }
    v1.post("collections/unshare") { request, context in
        let user = try context.requireUser()
        let body: ShareRequest = try api.decode(try await api.readBody(request, limit: 64 * 1024))
        try await service.unshare(body, owner: user)
        return jsonResponse(Array("{\"ok\":true}".utf8), status: .ok, gzip: false)
    }
    v1.get("whoami") { _, context in
        let user = try context.requireUser()
        return jsonResponse(try JSONEncoder().encode(["user": user.name]).map { $0 }, status: .ok, gzip: false)
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "glossd"),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

/// The sync routes: decode, call `SyncService`, encode.
struct SyncAPI: Sendable {
    let service: SyncService
    let tickets: PushTickets

    func push(_ request: Request, _ context: GlossRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let push = try Self.parsePush(try await readBody(request, limit: service.limits.maxBodyBytes))
        let response = try await service.push(push, user: user)
        return jsonResponse(ChangeWriter.pushResponse(response), status: .ok, gzip: false)
    }

    /// `POST /v1/pushes`: the same body as `/v1/push`, answered 202 `{"push": TICKET}` as soon as
    /// it is read (its size and encoding checked); the batch is parsed, checked and stored
    /// meanwhile, and a malformed one is answered 400 by the ticket's GET (see `PushTickets`).
    /// Parsing after the 202 matters: until its answer comes, the client's URLSession spins a core
    /// (an excerpt batch takes the daemon 10–20 ms to parse, on the 2 cores both share here).
    func submitPush(_ request: Request, _ context: GlossRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let body = try await readBody(request, limit: service.limits.maxBodyBytes)
        let ticket = try tickets.submit(user: user.userID) { [service] in try await service.push(try Self.parsePush(body), user: user) }
        return jsonResponse(try JSONEncoder().encode(PushTicket(push: ticket)).map { $0 }, status: .accepted, gzip: false)
    }

    static func parsePush(_ body: [UInt8]) throws -> PushRequest {
        do { return try ChangeReader.pushRequest(body) } catch let e as JSONReadError {
            throw SyncError(400, "bad_json", e.description)
        }
    }

    func pull(_ request: Request, _ context: GlossRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let body = try await readBody(request, limit: 64 * 1024)
        let pull: PullRequest = try decode(body)
        let page = try await service.pull(pull, user: user)
        return jsonResponse(page, status: .ok, gzip: acceptsGzip(request) && page.count > 1024)
    }

    /// Collects the body (413 above `limit`), inflating it when sent with Content-Encoding: gzip.
    func readBody(_ request: Request, limit: Int) async throws -> [UInt8] {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: limit) } catch is NIOTooManyBytesError {
            throw SyncError(413, "body_too_large", "the request body is over \(limit) bytes; send fewer changes per request")
        }
        let bytes = Array(buffer.readableBytesView)
        let encoding = request.headers[.contentEncoding]?.lowercased() ?? "identity"
        switch encoding {
        case "identity": return bytes
        case "gzip":
            do { return try Gzip.decompress(bytes, limit: limit) } catch GzipError.tooLarge {
                throw SyncError(413, "body_too_large", "the request body is over \(limit) bytes once decompressed; send fewer changes per request")
            } catch {
                throw SyncError(400, "bad_encoding", "\(error)")
            }
        default:
            throw SyncError(415, "unsupported_encoding", "Content-Encoding '\(encoding.prefix(40))' is not supported; send identity or gzip")
        }
    }

    func decode<T: Decodable>(_ bytes: [UInt8]) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(bytes)) } catch let error as DecodingError {
            throw SyncError(400, "bad_json", describe(error))
        } catch {
            throw SyncError(400, "bad_json", "the body is not valid JSON")
        }
    }

    func describe(_ error: DecodingError) -> String {
        func path(_ ctx: DecodingError.Context) -> String {
            let p = ctx.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "the body" : String(p.prefix(200))
        }
        switch error {
        case .keyNotFound(let key, let ctx): return "missing field '\(key.stringValue.prefix(60))' in \(path(ctx))"
        case .typeMismatch(let type, let ctx): return "wrong type at \(path(ctx)): expected \(type)"
        case .valueNotFound(let type, let ctx): return "missing value at \(path(ctx)): expected \(type)"
        case .dataCorrupted(let ctx): return "invalid JSON at \(path(ctx)): \(ctx.debugDescription.prefix(200))"
        @unknown default: return "invalid JSON"
        }
    }

    func acceptsGzip(_ request: Request) -> Bool {
        (request.headers[.acceptEncoding] ?? "").lowercased().contains("gzip")
    }
}

func jsonResponse(_ bytes: [UInt8], status: HTTPResponse.Status, gzip: Bool) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    var body = bytes
    if gzip {
        body = Gzip.compress(bytes, level: 1)
        headers[.contentEncoding] = "gzip"
    }
    var buffer = ByteBuffer()
    buffer.writeBytes(body)
    return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
}

func errorResponse(status: Int, code: String, message: String, refused: [RefusedChange]? = nil) -> Response {
    let body = try! JSONEncoder().encode(ErrorBody(code: code, message: message, refused: refused))
    return jsonResponse(Array(body), status: HTTPResponse.Status(code: status), gzip: false)
}

/// Checks `Authorization: Bearer TOKEN` on every `/v1/` route.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = GlossRequestContext
    let service: SyncService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw SyncError(401, "unauthenticated", "send 'Authorization: Bearer TOKEN' (create a token with 'glossd token add')")
        }
        let token = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let user = try await service.authenticate(bearer: token) else {
            throw SyncError(401, "unauthenticated", "the token is unknown or revoked")
        }
        var context = context
        context.user = user
        context.logger[metadataKey: "user"] = .string(user.name)
        return try await next(request, context)
    }
}

/// Turns every error into `{"error": {"code", "message"}}` with the right status. Internal
/// errors are logged and answered with a generic 500 (no details leak).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = GlossRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as SyncError {
            return errorResponse(status: e.status, code: e.code, message: e.message, refused: e.refused)
        } catch let e as HTTPError {
            let code = e.status.code
            let name = code == 404 ? "not_found" : code == 405 ? "method_not_allowed" : code == 413 ? "body_too_large" : "http_\(code)"
            let message = code == 404 ? "no such endpoint: \(request.method) \(request.uri.path.prefix(100))" : (e.body ?? e.status.reasonPhrase)
            return errorResponse(status: code, code: name, message: message)
        } catch is NIOTooManyBytesError {
            return errorResponse(status: 413, code: "body_too_large", message: "the request body is too large")
        } catch {
            logger.error("internal error", metadata: ["path": .string(request.uri.path), "error": .string("\(error)")])
            return errorResponse(status: 500, code: "internal", message: "internal error; the daemon logged it")
        }
    }
}

/// One structured log line per request: method, path, status, milliseconds, user. Never the
/// Authorization header or bodies.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = GlossRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let ms = (ContinuousClock.now - start).components
        let millis = Double(ms.seconds) * 1000 + Double(ms.attoseconds) / 1e15
        logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(String(request.uri.path.prefix(200))),
                "status": .stringConvertible(response.status.code), "ms": .string(String(format: "%.1f", millis)),
            ])
        return response
    }
}
