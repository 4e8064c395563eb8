import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A blocking HTTP GET for tests: (status, body), or nil when nothing answered.
package func httpGet(_ url: String, timeout: TimeInterval = 5) -> (status: Int, body: String)? {
    final class Box: @unchecked Sendable { var result: (Int, String)? }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    var request = URLRequest(url: URL(string: url)!)
    request.timeoutInterval = timeout
    URLSession.shared.dataTask(with: request) { data, response, _ in
        if let http = response as? HTTPURLResponse {
            box.result = (http.statusCode, String(decoding: data ?? Data(), as: UTF8.self))
        }
        done.signal()
    }.resume()
    _ = done.wait(timeout: .now() + timeout + 1)
    return box.result
}

/// The value of one sample line (`name{labels} value`) in Prometheus text, summed over every
/// series whose line starts with `prefix`.
package func metricValue(_ text: String, _ prefix: String) -> Double? {
    var total: Double?
    for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
        guard let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
        total = (total ?? 0) + value
    }
    return total
}
