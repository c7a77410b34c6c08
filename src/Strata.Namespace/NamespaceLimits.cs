namespace Strata.Namespace;

/// <summary>The hard limits of the namespace. Requests beyond them are refused with INVALID_ARGUMENT.</summary>
public static class NamespaceLimits
{
    /// <summary>Bytes (UTF-8) of one path component.</summary>
    public const int MaxNameBytes = 255;

    /// <summary>Bytes (UTF-8) of a full path inside a bucket.</summary>
    public const int MaxPathBytes = 1024;

    /// <summary>Bytes (UTF-8) of all user metadata keys and values of one object together.</summary>
    public const int MaxUserMetadataBytes = 2048;

    /// <summary>Directory levels of a path.</summary>
    public const int MaxDepth = 128;

    /// <summary>Operations in one transaction.</summary>
    public const int MaxTransactionOperations = 1000;

    /// <summary>Physical locations of one object.</summary>
    public const int MaxLocations = 16;

    /// <summary>Entries in one listing page.</summary>
    public const int MaxListLimit = 10_000;

    /// <summary>Results kept per client for exactly-once retries: sequences older than highest - window are forgotten.</summary>
    public const ulong SessionWindow = 1024;
}
