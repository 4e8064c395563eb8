import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A chat robot on loopback for notify tests: records every request and answers as `respond`
/// says (status, body) for the n-th request to a path (1-based).
final class WebhookServer: Sendable {
    struct Request: Sendable {
        var path: String
        var query: String
        var body: [UInt8]
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
    }

    /// The requests so far, shared with the handlers on the event loop.
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [Request] = []

        /// Appends and returns how many requests `path` has had, this one included.
        func append(_ r: Request) -> Int {
            lock.lock()
            defer { lock.unlock() }
            items.append(r)
            return items.filter { $0.path == r.path }.count
        }

        var all: [Request] {
            lock.lock()
            defer { lock.unlock() }
            return items
        }
    }

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel: any Channel
    private let log = Log()
    let port: Int

    init(respond: @escaping @Sendable (_ path: String, _ n: Int) -> (Int, String)) throws {
        let log = self.log
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(log: log, respond: respond))
                }
            }
        channel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress!.port!
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    var requests: [Request] { log.all }

    func requests(to path: String) -> [Request] { requests.filter { $0.path == path } }

    func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let log: Log
        let respond: @Sendable (String, Int) -> (Int, String)
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(log: Log, respond: @escaping @Sendable (String, Int) -> (Int, String)) {
            self.log = log
            self.respond = respond
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = []
            case .body(let buffer):
                body += Array(buffer: buffer)
            case .end:
                guard let head else { return }
                let parts = head.uri.split(separator: "?", maxSplits: 1)
                let path = String(parts.first ?? "")
                let request = Request(path: path, query: parts.count > 1 ? String(parts[1]) : "", body: body)
                let n = log.append(request)
                let (status, text) = respond(path, n)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: String(text.utf8.count))
                context.write(
                    wrapOutboundOut(
                        .head(
                            HTTPResponseHead(
                                version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
                        )), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                self.head = nil
            }
        }
    }
}
