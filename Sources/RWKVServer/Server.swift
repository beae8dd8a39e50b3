// The OpenAI-compatible HTTP server: `buildApplication` + `buildRouter`, in Hummingbird's shape.
//
// Routes: GET /v1/models, POST /v1/completions, POST /v1/chat/completions (both with
// `"stream": true` as server-sent events ending in `data: [DONE]`), GET /health, and the tokenizer routes
// POST /tokenize, POST /detokenize, GET /tokenizer_info (at the root and under /v1).
// Errors are OpenAI-style JSON: {"error": {"message", "type", "param", "code"}} with a 4xx status.

import Foundation
import Hummingbird
import RWKV

/// Server settings.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Largest `max_tokens` a request may ask for.
    public var maxTokensLimit = 4096
    /// `max_tokens` when a request gives none.
    public var defaultMaxTokens = 256

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}

/// The request context: Hummingbird's basic one (its `maxUploadSize`, 2 MB, answers larger bodies with 413).
public typealias ServerRequestContext = BasicRequestContext

/// Builds the application serving `engine`.
public func buildApplication(engine: some TextEngine, configuration: ServerConfiguration) -> some ApplicationProtocol {
    Application(router: buildRouter(engine: engine, configuration: configuration),
                configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "swift-rwkv"))
}

/// The routes, separate from the application so tests can drive them without a socket.
public func buildRouter(engine: some TextEngine, configuration: ServerConfiguration) -> Router<ServerRequestContext> {
    let router = Router(context: ServerRequestContext.self)
    router.add(middleware: LogRequestsMiddleware(.info))
    router.get("health") { _, _ in "ok" }
    let controller = CompletionsController(engine: engine, configuration: configuration)
    controller.addRoutes(to: router.group("v1"))
    controller.addTokenizerRoutes(to: router.group(""))
    controller.addTokenizerRoutes(to: router.group("v1"))
    return router
}

/// An error with an OpenAI-style JSON body.
struct APIError: HTTPResponseError {
    var status: HTTPResponse.Status
    var message: String
    var type = "invalid_request_error"
    var param: String? = nil

    struct Body: Encodable {
        struct Detail: Encodable { var message: String; var type: String; var param: String?; var code: String? }
        var error: Detail
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(error: Body.Detail(message: message, type: type, param: param, code: nil))
        let data = try JSONEncoder().encode(body)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func badRequest(_ message: String, param: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, param: param)
    }
}
