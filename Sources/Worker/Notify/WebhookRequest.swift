import Crypto
import Foundation

/// The HTTP request one webhook kind expects for an alert, signed where the robot asks for it
/// (docs/notify.md). Pure: `now` is passed in, so signatures are testable.
package struct WebhookRequest: Sendable, Equatable {
    package var url: String
    package var body: [UInt8]

    package init(url: String, body: [UInt8]) {
        self.url = url
        self.body = body
    }

    package static func make(for alert: AlertNotice, to webhook: NotifyConfig.Webhook, nowMillis: Int64)
        -> WebhookRequest
    {
        switch webhook.kind {
        case .dingtalk:
            // DingTalk custom robot: timestamp (ms) and sign = Base64(HMAC-SHA256(secret,
            // "timestamp\nsecret")) as URL parameters.
            var url = webhook.url
            if let secret = webhook.secret {
                let sign = hmac(key: secret, message: "\(nowMillis)\n\(secret)")
                url += (url.contains("?") ? "&" : "?") + "timestamp=\(nowMillis)&sign=\(percentEncoded(sign))"
            }
            return WebhookRequest(url: url, body: json(["msgtype": "text", "text": ["content": alert.text]]))
        case .feishu:
            // Feishu custom bot: timestamp (s) and sign = Base64(HMAC-SHA256("timestamp\nsecret",
            // empty message)) in the body.
            var body: [String: Any] = ["msg_type": "text", "content": ["text": alert.text]]
            if let secret = webhook.secret {
                let seconds = nowMillis / 1000
                body["timestamp"] = "\(seconds)"
                body["sign"] = hmac(key: "\(seconds)\n\(secret)", message: "")
            }
            return WebhookRequest(url: webhook.url, body: json(body))
        case .wecom:
            return WebhookRequest(url: webhook.url, body: json(["msgtype": "text", "text": ["content": alert.text]]))
        case .slack:
            return WebhookRequest(url: webhook.url, body: json(["text": alert.text]))
        case .webhook:
            return WebhookRequest(url: webhook.url, body: alert.raw)
        }
    }

    /// Whether a 2xx answer means delivered: DingTalk and WeCom answer `errcode` 0, Feishu
    /// `code` 0 (or `StatusCode` 0 in its older form); others any 2xx.
    package static func accepted(kind: NotifyConfig.Webhook.Kind, body: [UInt8]) -> Bool {
        switch kind {
        case .slack, .webhook:
            return true
        case .dingtalk, .wecom, .feishu:
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                return false
            }
            let code = object["errcode"] ?? object["code"] ?? object["StatusCode"]
            return (code as? Int) == 0
        }
    }

    static func hmac(key: String, message: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.utf8)))
        return Data(mac).base64EncodedString()
    }

    private static func percentEncoded(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    private static func json(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }
}
