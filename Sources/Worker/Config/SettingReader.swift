/// Where decoding a config file notes each bad value, so one does not hide the others: the
/// value's default stands and decoding goes on (`ConfigLoader` reports them all, each with its key).
final class DecodingProblems {
    var errors: [DecodingError] = []
}

extension CodingUserInfoKey {
    static let decodingProblems = CodingUserInfoKey(rawValue: "salespulse.decodingProblems")!
}

/// Reads the keys of one config section: a key that is absent keeps its default; one that is
/// present with a bad value is noted in the decoder's `DecodingProblems` (or thrown, without one).
struct SettingReader<Key: CodingKey> {
    private let container: KeyedDecodingContainer<Key>
    private let problems: DecodingProblems?

    init(_ decoder: any Decoder, _: Key.Type) throws {
        container = try decoder.container(keyedBy: Key.self)
        problems = decoder.userInfo[.decodingProblems] as? DecodingProblems
    }

    func read<T: Decodable>(_ key: Key, into value: inout T) throws {
        do {
            if let read = try container.decodeIfPresent(T.self, forKey: key) { value = read }
        } catch let error as DecodingError {
            guard let problems else { throw error }
            problems.errors.append(error)
        }
    }
}
