import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// The HTTP endpoint for platform tooling: `/metrics` (Prometheus text format), `/healthz`
/// (the process and its pipeline are alive) and `/readyz` (see `HealthState`).
package final class ObservabilityServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// The bound port: the configured one, or the one the OS picked when asked for port 0.
    package let port: Int

    package init(host: String, port: Int, registry: PrometheusCollectorRegistry, health: HealthState) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(registry: registry, health: health))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.port = channel.localAddress?.port ?? port
    }

    package func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    private final class HTTPHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let registry: PrometheusCollectorRegistry
        let health: HealthState
        private var head: HTTPRequestHead?

        init(registry: PrometheusCollectorRegistry, health: HealthState) {
            self.registry = registry
            self.health = health
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h
            case .body: break
            case .end:
                guard let head else { return }
                self.head = nil
                respond(context: context, head: head)
            }
        }

        private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
            let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
            let (status, contentType, body): (HTTPResponseStatus, String, [UInt8])
            switch (head.method, path) {
            case (.GET, "/metrics"):
                (status, contentType, body) = (.ok, "text/plain; version=0.0.4; charset=utf-8", registry.emitToBuffer())
            case (.GET, "/healthz"):
                let problems = health.problems
                let text = problems.isEmpty ? "ok\n" : problems.map { $0 + "\n" }.joined()
                (status, contentType, body) = (
                    problems.isEmpty ? .ok : .serviceUnavailable, "text/plain", Array(text.utf8)
                )
            case (.GET, "/readyz"):
                let reasons = health.notReadyReasons
                let text = reasons.isEmpty ? "ready\n" : reasons.map { "not ready: \($0)\n" }.joined()
                (status, contentType, body) = (
                    reasons.isEmpty ? .ok : .serviceUnavailable, "text/plain", Array(text.utf8)
                )
            default:
                (status, contentType, body) = (
                    .notFound, "text/plain", Array("try /metrics, /healthz or /readyz\n".utf8)
                )
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.count))
            let keepAlive = head.isKeepAlive
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                promise: nil)
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive {
                let channel = context.channel
                done.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}
