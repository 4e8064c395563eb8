/// Bounds on what the decoder accepts; everything past them is bad input, not a crash.
package struct DecoderLimits: Sendable, Equatable {
    package var maxPayloadBytes: Int = 64 * 1024
    package var maxDepth: Int = 32
    package var maxFieldBytes: Int = 256
    /// Region and rep ids name scopes and key every summary: at most this long.
    package var maxIdBytes: Int = 128
    /// Event times outside [earliest, latest) are absurd (default: years 2000 to 2099).
    package var earliest: EpochMillis = 946_684_800_000
    package var latest: EpochMillis = 4_102_444_800_000
    /// How far ahead of the wall clock an event time may be (`time.max_future`).
    package var maxFuture: EpochMillis = 5 * 60_000
    /// The largest single amount accepted, in minor units of the reporting currency.
    package var maxAmountMinorUnits: Int64 = 1_000_000_000_000_00

    package init() {}
}
