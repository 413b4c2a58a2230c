/// The sample compilation shipped with Gloss, embedded at build time.
public enum SampleCorpus {
    /// File name used in messages and as the import's source name.
    public static let fileName = "military-purges.txt"
    /// The raw bytes of `military-purges.txt`.
    public static var bytes: [UInt8] { PackageResources.military_purges_txt }
}
