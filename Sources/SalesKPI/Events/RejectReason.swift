/// Why an input message went to the dead-letter topic. The raw values are the stable reason codes
/// written to the `reason` header and used as metric labels.
package enum RejectReason: String, Sendable, CaseIterable, Codable {
    case emptyPayload = "empty_payload"
    case tooLarge = "too_large"
    case invalidUTF8 = "invalid_utf8"
    case malformedJSON = "malformed_json"
    case missingField = "missing_field"
    case invalidField = "invalid_field"
    case invalidAmount = "invalid_amount"
    case negativeAmount = "negative_amount"
    case unknownCurrency = "unknown_currency"
    case invalidTimestamp = "invalid_timestamp"
    case absurdTimestamp = "absurd_timestamp"
    /// `occurred_at` further ahead of the wall clock than `time.max_future`: a mistyped year or
    /// a producer's clock, which would otherwise close every window before the real events come.
    case futureTimestamp = "future_timestamp"
    case createdAfterOccurred = "created_after_occurred"
    case late = "late"
    /// The event would take a window's sum past what it can hold exactly (`SumHeadroom`).
    case amountOverflow = "amount_overflow"
    /// A new region or rep past `processing.max_regions` or `processing.max_reps_per_region`.
    case scopeLimit = "scope_limit"
    /// A record on the internal topic that is not a readable routed batch (only the route stage
    /// should write there).
    case unreadableBatch = "unreadable_batch"
    /// A record whose outputs the cluster refused stage rebuild after stage rebuild
    /// (`PoisonHunt`): dead-lettered so the stage moves on.
    case unprocessable = "unprocessable"
    /// `salespulse notify` could not deliver an alert to a webhook (every attempt failed, or the
    /// webhook refused it): the alert, with the webhook's name and the last error.
    case notifyFailed = "notify_failed"
}

/// A rejection with a human-readable detail (which field, what was wrong).
package struct Rejection: Error, Sendable, Equatable {
    package var reason: RejectReason
    package var detail: String

    package init(_ reason: RejectReason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }
}
